#include "RequestDispatcher.h"

#include "HostServices.h"
#include "Logging.h"

#include "yieldhost/Services.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost {

namespace {

bool isJsonType(const QByteArray &contentType)
{
    const QByteArray mime = contentType.split(';').first().trimmed().toLower();
    return mime == "application/json" || mime.endsWith("+json");
}

bool acceptsType(const QByteArrayList &accepted, const QByteArray &contentType)
{
    const QByteArray mime = contentType.split(';').first().trimmed().toLower();
    return accepted.contains(mime);
}

} // namespace

QCoro::Task<RequestDispatcher::Result> RequestDispatcher::dispatch(HttpRequest request)
{
    const Router::Match match = m_services.router.match(request.method(), request.path());
    if (!match.route) {
        if (!match.allowedMethods.isEmpty()) {
            HttpResponse r = Problem{405, QStringLiteral("method-not-allowed"), QStringLiteral("Method not allowed"),
                                     QStringLiteral("%1 is not allowed on %2; allowed: %3")
                                         .arg(QString::fromLatin1(methodName(request.method())), request.path(),
                                              QString::fromLatin1(match.allowedMethods.join(", "))),
                                     {}, -1}
                                 .toResponse();
            r.addHeader("Allow", match.allowedMethods.join(", "));
            co_return Result{r, "unmatched"};
        }
        co_return Result{Problem::notFound(QStringLiteral("No route matches %1.").arg(request.path())).toResponse(), "unmatched"};
    }
    const Route &route = *match.route;
    const QByteArray label = route.pattern.toUtf8();
    request.setPathParams(match.params);

    if (!request.body().isEmpty()) {
        const QByteArray contentType = request.header("content-type");
        if (isJsonType(contentType)) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &error);
            if (error.error != QJsonParseError::NoError) {
                co_return Result{Problem{400, QStringLiteral("malformed-json"), QStringLiteral("Malformed JSON"),
                                         QStringLiteral("The body is not valid JSON: %1 at offset %2.")
                                             .arg(error.errorString())
                                             .arg(error.offset),
                                         {}, -1}
                                     .toResponse(),
                                 label};
            }
            request.setJson(doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array()));
        } else if (!acceptsType(route.m_accepts, contentType)) {
            QByteArrayList accepted = route.m_accepts;
            accepted.prepend("application/json");
            co_return Result{Problem{415, QStringLiteral("unsupported-media-type"), QStringLiteral("Unsupported media type"),
                                     QStringLiteral("Content-Type \"%1\" is not accepted here; send %2.")
                                         .arg(QString::fromLatin1(contentType), QString::fromLatin1(accepted.join(" or "))),
                                     {}, -1}
                                 .toResponse(),
                             label};
        }
    }

    if (route.m_auth != AuthLevel::Public) {
        auto *authenticator = static_cast<Authenticator *>(m_services.services.find(Authenticator::ServiceId));
        const QByteArray credentials = request.header("authorization");
        auto unauthorized = [&](const QString &detail) {
            HttpResponse r = Problem::unauthorized(detail).toResponse();
            r.addHeader("WWW-Authenticate", "Bearer realm=\"yieldhost\"");
            return Result{r, label};
        };
        if (!authenticator)
            co_return unauthorized(QStringLiteral("This route needs authentication and no authentication provider is loaded."));
        if (credentials.isEmpty())
            co_return unauthorized(QStringLiteral("Send an Authorization: Bearer <access token> header."));
        Authenticator::Outcome outcome = co_await authenticator->authenticate(credentials);
        if (outcome.unavailable)
            co_return Result{Problem::unavailable(QStringLiteral("Credentials cannot be checked right now; try again shortly."), 5).toResponse(), label};
        if (!outcome.user)
            co_return unauthorized(outcome.reason.isEmpty() ? QStringLiteral("The credentials are not valid.") : outcome.reason);
        if (route.m_auth == AuthLevel::Staff && !outcome.user->isStaff)
            co_return Result{Problem::forbidden(QStringLiteral("This route is for staff accounts only.")).toResponse(), label};
        request.setUser(std::move(outcome.user));
    }

    try {
        HttpResponse response = co_await route.handler(std::move(request));
        co_return Result{std::move(response), label};
    } catch (const std::exception &e) {
        qCCritical(lcHttp).noquote() << QStringLiteral("handler of %1 (plugin %2) threw: %3")
                                            .arg(route.pattern, route.pluginId, QString::fromUtf8(e.what()));
    } catch (...) {
        qCCritical(lcHttp).noquote() << QStringLiteral("handler of %1 (plugin %2) threw an unknown exception")
                                            .arg(route.pattern, route.pluginId);
    }
    co_return Result{Problem{500, QStringLiteral("internal"), QStringLiteral("Internal error"),
                             QStringLiteral("The server failed to handle this request; it has been logged."), {}, -1}
                         .toResponse(),
                     label};
}

} // namespace yieldhost
