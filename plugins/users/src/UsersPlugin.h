// UsersPlugin.h — the users plugin: accounts, Argon2id passwords, JWT access and rotating refresh tokens; authentication for every plugin.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

namespace yieldhost::users {

class UsersPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    yieldhost::Status initialize(yieldhost::PluginContext &context) override;

private:
    yieldhost::PluginContext *m_context = nullptr;
};

} // namespace yieldhost::users
