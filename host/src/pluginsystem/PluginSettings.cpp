#include "pluginsystem/PluginSettings.h"

#include "yieldhost/Decimal.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>

#include <limits>

namespace yieldhost {

namespace {

const QHash<QString, PluginSettings::Type> &typeNames()
{
    static const QHash<QString, PluginSettings::Type> names{
        {QStringLiteral("string"), PluginSettings::Type::String},   {QStringLiteral("integer"), PluginSettings::Type::Integer},
        {QStringLiteral("boolean"), PluginSettings::Type::Boolean}, {QStringLiteral("decimal"), PluginSettings::Type::Decimal},
        {QStringLiteral("list"), PluginSettings::Type::List}};
    return names;
}

// A JSON value as a config file would spell it, for an error line.
QString shown(const QJsonValue &value)
{
    if (value.isString())
        return u'"' + value.toString() + u'"';
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

// A number that is a whole qint64 (1e3 is, 1.5 and 1e30 are not).
std::optional<qint64> wholeNumber(const QJsonValue &value)
{
    const double d = value.toDouble();
    if (d < -9.2e18 || d > 9.2e18 || d != double(qint64(d)))
        return std::nullopt;
    return qint64(d);
}

} // namespace

std::optional<PluginSettings> PluginSettings::declared(const QJsonObject &metadata, QString *error)
{
    PluginSettings result;
    const QJsonValue declaration = metadata.value(QLatin1String("settings"));
    if (declaration.isUndefined())
        return result;
    if (!declaration.isObject()) {
        *error = QStringLiteral("its plugin.json \"settings\" must be an object of setting declarations");
        return std::nullopt;
    }
    result.m_declared = true;
    static const QRegularExpression keyRe(QStringLiteral("^[a-z][a-z0-9_]*$"));
    const QJsonObject settings = declaration.toObject();
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        const QString where = QStringLiteral("its plugin.json setting \"%1\"").arg(it.key());
        // Environment names are upper-cased and "__" separates levels: only such keys round-trip.
        if (!keyRe.match(it.key()).hasMatch() || it.key().contains(QLatin1String("__"))) {
            *error = QStringLiteral("%1: a setting's name is lower-case letters, digits and single underscores").arg(where);
            return std::nullopt;
        }
        const QJsonObject d = it->toObject();
        Setting s;
        s.key = it.key();
        const QString type = d.value(QLatin1String("type")).toString();
        if (!typeNames().contains(type)) {
            *error = QStringLiteral("%1 has type \"%2\"; the types are boolean, decimal, integer, list and string").arg(where, type);
            return std::nullopt;
        }
        s.type = typeNames().value(type);
        s.secret = d.value(QLatin1String("secret")).toBool();
        s.required = d.value(QLatin1String("required")).toBool();
        for (const char *bound : {"min", "max"}) {
            const QJsonValue b = d.value(QLatin1String(bound));
            if (b.isUndefined())
                continue;
            const auto n = b.isDouble() ? wholeNumber(b) : std::nullopt;
            if (s.type != Type::Integer || !n) {
                *error = QStringLiteral("%1: \"%2\" is for integer settings and must be a whole number").arg(where, QLatin1String(bound));
                return std::nullopt;
            }
            (qstrcmp(bound, "min") == 0 ? s.min : s.max) = n;
        }
        if (s.min && s.max && *s.min > *s.max) {
            *error = QStringLiteral("%1: \"min\" is greater than \"max\"").arg(where);
            return std::nullopt;
        }
        s.defaultValue = d.value(QLatin1String("default"));
        if (!s.defaultValue.isUndefined()) {
            QJsonValue typed;
            if (const auto wrong = convert(s, s.defaultValue, &typed)) {
                *error = QStringLiteral("%1: its default %2").arg(where, *wrong);
                return std::nullopt;
            }
            s.defaultValue = typed;
        }
        result.m_settings.push_back(std::move(s));
    }
    return result;
}

QString PluginSettings::expectation(const Setting &setting)
{
    switch (setting.type) {
    case Type::String: return QStringLiteral("must be a string");
    case Type::Boolean: return QStringLiteral("must be a boolean (true/false, 1/0, yes/no, on/off)");
    case Type::Decimal: return QStringLiteral("must be a decimal number such as \"12.50\"");
    case Type::List: return QStringLiteral("must be a list (a JSON array of strings, or \"a,b\" in the environment)");
    case Type::Integer:
        if (setting.min && setting.max)
            return QStringLiteral("must be an integer from %1 to %2").arg(*setting.min).arg(*setting.max);
        if (setting.min)
            return QStringLiteral("must be an integer of at least %1").arg(*setting.min);
        if (setting.max)
            return QStringLiteral("must be an integer of at most %1").arg(*setting.max);
        return QStringLiteral("must be an integer");
    }
    return {};
}

std::optional<QString> PluginSettings::convert(const Setting &setting, const QJsonValue &value, QJsonValue *typed)
{
    // Text — from the environment, or written as a string in the file — is read in the
    // declared type; a JSON value of the file must already have it.
    const bool text = value.isString();
    const QString raw = value.toString().trimmed();
    const QString hidden = setting.secret ? QStringLiteral("not the value given (hidden: it is a secret)") : QStringLiteral("not %1").arg(shown(value));
    const auto refused = [&] { return QStringLiteral("%1, %2").arg(expectation(setting), hidden); };
    switch (setting.type) {
    case Type::String:
        if (!text)
            return refused();
        *typed = value;
        return std::nullopt;
    case Type::Boolean: {
        if (value.isBool()) {
            *typed = value;
            return std::nullopt;
        }
        const QString v = raw.toLower();
        if (text && (v == QLatin1String("1") || v == QLatin1String("true") || v == QLatin1String("yes") || v == QLatin1String("on")))
            *typed = true;
        else if (text && (v == QLatin1String("0") || v == QLatin1String("false") || v == QLatin1String("no") || v == QLatin1String("off")))
            *typed = false;
        else
            return refused();
        return std::nullopt;
    }
    case Type::Integer: {
        std::optional<qint64> n;
        if (value.isDouble()) {
            n = wholeNumber(value);
        } else if (text) {
            bool ok = false;
            const qint64 parsed = raw.toLongLong(&ok);
            if (ok)
                n = parsed;
        }
        if (!n || (setting.min && *n < *setting.min) || (setting.max && *n > *setting.max))
            return refused();
        *typed = *n;
        return std::nullopt;
    }
    case Type::Decimal: {
        // A JSON number is already a double (0.1 is not 0.1 there): exact values come as text.
        if (!text || !Decimal::fromString(raw))
            return refused();
        *typed = raw;
        return std::nullopt;
    }
    case Type::List: {
        QJsonArray items;
        if (value.isArray()) {
            for (const QJsonValue &item : value.toArray()) {
                if (!item.isString())
                    return refused();
                items.append(item);
            }
        } else if (text) {
            for (const QString &item : raw.split(u',', Qt::SkipEmptyParts))
                items.append(item.trimmed());
        } else {
            return refused();
        }
        *typed = items;
        return std::nullopt;
    }
    }
    return refused();
}

std::optional<Settings> PluginSettings::resolve(const QString &pluginId, const Config &config, QString *error) const
{
    const QJsonObject section = config.section(pluginId);
    // Who set a key, for the error line: the variable, or the key in the config file.
    const auto source = [&](const QString &key) {
        const QString variable = config.environmentVariable(pluginId + u'.' + key);
        return variable.isEmpty() ? QStringLiteral("%1.%2 in the config file").arg(pluginId, key) : variable;
    };
    if (!m_declared)
        return Settings(section);

    QStringList known;
    for (const Setting &s : m_settings)
        known.append(s.key);
    known.sort();
    QStringList keys = section.keys(); // sorted: the first wrong key is the same on every run
    for (const QString &key : std::as_const(keys)) {
        if (!known.contains(key)) {
            *error = QStringLiteral("%1: the %2 plugin has no setting \"%3\" (it has %4)")
                         .arg(source(key), pluginId, key, known.isEmpty() ? QStringLiteral("none") : known.join(QStringLiteral(", ")));
            return std::nullopt;
        }
    }

    QJsonObject values;
    QStringList secrets;
    for (const Setting &s : m_settings) {
        if (s.secret)
            secrets.append(s.key);
        const QJsonValue given = section.value(s.key);
        if (given.isUndefined() || given.isNull()) {
            if (!s.defaultValue.isUndefined()) {
                values.insert(s.key, s.defaultValue);
            } else if (s.required) {
                *error = QStringLiteral("%1: the %2 plugin needs this setting; set it in the environment or as \"%3\" in the config file's \"%2\" section")
                             .arg(QStringLiteral("YIELDHOST_%1__%2").arg(pluginId.toUpper(), s.key.toUpper()), pluginId, s.key);
                return std::nullopt;
            }
            continue;
        }
        QJsonValue typed;
        if (const auto wrong = convert(s, given, &typed)) {
            *error = QStringLiteral("%1: %2").arg(source(s.key), *wrong);
            return std::nullopt;
        }
        values.insert(s.key, typed);
    }
    return Settings(values, secrets);
}

} // namespace yieldhost
