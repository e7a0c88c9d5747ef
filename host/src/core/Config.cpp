#include "core/Config.h"

#include "core/Logging.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>

// The resources live in a static library: register them explicitly so the linker keeps them.
static void initResources() { Q_INIT_RESOURCE(resources); }

namespace yieldhost {

namespace {

QJsonObject merged(QJsonObject base, const QJsonObject &over)
{
    for (auto it = over.begin(); it != over.end(); ++it) {
        if (it->isObject() && base.value(it.key()).isObject())
            base.insert(it.key(), merged(base.value(it.key()).toObject(), it->toObject()));
        else
            base.insert(it.key(), *it);
    }
    return base;
}

std::optional<QJsonValue> coerce(const QString &raw, const QJsonValue &like)
{
    if (like.isBool()) {
        const QString v = raw.trimmed().toLower();
        if (v == QLatin1String("1") || v == QLatin1String("true") || v == QLatin1String("yes") || v == QLatin1String("on"))
            return QJsonValue(true);
        if (v == QLatin1String("0") || v == QLatin1String("false") || v == QLatin1String("no") || v == QLatin1String("off"))
            return QJsonValue(false);
        return std::nullopt;
    }
    if (like.isDouble()) {
        bool ok = false;
        const qint64 n = raw.trimmed().toLongLong(&ok);
        return ok ? std::optional<QJsonValue>(QJsonValue(n)) : std::nullopt;
    }
    if (like.isArray()) // a list of names: "a,b" (empty for none)
        return QJsonValue(QJsonArray::fromStringList(raw.split(u',', Qt::SkipEmptyParts).replaceInStrings(QRegularExpression(QStringLiteral("^\\s+|\\s+$")), QString())));
    if (like.isObject())
        return std::nullopt;
    return QJsonValue(raw);
}

QJsonObject withValue(QJsonObject object, QStringList path, const QJsonValue &value)
{
    const QString head = path.takeFirst();
    if (path.isEmpty())
        object.insert(head, value);
    else
        object.insert(head, withValue(object.value(head).toObject(), path, value));
    return object;
}

QString typeName(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("a list");
    case QJsonValue::Object: return QStringLiteral("a section");
    default: return QStringLiteral("null");
    }
}

// A key the file sets must have the type of the built-in default it overrides: "1MB" where a
// number belongs would otherwise read as 0 and refuse every request body.
std::optional<QString> typeMismatch(const QJsonObject &defaults, const QJsonObject &given, const QString &path = {})
{
    for (auto it = given.begin(); it != given.end(); ++it) {
        const QString key = path.isEmpty() ? it.key() : path + u'.' + it.key();
        const QJsonValue expected = defaults.value(it.key());
        if (expected.isUndefined() || expected.isNull())
            continue; // a plugin's own section or a key the host does not know: the plugin checks it
        if (expected.isObject() && it.value().isObject()) {
            if (auto inner = typeMismatch(expected.toObject(), it.value().toObject(), key))
                return inner;
            continue;
        }
        const bool integer = expected.isDouble() && it.value().isDouble() && it.value().toDouble() == double(it.value().toInteger());
        if (expected.type() != it.value().type() || (expected.isDouble() && !integer))
            return QStringLiteral("\"%1\" must be %2%3, not %4")
                .arg(key, typeName(expected), expected.isDouble() ? QStringLiteral(" (an integer)") : QString(), typeName(it.value()));
    }
    return std::nullopt;
}

} // namespace

