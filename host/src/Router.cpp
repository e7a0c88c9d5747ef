#include "Router.h"

#include <QtCore/QJsonArray>
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
        if (r.method == method && r.pattern == pattern) {
            *error = QStringLiteral("route %1 %2 is already registered by plugin %3")
                         .arg(QString::fromLatin1(methodName(method)), pattern, r.pluginId);
            return nullptr;
        }
    }
    Route &route = m_routes.emplace_back();
    route.pluginId = pluginId;
    route.method = method;
    route.pattern = pattern;
    route.segments = pattern.split(u'/', Qt::SkipEmptyParts);
    route.hasParams = std::any_of(route.segments.cbegin(), route.segments.cend(), isParam);
    route.handler = std::move(handler);
    if (!route.hasParams)
        m_static[pattern].push_back(&route);
    return &route;
}

Router::Match Router::match(HttpMethod method, const QString &path) const
{
    Match result;
    const HttpMethod wanted = method == HttpMethod::Head ? HttpMethod::Get : method;
    auto consider = [&](const Route &r, QHash<QString, QString> params) {
        if (r.method == wanted) {
            if (!result.route) {
                result.route = &r;
                result.params = std::move(params);
            }
        } else {
            result.allowedMethods.append(methodName(r.method));
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
        if (!r.hasParams || r.segments.size() != parts.size())
            continue;
        QHash<QString, QString> params;
        bool ok = true;
        for (qsizetype i = 0; i < parts.size() && ok; ++i) {
            const QString &seg = r.segments.at(i);
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
    Q_UNUSED(pluginId);
    m_webSockets.insert(path, std::move(handler));
    return true;
}

const WebSocketHandler *Router::webSocket(const QString &path) const
{
    auto it = m_webSockets.constFind(path);
    return it == m_webSockets.constEnd() ? nullptr : &*it;
}

QJsonObject Router::openApi(const QString &title, const QString &version) const
{
    QJsonObject paths;
    for (const Route &r : m_routes) {
        QJsonObject op = r.m_openapi;
        if (!op.contains(QLatin1String("summary")) && !r.m_summary.isEmpty())
            op.insert(QStringLiteral("summary"), r.m_summary);
        op.insert(QStringLiteral("tags"), QJsonArray{r.pluginId});
        if (!op.contains(QLatin1String("parameters")) && r.hasParams) {
            QJsonArray params;
            for (const QString &seg : r.segments) {
                if (isParam(seg))
                    params.append(QJsonObject{{QStringLiteral("name"), seg.mid(1, seg.size() - 2)},
                                              {QStringLiteral("in"), QStringLiteral("path")},
                                              {QStringLiteral("required"), true},
                                              {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}});
            }
            op.insert(QStringLiteral("parameters"), params);
        }
        if (!op.contains(QLatin1String("responses")))
            op.insert(QStringLiteral("responses"), QJsonObject{{QStringLiteral("default"), QJsonObject{{QStringLiteral("description"), QStringLiteral("See the API reference")}}}});
        if (r.m_auth != AuthLevel::Public)
            op.insert(QStringLiteral("security"), QJsonArray{QJsonObject{{QStringLiteral("bearer"), QJsonArray{}}}});
        QJsonObject item = paths.value(r.pattern).toObject();
        item.insert(lowerMethod(r.method), op);
        paths.insert(r.pattern, item);
    }
    return QJsonObject{
        {QStringLiteral("openapi"), QStringLiteral("3.1.0")},
        {QStringLiteral("info"), QJsonObject{{QStringLiteral("title"), title}, {QStringLiteral("version"), version}}},
        {QStringLiteral("paths"), paths},
        {QStringLiteral("components"), QJsonObject{{QStringLiteral("securitySchemes"),
            QJsonObject{{QStringLiteral("bearer"), QJsonObject{{QStringLiteral("type"), QStringLiteral("http")},
                                                             {QStringLiteral("scheme"), QStringLiteral("bearer")},
                                                             {QStringLiteral("bearerFormat"), QStringLiteral("JWT")}}}}}}},
    };
}

} // namespace yieldhost
