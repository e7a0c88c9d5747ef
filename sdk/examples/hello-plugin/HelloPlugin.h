// HelloPlugin.h — the example every plugin author starts from.
#pragma once

#include <yieldhost/Plugin.h>
#include <yieldhost/PluginContext.h>

#include <QtCore/QObject>

class HelloPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    yieldhost::Status initialize(yieldhost::PluginContext &context) override;
};
