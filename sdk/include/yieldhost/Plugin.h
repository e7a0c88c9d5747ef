// Plugin.h — the interface every Yieldhost plugin implements.
//
// A plugin is a Qt plugin whose metadata (plugin.json: id, name, version, sdk, requires,
// description, license) the host reads before loading any of its code.
// Example (snippet "plugin-class", compiled in sdk/examples/snippets):
//   class SnippetsPlugin : public QObject, public yieldhost::Plugin
//   {
//       Q_OBJECT
//       Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
//       Q_INTERFACES(yieldhost::Plugin)
//   
//   public:
//       yieldhost::Status initialize(yieldhost::PluginContext &context) override;
//   };
// Lifecycle: initialize() in dependency order (register routes, services, subscriptions);
// start() in dependency order once every plugin initialized; stop() in reverse order.
#pragma once

#include "yieldhost/Global.h"
#include "yieldhost/Status.h"

#include <QtCore/QtPlugin>

#define YIELDHOST_PLUGIN_IID "dev.yieldhost.Plugin/1"

namespace yieldhost {

class PluginContext;

class YIELDHOST_SDK_EXPORT Plugin
{
public:
    virtual ~Plugin();
    // Register everything through `context`, which outlives the plugin. A failure here stops
    // this plugin (and those requiring it) from starting, with the returned sentence logged.
    virtual Status initialize(PluginContext &context) = 0;
    // Every plugin is initialized: safe to use other plugins' services.
    virtual void start() {}
    // The host is shutting down; requests have drained. Release what initialize() took.
    virtual void stop() {}
};

} // namespace yieldhost

Q_DECLARE_INTERFACE(yieldhost::Plugin, YIELDHOST_PLUGIN_IID)
