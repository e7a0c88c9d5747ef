#include "yieldhost/Http.h"
#include "yieldhost/HostAccess.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost {

QByteArray methodName(HttpMethod method)
{
    switch (method) {
    case HttpMethod::Get: return QByteArrayLiteral("GET");
    case HttpMethod::Head: return QByteArrayLiteral("HEAD");
    case HttpMethod::Post: return QByteArrayLiteral("POST");
    case HttpMethod::Put: return QByteArrayLiteral("PUT");
    case HttpMethod::Patch: return QByteArrayLiteral("PATCH");
    case HttpMethod::Delete: return QByteArrayLiteral("DELETE");
    case HttpMethod::Options: return QByteArrayLiteral("OPTIONS");
    }
    return {};
}

std::optional<HttpMethod> methodFromName(QByteArrayView name)
{
    static constexpr HttpMethod all[] = {HttpMethod::Get, HttpMethod::Head, HttpMethod::Post, HttpMethod::Put,
                                         HttpMethod::Patch, HttpMethod::Delete, HttpMethod::Options};
    for (HttpMethod m : all) {
        if (methodName(m) == name)
            return m;
    }
    return std::nullopt;
}

class HttpRequestData : public QSharedData
{
public:
    HttpMethod method = HttpMethod::Get;
    QString path;
    QUrlQuery query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QJsonValue json = QJsonValue(QJsonValue::Undefined);
    QHash<QString, QString> pathParams;
    QHostAddress peer;
    QString requestId;
    std::optional<AuthenticatedUser> user;
};

HttpRequest::HttpRequest() : d(new HttpRequestData) {}
HttpRequest::HttpRequest(const HttpRequest &) = default;
HttpRequest &HttpRequest::operator=(const HttpRequest &) = default;
HttpRequest::~HttpRequest() = default;

HttpMethod HttpRequest::method() const { return d->method; }
QString HttpRequest::path() const { return d->path; }
const QUrlQuery &HttpRequest::query() const { return d->query; }
QString HttpRequest::queryItem(const QString &key) const { return d->query.queryItemValue(key, QUrl::FullyDecoded); }

