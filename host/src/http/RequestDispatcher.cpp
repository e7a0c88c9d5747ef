#include "http/RequestDispatcher.h"

#include "core/Logging.h"

#include "yieldhost/HostAccess.h"
#include "yieldhost/Idempotency.h"
#include "yieldhost/Services.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost {

namespace {

QByteArray mimeOf(const QByteArray &contentType)
{
    return contentType.split(';').first().trimmed().toLower();
}

bool isJsonType(const QByteArray &contentType)
{
    const QByteArray mime = mimeOf(contentType);
    return mime == "application/json" || mime.endsWith("+json");
}

} // namespace

QCoro::Task<RequestDispatcher::Result> RequestDispatcher::dispatch(HttpRequest request)
{
    const Route *matched = nullptr;
    if (Verdict answer = route(request, matched))
        co_return Result{std::move(*answer), "unmatched"};
    const Route &r = *matched;
    QByteArray label = r.pattern().toUtf8();
    if (Verdict answer = parseJson(request))
        co_return Result{std::move(*answer), std::move(label)};
    if (Verdict answer = checkContentType(request, r))
        co_return Result{std::move(*answer), std::move(label)};
    if (r.authLevel() != AuthLevel::Public) { // public routes skip the stage without a coroutine frame
        if (Verdict answer = co_await authenticate(request, r))
            co_return Result{std::move(*answer), std::move(label)};
    }
    if (r.isIdempotent()) {
        if (Verdict answer = checkIdempotencyKey(request))
            co_return Result{std::move(*answer), std::move(label)};
    }
    // call → map exceptions, in this frame: a coroutine of its own would cost an allocation on
    // every request.
    std::exception_ptr failure;
    try {
        HttpResponse response = co_await r.handler()(std::move(request));
        co_return Result{std::move(response), std::move(label)};
    } catch (...) {
        failure = std::current_exception();
    }
    co_return Result{mapException(r, failure), std::move(label)};
}

RequestDispatcher::Verdict RequestDispatcher::route(HttpRequest &request, const Route *&matched) const
{
    Router::Match match = m_router.match(request.method(), request.path());
    if (match.route) {
        matched = match.route;
        HttpRequestWriter::setPathParams(request, std::move(match.params));
        return std::nullopt;
    }
    if (match.allowedMethods.isEmpty())
        return Problem::notFound(QStringLiteral("No route matches %1.").arg(request.path())).toResponse();
    HttpResponse r = Problem::make(405)
                         .type(QStringLiteral("method-not-allowed"))
                         .title(QStringLiteral("Method not allowed"))
                         .detail(QStringLiteral("%1 is not allowed on %2; allowed: %3")
                                     .arg(QString::fromLatin1(methodName(request.method())), request.path(),
                                          QString::fromLatin1(match.allowedMethods.join(", "))))
                         .toResponse();
    r.addHeader("Allow", match.allowedMethods.join(", "));
    return r;
}

RequestDispatcher::Verdict RequestDispatcher::parseJson(HttpRequest &request)
{
    if (request.body().isEmpty() || !isJsonType(request.header("content-type")))
        return std::nullopt;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &error);
    if (error.error != QJsonParseError::NoError) {
        return Problem::make(400)
            .type(QStringLiteral("malformed-json"))
            .title(QStringLiteral("Malformed JSON"))
            .detail(QStringLiteral("The body is not valid JSON: %1 at offset %2.").arg(error.errorString()).arg(error.offset))
            .toResponse();
    }
    HttpRequestWriter::setJson(request, doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array()));
    return std::nullopt;
}

RequestDispatcher::Verdict RequestDispatcher::checkContentType(const HttpRequest &request, const Route &route)
{
    if (request.body().isEmpty())
        return std::nullopt;
    const QByteArray contentType = request.header("content-type");
    if (isJsonType(contentType) || route.acceptedTypes().contains(mimeOf(contentType)))
        return std::nullopt;
    QByteArrayList accepted = route.acceptedTypes();
    accepted.prepend("application/json");
    return Problem::make(415)
        .type(QStringLiteral("unsupported-media-type"))
        .title(QStringLiteral("Unsupported media type"))
        .detail(QStringLiteral("Content-Type \"%1\" is not accepted here; send %2.")
                    .arg(QString::fromLatin1(contentType), QString::fromLatin1(accepted.join(" or "))))
        .toResponse();
}

RequestDispatcher::Verdict RequestDispatcher::checkIdempotencyKey(const HttpRequest &request)
{
    Problem problem;
    if (IdempotencyKey::fromRequest(request, &problem))
        return std::nullopt;
    return problem.toResponse();
}

QCoro::Task<RequestDispatcher::Verdict> RequestDispatcher::authenticate(HttpRequest &request, const Route &route) const
{
    auto unauthorized = [](const QString &detail) {
        HttpResponse r = Problem::unauthorized(detail).toResponse();
        r.addHeader("WWW-Authenticate", "Bearer realm=\"yieldhost\"");
        return r;
    };
    auto *authenticator = static_cast<Authenticator *>(m_services.find(Authenticator::ServiceId));
    if (!authenticator)
        co_return unauthorized(QStringLiteral("This route needs authentication and no authentication provider is loaded."));
    const QByteArray credentials = request.header("authorization");
    if (credentials.isEmpty())
        co_return unauthorized(QStringLiteral("Send an Authorization: Bearer <access token> header."));
    Authenticator::Outcome outcome = co_await authenticator->authenticate(credentials);
    if (outcome.unavailable)
        co_return Problem::unavailable(QStringLiteral("Credentials cannot be checked right now; try again shortly."), 5).toResponse();
    if (!outcome.user)
        co_return unauthorized(outcome.reason.isEmpty() ? QStringLiteral("The credentials are not valid.") : outcome.reason);
    if (route.authLevel() == AuthLevel::Staff && !outcome.user->isStaff)
        co_return Problem::forbidden(QStringLiteral("This route is for staff accounts only.")).toResponse();
    HttpRequestWriter::setUser(request, std::move(outcome.user));
    co_return std::nullopt;
}

HttpResponse RequestDispatcher::mapException(const Route &route, std::exception_ptr error)
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception &e) {
        qCCritical(lcHttp).noquote() << QStringLiteral("handler of %1 (plugin %2) threw: %3").arg(route.pattern(), route.owner(), QString::fromUtf8(e.what()));
    } catch (...) {
        qCCritical(lcHttp).noquote() << QStringLiteral("handler of %1 (plugin %2) threw an unknown exception").arg(route.pattern(), route.owner());
    }
    return Problem::make(500)
        .type(QStringLiteral("internal"))
        .title(QStringLiteral("Internal error"))
        .detail(QStringLiteral("The server failed to handle this request; it has been logged."))
        .toResponse();
}

} // namespace yieldhost
