// Settings.h — a plugin's typed settings (SDK 1.1), declared in its plugin.json and checked by
// the host before the plugin's code runs.
//
// The host layers the declared defaults < the config file's section < YIELDHOST_<ID>__<KEY>
// environment variables, converts environment text to the declared type and stops with one line
// naming the variable when a value is wrong, so by initialize() every declared key holds a value
// of its type (or is absent: no default, not required, not set). Read them here rather than
// parsing ctx.config() yourself. Log settings() rather than config(): a setting declared
// "secret": true prints as "(secret)". See docs/plugins.md, "Settings".
//
// Example (snippet "settings", compiled in sdk/examples/snippets):
//     const Settings &settings = ctx.settings();
//     const qint64 ttl = settings.integer(u"ttl_seconds"_s);       // 900 unless configured
//     const std::optional<Decimal> fee = settings.decimal(u"fee"_s); // exact: "0.25"
//     const bool verbose = settings.boolean(u"verbose"_s);
//     qCInfo(ctx.log()) << "settings:" << settings; // secrets print as "(secret)"
//     if (verbose && fee)
//         qCInfo(ctx.log()) << "tokens live" << ttl << "s; the fee is" << fee->toString();
#pragma once

#include "yieldhost/Decimal.h"
#include "yieldhost/Global.h"

#include <QtCore/QDebug>
#include <QtCore/QJsonObject>
#include <QtCore/QStringList>

#include <optional>

namespace yieldhost {

class YIELDHOST_SDK_EXPORT Settings
{
public:
    Settings() = default;
    // `values` as the host resolved them; `secretKeys` are never printed.
    explicit Settings(QJsonObject values, QStringList secretKeys = {});

    bool contains(const QString &key) const { return m_values.contains(key); }
    QJsonValue value(const QString &key) const { return m_values.value(key); }

    // Each returns the empty value of its type (""/0/false/nullopt/{}) for an absent key.
    QString string(const QString &key) const;
    qint64 integer(const QString &key) const;
    bool boolean(const QString &key) const;
    // A "decimal" setting is held as its exact text ("0.25") and read back exactly.
    std::optional<Decimal> decimal(const QString &key) const;
    QStringList list(const QString &key) const;

    bool isSecret(const QString &key) const { return m_secretKeys.contains(key); }
    // Every value, secrets included: never log this, log the Settings (or redacted()) instead.
    const QJsonObject &values() const { return m_values; }
    // The values with every secret replaced by "(secret)".
    QJsonObject redacted() const;

private:
    QJsonObject m_values;
    QStringList m_secretKeys;
};

// Prints redacted(): safe to log.
YIELDHOST_SDK_EXPORT QDebug operator<<(QDebug debug, const Settings &settings);

} // namespace yieldhost