QByteArray HttpRequest::header(QByteArrayView name) const
{
    for (const auto &[key, value] : d->headers) {
        if (name.compare(key, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

const QList<QPair<QByteArray, QByteArray>> &HttpRequest::headers() const { return d->headers; }
const QByteArray &HttpRequest::body() const { return d->body; }
QJsonValue HttpRequest::json() const { return d->json; }
QString HttpRequest::pathParam(const QString &name) const { return d->pathParams.value(name); }
QHostAddress HttpRequest::peerAddress() const { return d->peer; }
QString HttpRequest::requestId() const { return d->requestId; }
const std::optional<AuthenticatedUser> &HttpRequest::user() const { return d->user; }

void HttpRequestWriter::setMethod(HttpRequest &r, HttpMethod method) { r.d->method = method; }
void HttpRequestWriter::setPath(HttpRequest &r, const QString &path) { r.d->path = path; }
void HttpRequestWriter::setQuery(HttpRequest &r, const QUrlQuery &query) { r.d->query = query; }
void HttpRequestWriter::addHeader(HttpRequest &r, QByteArray lowerName, QByteArray value) { r.d->headers.append({std::move(lowerName), std::move(value)}); }
void HttpRequestWriter::setBody(HttpRequest &r, QByteArray body) { r.d->body = std::move(body); }
void HttpRequestWriter::setJson(HttpRequest &r, QJsonValue json) { r.d->json = std::move(json); }
void HttpRequestWriter::setPathParams(HttpRequest &r, QHash<QString, QString> params) { r.d->pathParams = std::move(params); }
void HttpRequestWriter::setPeerAddress(HttpRequest &r, const QHostAddress &address) { r.d->peer = address; }
void HttpRequestWriter::setRequestId(HttpRequest &r, const QString &id) { r.d->requestId = id; }
void HttpRequestWriter::setUser(HttpRequest &r, std::optional<AuthenticatedUser> user) { r.d->user = std::move(user); }

class HttpResponseData : public QSharedData
{
public:
    int status = 200;
    QByteArray body;
    QByteArray contentType;
    QList<QPair<QByteArray, QByteArray>> headers;
};

HttpResponse::HttpResponse(int status) : d(new HttpResponseData) { d->status = status; }
HttpResponse::HttpResponse(const HttpResponse &) = default;
HttpResponse &HttpResponse::operator=(const HttpResponse &) = default;
HttpResponse::~HttpResponse() = default;

HttpResponse HttpResponse::json(int status, const QJsonValue &body)
{
    HttpResponse r(status);
    const QByteArray bytes = body.isArray() ? QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact)
                                            : QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
    r.setBody(bytes, QByteArrayLiteral("application/json"));
    return r;
}

HttpResponse HttpResponse::text(int status, const QByteArray &body, const QByteArray &contentType)
{
    HttpResponse r(status);
    r.setBody(body, contentType);
    return r;
}

HttpResponse HttpResponse::noContent() { return HttpResponse(204); }

int HttpResponse::status() const { return d->status; }
const QByteArray &HttpResponse::body() const { return d->body; }
QByteArray HttpResponse::contentType() const { return d->contentType; }
const QList<QPair<QByteArray, QByteArray>> &HttpResponse::headers() const { return d->headers; }
HttpResponse &HttpResponse::setStatus(int status) { d->status = status; return *this; }
HttpResponse &HttpResponse::setBody(QByteArray body, QByteArray contentType)
{
    d->body = std::move(body);
    d->contentType = std::move(contentType);
    return *this;
}
HttpResponse &HttpResponse::addHeader(QByteArray name, QByteArray value)
{
    d->headers.append({std::move(name), std::move(value)});
    return *this;
}

HttpResponse Problem::toResponse() const
{
    QJsonObject o{{QStringLiteral("type"), QString(QStringLiteral("https://yieldhost.dev/problems/") + type)},
                  {QStringLiteral("title"), title},
                  {QStringLiteral("status"), status}};
    if (!detail.isEmpty())
        o.insert(QStringLiteral("detail"), detail);
    if (!errors.isEmpty()) {
        QJsonObject e;
        for (auto it = errors.cbegin(); it != errors.cend(); ++it)
            e.insert(it.key(), QJsonArray::fromStringList(it.value()));
        o.insert(QStringLiteral("errors"), e);
    }
    HttpResponse r(status);
    r.setBody(QJsonDocument(o).toJson(QJsonDocument::Compact), QByteArrayLiteral("application/problem+json"));
    if (retryAfterSeconds >= 0)
        r.addHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(retryAfterSeconds));
    return r;
}

Problem Problem::badRequest(const QString &detail) { return {400, QStringLiteral("bad-request"), QStringLiteral("Bad request"), detail, {}, -1}; }
Problem Problem::unauthorized(const QString &detail) { return {401, QStringLiteral("unauthorized"), QStringLiteral("Unauthorized"), detail, {}, -1}; }
Problem Problem::forbidden(const QString &detail) { return {403, QStringLiteral("forbidden"), QStringLiteral("Forbidden"), detail, {}, -1}; }
Problem Problem::notFound(const QString &detail) { return {404, QStringLiteral("not-found"), QStringLiteral("Not found"), detail, {}, -1}; }
Problem Problem::conflict(const QString &type, const QString &title, const QString &detail) { return {409, type, title, detail, {}, -1}; }
Problem Problem::validation(QMap<QString, QStringList> errors)
{
    return {422, QStringLiteral("validation"), QStringLiteral("Invalid values"),
            QStringLiteral("One or more fields are invalid."), std::move(errors), -1};
}
Problem Problem::unavailable(const QString &detail, int retryAfterSeconds)
{
    return {503, QStringLiteral("unavailable"), QStringLiteral("Service unavailable"), detail, {}, retryAfterSeconds};
}

RouteOptions::~RouteOptions() = default;

} // namespace yieldhost
