#include "yieldhost/Settings.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost {

Settings::Settings(QJsonObject values, QStringList secretKeys) : m_values(std::move(values)), m_secretKeys(std::move(secretKeys)) {}

QString Settings::string(const QString &key) const { return m_values.value(key).toString(); }

qint64 Settings::integer(const QString &key) const { return m_values.value(key).toInteger(); }

bool Settings::boolean(const QString &key) const { return m_values.value(key).toBool(); }

std::optional<Decimal> Settings::decimal(const QString &key) const
{
    const QJsonValue v = m_values.value(key);
    return v.isString() ? Decimal::fromString(v.toString()) : std::nullopt;
}

QStringList Settings::list(const QString &key) const
{
    QStringList items;
    for (const QJsonValue &item : m_values.value(key).toArray())
        items.append(item.toString());
    return items;
}

QJsonObject Settings::redacted() const
{
    QJsonObject shown = m_values;
    for (const QString &key : m_secretKeys) {
        if (shown.contains(key))
            shown.insert(key, QStringLiteral("(secret)"));
    }
    return shown;
}

QDebug operator<<(QDebug debug, const Settings &settings)
{
    const QDebugStateSaver saver(debug);
    debug.noquote().nospace() << QString::fromUtf8(QJsonDocument(settings.redacted()).toJson(QJsonDocument::Compact));
    return debug;
}

} // namespace yieldhost
