#include "http/Router.h"

#include <QtCore/QJsonArray>
#include <QtCore/QSet>
#include <QtCore/QRegularExpression>

namespace yieldhost {

namespace {
bool isParam(const QString &segment) { return segment.size() > 2 && segment.startsWith(u'{') && segment.endsWith(u'}'); }

QString lowerMethod(HttpMethod m) { return QString::fromLatin1(methodName(m).toLower()); }
} // namespace

Route *Router::add(const QString &pluginId, HttpMethod method, const QString &pattern, HttpHandler handler, QString *error)
{
    static const QRegularExpression valid(QStringLiteral("^(/([A-Za-z0-9._~-]+|\\{[A-Za-z_][A-Za-z0-9_]*\\}))+/?$|^/$"));
    if (!valid.match(pattern).hasMatch()) {
        *error = QStringLiteral("route pattern \"%1\" is malformed (expected /segment/{param}/...)").arg(pattern);
        return nullptr;
    }
    for (const Route &r : m_routes) {
        if (r.m_method == method && r.m_pattern == pattern) {
            *error = QStringLiteral("route %1 %2 is already registered by plugin %3")
                         .arg(QString::fromLatin1(methodName(method)), pattern, r.m_owner);
            return nullptr;
        }
    }
    Route &route = m_routes.emplace_back();
    route.m_owner = pluginId;
    route.m_method = method;
    route.m_pattern = pattern;
    route.m_segments = pattern.split(u'/', Qt::SkipEmptyParts);
    route.m_hasParams = std::any_of(route.m_segments.cbegin(), route.m_segments.cend(), isParam);
    route.m_handler = std::move(handler);
    if (!route.m_hasParams)
        m_static[pattern].push_back(&route);
    return &route;
}

Router::Match Router::match(HttpMethod method, const QString &path) const
{
    Match result;
    const HttpMethod wanted = method == HttpMethod::Head ? HttpMethod::Get : method;
    auto consider = [&](const Route &r, QHash<QString, QString> params) {
        if (r.m_method == wanted) {
            if (!result.route) {
                result.route = &r;
                result.params = std::move(params);
            }
        } else {
            result.allowedMethods.append(methodName(r.m_method));
        }
    };

    if (auto it = m_static.constFind(path); it != m_static.constEnd()) {
        for (const Route *r : *it)
            consider(*r, {});
        if (result.route)
            return result;
    }

    const QStringList parts = path.split(u'/', Qt::SkipEmptyParts);
    for (const Route &r : m_routes) {
        if (!r.m_hasParams || r.m_segments.size() != parts.size())
            continue;
        QHash<QString, QString> params;
        bool ok = true;
        for (qsizetype i = 0; i < parts.size() && ok; ++i) {
            const QString &seg = r.m_segments.at(i);
            if (isParam(seg))
                params.insert(seg.mid(1, seg.size() - 2), parts.at(i));
            else
                ok = seg == parts.at(i);
        }
        if (ok)
            consider(r, std::move(params));
    }
    if (result.route)
        result.allowedMethods.clear();
    if (result.allowedMethods.contains("GET") && !result.allowedMethods.contains("HEAD"))
        result.allowedMethods.append("HEAD");
    return result;
}

bool Router::addWebSocket(const QString &pluginId, const QString &path, WebSocketHandler handler, QString *error)
{
    if (!path.startsWith(u'/')) {
        *error = QStringLiteral("WebSocket path \"%1\" must start with /").arg(path);
        return false;
    }
    if (m_webSockets.contains(path)) {
        *error = QStringLiteral("WebSocket path %1 is already registered").arg(path);
        return false;
    }
    m_webSockets.insert(path, WebSocketEndpoint{pluginId, std::move(handler)});
    return true;
}

const WebSocketHandler *Router::webSocket(const QString &path) const
{
    auto it = m_webSockets.constFind(path);
    return it == m_webSockets.constEnd() ? nullptr : &it->handler;
}

void Router::removeOwner(const QString &owner)
{
    m_webSockets.removeIf([&owner](const auto &it) { return it.value().owner == owner; });
    const auto removed = std::remove_if(m_routes.begin(), m_routes.end(), [&owner](const Route &r) { return r.m_owner == owner; });
    if (removed == m_routes.end())
        return;
    m_routes.erase(removed, m_routes.end());
    // Erasing from the middle of the deque moved routes: index them again.
    m_static.clear();
    for (const Route &r : m_routes) {
        if (!r.m_hasParams)
            m_static[r.m_pattern].push_back(&r);
    }
}

namespace {

// "GET /api/v1/admin/jobs/{id}/retry" -> "getApiV1AdminJobsIdRetry": unique per method and path.
QString derivedOperationId(HttpMethod method, const QStringList &segments)
{
    QString id = lowerMethod(method);
    for (const QString &segment : segments) {
        bool upper = true;
        for (const QChar c : segment) {
            if (!c.isLetterOrNumber()) {
                upper = true;
                continue;
            }
            id.append(upper ? c.toUpper() : c);
            upper = false;
        }
    }
    return id;
}

QJsonObject problemResponse(const QString &description)
{
    return QJsonObject{{QStringLiteral("description"), description},
                       {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/problem+json"),
                           QJsonObject{{QStringLiteral("schema"), QJsonObject{{QStringLiteral("$ref"), QStringLiteral("#/components/schemas/Problem")}}}}}}}};
}