QJsonObject Config::builtInDefaults()
{
    initResources();
    QFile file(QStringLiteral(":/yieldhost/config/defaults.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("built-in defaults are missing from the binary");
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::optional<Config> Config::load(const QJsonObject &defaults, const QString &filePath,
                                   const QProcessEnvironment &environment, QString *error)
{
    Config config;
    config.m_root = defaults;

    if (!filePath.isEmpty()) {
        QFile file(filePath);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read config file %1: %2").arg(filePath, file.errorString());
            return std::nullopt;
        }
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
        if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
            *error = QStringLiteral("config file %1 is not a JSON object: %2 at offset %3")
                         .arg(filePath, parseError.errorString())
                         .arg(parseError.offset);
            return std::nullopt;
        }
        if (const auto mismatch = typeMismatch(defaults, doc.object())) {
            *error = QStringLiteral("config file %1: %2").arg(filePath, *mismatch);
            return std::nullopt;
        }
        config.m_root = merged(config.m_root, doc.object());
    }

    static const QLatin1String prefix("YIELDHOST_");
    // Typed by the built-in default only: a plugin's section is typed by its declaration, which
    // reports the variable's name itself.
    Config builtIn;
    builtIn.m_root = defaults;
    QStringList names = environment.keys();
    names.sort(); // deterministic when two variables name the same key
    for (const QString &name : std::as_const(names)) {
        if (!name.startsWith(prefix) || name.size() == prefix.size())
            continue;
        const QStringList path = name.mid(prefix.size()).toLower().split(QStringLiteral("__"), Qt::SkipEmptyParts);
        if (path.isEmpty())
            continue;
        const QJsonValue current = builtIn.value(path.join(u'.'));
        const QString raw = environment.value(name);
        QJsonValue value(raw);
        if (!current.isUndefined() && !current.isNull()) {
            const auto coerced = coerce(raw, current);
            if (!coerced) {
                *error = QStringLiteral("environment variable %1=\"%2\" is not a valid %3")
                             .arg(name, raw,
                                  current.isBool() ? QStringLiteral("boolean (1/0/true/false)")
                                  : current.isDouble() ? QStringLiteral("integer")
                                                       : QStringLiteral("value for a section"));
                return std::nullopt;
            }
            value = *coerced;
        }
        config.m_root = withValue(config.m_root, path, value);
        config.m_fromEnvironment.insert(path.join(u'.'), name);
    }
    if (const auto refused = config.nonPositiveLimit()) {
        *error = *refused;
        return std::nullopt;
    }
    return config;
}

std::optional<QString> Config::nonPositiveLimit() const
{
    // Sizes, counts and intervals where 0 or less would refuse everything or spin.
    static const char *const positive[] = {
        "http.max_body_bytes", "http.max_header_bytes", "http.header_timeout_ms", "http.body_timeout_ms", "http.idle_timeout_ms",
        "http.max_connections", "http.max_connections_per_address",
        "http.drain_timeout_ms", "db.pool_size", "jobs.default_concurrency", "jobs.claim_batch", "jobs.poll_interval_ms",
        "jobs.heartbeat_interval_ms", "jobs.worker_timeout_ms", "jobs.retry_base_ms", "jobs.retry_max_ms", "jobs.shutdown_timeout_ms",
        "jobs.beat_interval_ms", "jobs.metrics_refresh_ms", "jobs.retention_days", "websocket.max_message_bytes",
        "websocket.max_outgoing_bytes", "websocket.ping_interval_ms", "websocket.pong_timeout_ms"};
    for (const char *key : positive) {
        const QJsonValue v = value(QLatin1String(key));
        if (v.isDouble() && v.toInteger() <= 0)
            return QStringLiteral("%1 must be greater than 0 (got %2)").arg(QLatin1String(key)).arg(v.toInteger());
    }
    return std::nullopt;
}

void Config::set(const QString &dottedKey, const QJsonValue &value)
{
    m_root = withValue(m_root, dottedKey.split(u'.'), value);
}

QString Config::environmentVariable(const QString &dottedKey) const
{
    if (const auto it = m_fromEnvironment.constFind(dottedKey); it != m_fromEnvironment.cend())
        return *it;
    const QString beneath = dottedKey + u'.';
    for (auto it = m_fromEnvironment.cbegin(); it != m_fromEnvironment.cend(); ++it) {
        if (it.key().startsWith(beneath))
            return it.value();
    }
    return {};
}

QJsonValue Config::value(const QString &dottedKey) const
{
    const QStringList path = dottedKey.split(u'.');
    QJsonValue current = m_root;
    for (const QString &part : path) {
        if (!current.isObject())
            return QJsonValue(QJsonValue::Undefined);
        current = current.toObject().value(part);
    }
    return current;
}

} // namespace yieldhost
