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

Problem Problem::badRequest(const QString &detail) { return make(400).detail(detail); }
Problem Problem::unauthorized(const QString &detail) { return make(401).detail(detail); }
Problem Problem::forbidden(const QString &detail) { return make(403).detail(detail); }
Problem Problem::notFound(const QString &detail) { return make(404).detail(detail); }
Problem Problem::conflict(const QString &type, const QString &title, const QString &detail)
{
    return make(409).type(type).title(title).detail(detail);
}
Problem Problem::validation(QMap<QString, QStringList> errors)
{
    return make(422).detail(QStringLiteral("One or more fields are invalid.")).fields(errors);
}
Problem Problem::unavailable(const QString &detail, int retryAfterSeconds)
{
    return make(503).detail(detail).retryAfter(retryAfterSeconds);
}

ProblemBuilder Problem::make(int status) { return ProblemBuilder(status); }

namespace {

struct GenericProblem
{
    int status;
    const char *type;
    const char *title;
};

// The type and title a problem starts with; the slugs the host and the factories have always used.
constexpr GenericProblem kGenericProblems[] = {
    {400, "bad-request", "Bad request"},
    {401, "unauthorized", "Unauthorized"},
    {403, "forbidden", "Forbidden"},
    {404, "not-found", "Not found"},
    {405, "method-not-allowed", "Method not allowed"},
    {408, "request-timeout", "Request timeout"},
    {409, "conflict", "Conflict"},
    {413, "body-too-large", "Content too large"},
    {415, "unsupported-media-type", "Unsupported media type"},
    {422, "validation", "Invalid values"},
    {429, "too-many-requests", "Too many requests"},
    {431, "headers-too-large", "Request header fields too large"},
    {500, "internal", "Internal error"},
    {501, "not-implemented", "Not implemented"},
    {503, "unavailable", "Service unavailable"},
};

} // namespace

ProblemBuilder::ProblemBuilder(int status)
{
    m_problem.status = status;
    m_problem.type = QStringLiteral("error");
    m_problem.title = QStringLiteral("Error");
    for (const GenericProblem &generic : kGenericProblems) {
        if (generic.status == status) {
            m_problem.type = QLatin1StringView(generic.type);
            m_problem.title = QLatin1StringView(generic.title);
            break;
        }
    }
}

ProblemBuilder &ProblemBuilder::status(int status)
{
    m_problem.status = status;
    return *this;
}

ProblemBuilder &ProblemBuilder::type(const QString &slug)
{
    m_problem.type = slug;
    return *this;
}

ProblemBuilder &ProblemBuilder::title(const QString &title)
{
    m_problem.title = title;
    return *this;
}

ProblemBuilder &ProblemBuilder::detail(const QString &detail)
{
    m_problem.detail = detail;
    return *this;
}

ProblemBuilder &ProblemBuilder::field(const QString &name, const QString &message)
{
    m_problem.errors[name].append(message);
    return *this;
}

ProblemBuilder &ProblemBuilder::fields(const QMap<QString, QStringList> &errors)
{
    for (auto it = errors.cbegin(); it != errors.cend(); ++it)
        m_problem.errors[it.key()].append(it.value());
    return *this;
}

ProblemBuilder &ProblemBuilder::retryAfter(int seconds)
{
    m_problem.retryAfterSeconds = seconds < 0 ? -1 : seconds;
    return *this;
}

HttpResponse ProblemBuilder::toResponse() const { return m_problem.toResponse(); }

RouteOptions::~RouteOptions() = default;

} // namespace yieldhost
