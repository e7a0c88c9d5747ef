// PluginSpec.h — one discovered plugin: its metadata, where it is in its lifecycle, and why it
// failed if it did. Failures are recorded here as sentences; nothing throws across the host.
#pragma once

#include "yieldhost/Settings.h"
#include "yieldhost/Status.h"

#include <QtCore/QJsonObject>
#include <QtCore/QPluginLoader>
#include <QtCore/QStringList>

#include <memory>

namespace yieldhost {

class Plugin;
class HostPluginContext;

enum class PluginState { Read, Resolved, Loaded, Initialized, Running, Stopped, Failed };
QString stateName(PluginState state);

struct SdkVersion
{
    int major = -1;
    int minor = -1;
    static std::optional<SdkVersion> parse(const QString &text);
};

class PluginSpec
{
public:
    // Reads metadata only; no plugin code runs. Returns nullptr (with *error) for a file that is
    // not a Yieldhost plugin or whose metadata is unusable.
    static std::unique_ptr<PluginSpec> read(const QString &filePath, QString *error);
    ~PluginSpec();

    QString filePath;
    QString id;
    QString name;
    QString version;
    QString sdk;
    QStringList dependencies; // "requires" in plugin.json
    QString description;
    QString license;
    QJsonObject metadata;
    Settings settings; // typed by PluginManager::configure()
    bool configured = false;

    PluginState state = PluginState::Read;
    QString error;

    std::unique_ptr<QPluginLoader> loader;
    Plugin *instance = nullptr; // owned by the loader
    std::unique_ptr<HostPluginContext> context;

    void fail(const QString &why)
    {
        state = PluginState::Failed;
        error = why;
    }
    QJsonObject describe() const;
};

} // namespace yieldhost
