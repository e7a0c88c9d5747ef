// PluginSettings.h — a plugin's settings as plugin.json declares them, and the check that turns
// its configuration section into typed values before any of its code runs.
//
// Two kinds of mistake, two outcomes. A wrong declaration ("type": "number", a default of the
// wrong type) is the plugin author's: that plugin is refused, the others still load. A wrong
// value (text where an integer belongs, out of range, a key the plugin does not declare) is the
// operator's: the host stops with one line naming the environment variable or the config key,
// as it does for its own settings. A secret's value never appears in that line.
//
// A plugin without "settings" in plugin.json (every SDK 1.0 plugin) keeps its section as given.
#pragma once

#include "core/Config.h"

#include "yieldhost/Settings.h"

#include <QtCore/QJsonObject>

#include <optional>
#include <vector>

namespace yieldhost {

class PluginSettings
{
public:
    enum class Type { String, Integer, Boolean, Decimal, List };

    // Reads `metadata`'s "settings" object; nullopt and *error when the declaration is unusable.
    static std::optional<PluginSettings> declared(const QJsonObject &metadata, QString *error);

    bool isDeclared() const { return m_declared; }

    // The plugin's section of `config`, typed: declared defaults < config file < environment.
    // nullopt and a one-line *error naming the variable (or the key) on a wrong value.
    std::optional<Settings> resolve(const QString &pluginId, const Config &config, QString *error) const;

private:
    struct Setting
    {
        QString key;
        Type type = Type::String;
        QJsonValue defaultValue; // undefined when none
        std::optional<qint64> min;
        std::optional<qint64> max;
        bool secret = false;
        bool required = false;
    };
    // Why `value` does not fit `setting` (the end of "KEY: must be ..."), or nullopt with *typed set.
    static std::optional<QString> convert(const Setting &setting, const QJsonValue &value, QJsonValue *typed);
    static QString expectation(const Setting &setting);

    bool m_declared = false;
    std::vector<Setting> m_settings;
};

} // namespace yieldhost
