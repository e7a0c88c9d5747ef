// Config.h — layered configuration: built-in defaults < JSON file (--config) < YIELDHOST_* environment.
//
// Keys are paths into one JSON object. Environment names map to them by upper-casing and turning
// "." into "__": `http.max_body_bytes` ← YIELDHOST_HTTP__MAX_BODY_BYTES, `listen` ← YIELDHOST_LISTEN,
// a plugin's section `wallets.x` ← YIELDHOST_WALLETS__X. An environment value takes the type of the
// built-in default it overrides (bool: 1/0/true/false/yes/no/on/off; integer), and a value of the
// wrong type is refused with the variable's name rather than silently ignored. A key without a
// built-in default (a plugin's section) keeps the variable's text: the plugin's declared settings
// convert it (pluginsystem/PluginSettings.h), naming the variable through environmentVariable().
#pragma once

#include "yieldhost/Status.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QString>

#include <optional>

namespace yieldhost {

class Config
{
public:
    // `defaults` is the built-in layer (resources/config/defaults.json unless a test gives its own).
    static std::optional<Config> load(const QJsonObject &defaults, const QString &filePath,
                                      const QProcessEnvironment &environment, QString *error);
    static QJsonObject builtInDefaults();

    QJsonValue value(const QString &dottedKey) const;
    QString string(const QString &dottedKey) const { return value(dottedKey).toString(); }
    qint64 integer(const QString &dottedKey) const { return value(dottedKey).toInteger(); }
    bool boolean(const QString &dottedKey) const { return value(dottedKey).toBool(); }
    QJsonObject section(const QString &name) const { return m_root.value(name).toObject(); }
    const QJsonObject &root() const { return m_root; }

    // The host fills in a value it resolved (e.g. the default data directory) before anything
    // reads it, so every part — plugins included — sees one answer.
    void set(const QString &dottedKey, const QJsonValue &value);

    // The YIELDHOST_* variable that set `dottedKey` or a key beneath it, or "" when the value
    // comes from the defaults or the config file.
    QString environmentVariable(const QString &dottedKey) const;

private:
    std::optional<QString> nonPositiveLimit() const;

    QJsonObject m_root;
    QHash<QString, QString> m_fromEnvironment; // dotted key -> variable name
};

} // namespace yieldhost