// RFC 9457 problem details, as every error of this API is sent.
QJsonObject problemSchema()
{
    auto type = [](const char *t) { return QJsonObject{{QStringLiteral("type"), QLatin1String(t)}}; };
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("type"), QStringLiteral("title"), QStringLiteral("status")}},
        {QStringLiteral("properties"), QJsonObject{
            {QStringLiteral("type"), type("string")},
            {QStringLiteral("title"), type("string")},
            {QStringLiteral("status"), type("integer")},
            {QStringLiteral("detail"), type("string")},
            {QStringLiteral("errors"), QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                                   {QStringLiteral("additionalProperties"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                                                                        {QStringLiteral("items"), type("string")}}}}},
        }},
    };
}

} // namespace

QJsonObject Router::openApi(const QString &title, const QString &version) const
{
    QJsonObject paths;
    QStringList owners;
    QSet<QString> operationIds;
    for (const Route &r : m_routes) {
        QJsonObject op = r.m_openapi;
        if (!op.contains(QLatin1String("summary")))
            op.insert(QStringLiteral("summary"), r.m_summary.isEmpty() ? QStringLiteral("%1 %2").arg(QString::fromLatin1(methodName(r.m_method)), r.m_pattern) : r.m_summary);
        // Unique across the document (client generators name methods after it): a derived id
        // that meets another route's (e.g. "/a/{id}" and "/a/id") gets a numbered suffix.
        QString base = op.value(QLatin1String("operationId")).toString();
        if (base.isEmpty())
            base = derivedOperationId(r.m_method, r.m_segments);
        QString operationId = base;
        for (int n = 2; operationIds.contains(operationId); ++n)
            operationId = base + QString::number(n);
        operationIds.insert(operationId);
        op.insert(QStringLiteral("operationId"), operationId);
        op.insert(QStringLiteral("tags"), QJsonArray{r.m_owner});
        if (!owners.contains(r.m_owner))
            owners.append(r.m_owner);
        if (!op.contains(QLatin1String("parameters")) && r.m_hasParams) {
            QJsonArray params;
            for (const QString &seg : r.m_segments) {
                if (isParam(seg))
                    params.append(QJsonObject{{QStringLiteral("name"), seg.mid(1, seg.size() - 2)},
                                              {QStringLiteral("in"), QStringLiteral("path")},
                                              {QStringLiteral("required"), true},
                                              {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}});
            }
            op.insert(QStringLiteral("parameters"), params);
        }
        if (r.m_idempotent) {
            QJsonArray params = op.value(QLatin1String("parameters")).toArray();
            params.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("Idempotency-Key")},
                                      {QStringLiteral("in"), QStringLiteral("header")},
                                      {QStringLiteral("required"), true},
                                      {QStringLiteral("description"), QStringLiteral("1-255 printable ASCII characters, per user. A repeat with the same key and body "
                                                                                     "gets the first reply and moves no money again; the same key with another body is 422.")},
                                      {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                                                             {QStringLiteral("minLength"), 1},
                                                                             {QStringLiteral("maxLength"), 255}}}});
            op.insert(QStringLiteral("parameters"), params);
        }
        QJsonObject responses = op.value(QLatin1String("responses")).toObject();
        // A route that does not describe its success says only that it succeeds with some 2xx.
        const QStringList codes = responses.keys();
        if (std::none_of(codes.cbegin(), codes.cend(), [](const QString &code) { return code.startsWith(u'2'); }))
            responses.insert(QStringLiteral("2XX"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Success")}});
        // Any error, including those the route's handler sends (404, 409, 422, 503 ...), is a problem.
        if (!responses.contains(QLatin1String("default")))
            responses.insert(QStringLiteral("default"), problemResponse(QStringLiteral("An error, as RFC 9457 problem details")));
        // What the host itself answers before (or instead of) the handler.
        auto addProblem = [&responses](const char *status, const char *description) {
            if (!responses.contains(QLatin1String(status)))
                responses.insert(QLatin1String(status), problemResponse(QString::fromLatin1(description)));
        };
        if (r.m_method == HttpMethod::Post || r.m_method == HttpMethod::Put || r.m_method == HttpMethod::Patch) {
            addProblem("400", "The body is not valid JSON");
            addProblem("413", "The body is larger than the server accepts");
            addProblem("415", "The body's content type is not accepted");
        }
        if (r.m_idempotent) {
            addProblem("400", "The Idempotency-Key header is missing or malformed");
            addProblem("422", "The Idempotency-Key was already used for a different request");
        }
        if (r.m_auth != AuthLevel::Public)
            addProblem("401", "No valid access token was sent");
        if (r.m_auth == AuthLevel::Staff)
            addProblem("403", "The caller is not a staff account");
        addProblem("431", "The request's header fields are larger than the server accepts");
        op.insert(QStringLiteral("responses"), responses);
        op.insert(QStringLiteral("security"), r.m_auth == AuthLevel::Public ? QJsonArray{}
                                                                             : QJsonArray{QJsonObject{{QStringLiteral("bearer"), QJsonArray{}}}});
        QJsonObject item = paths.value(r.m_pattern).toObject();
        item.insert(lowerMethod(r.m_method), op);
        paths.insert(r.m_pattern, item);
    }
    std::sort(owners.begin(), owners.end());
    QJsonArray tags;
    for (const QString &owner : std::as_const(owners))
        tags.append(QJsonObject{{QStringLiteral("name"), owner},
                                {QStringLiteral("description"), owner == QLatin1String("host")
                                                                    ? QStringLiteral("The host's own routes: health, readiness, metrics, plugins, jobs")
                                                                    : QStringLiteral("Routes of the %1 plugin").arg(owner)}});
    return QJsonObject{
        {QStringLiteral("openapi"), QStringLiteral("3.1.0")},
        {QStringLiteral("info"), QJsonObject{{QStringLiteral("title"), title},
                                             {QStringLiteral("version"), version},
                                             {QStringLiteral("description"), QStringLiteral("Every REST route of this host and its plugins.")},
                                             {QStringLiteral("license"), QJsonObject{{QStringLiteral("name"), QStringLiteral("Apache-2.0")},
                                                                                     {QStringLiteral("identifier"), QStringLiteral("Apache-2.0")}}}}},
        // Relative: the document describes the server that serves it, whatever its address.
        {QStringLiteral("servers"), QJsonArray{QJsonObject{{QStringLiteral("url"), QStringLiteral("/")},
                                                           {QStringLiteral("description"), QStringLiteral("This host")}}}},
        {QStringLiteral("tags"), tags},
        {QStringLiteral("paths"), paths},
        {QStringLiteral("components"), QJsonObject{
            {QStringLiteral("schemas"), QJsonObject{{QStringLiteral("Problem"), problemSchema()}}},
            {QStringLiteral("securitySchemes"),
            QJsonObject{{QStringLiteral("bearer"), QJsonObject{{QStringLiteral("type"), QStringLiteral("http")},
                                                             {QStringLiteral("scheme"), QStringLiteral("bearer")},
                                                             {QStringLiteral("bearerFormat"), QStringLiteral("JWT")}}}}}}},
    };
}

} // namespace yieldhost
