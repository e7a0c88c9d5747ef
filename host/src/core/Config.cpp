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
        config.m_root = merged(config.m_root, doc.object());
    }

    static const QLatin1String prefix("YIELDHOST_");
    QStringList names = environment.keys();
    names.sort(); // deterministic when two variables name the same key
    for (const QString &name : std::as_const(names)) {
        if (!name.startsWith(prefix) || name.size() == prefix.size())
            continue;
        const QStringList path = name.mid(prefix.size()).toLower().split(QStringLiteral("__"), Qt::SkipEmptyParts);
        if (path.isEmpty())
            continue;
        const QJsonValue current = config.value(path.join(u'.'));
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
    }
    return config;
}

void Config::set(const QString &dottedKey, const QJsonValue &value)
{
    m_root = withValue(m_root, dottedKey.split(u'.'), value);
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
