// Host.h — one running Yieldhost process: configuration, plugins, HTTP server, shutdown order.
#pragma once

#include "HostServices.h"
#include "Metrics.h"
#include "PluginManager.h"
#include "RequestDispatcher.h"
#include "SystemRoutes.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost {

class HttpServer;

class Host : public QObject
{
    Q_OBJECT
public:
    explicit Host(Config config, QObject *parent = nullptr);
    ~Host() override;

    // Discover, resolve, load and initialize plugins (no network yet).
    void loadPlugins();
    // Listen and start plugins; prints the URL on stdout.
    Status serve();
    // Graceful: stop accepting, drain, stop plugins; emits stopped().
    void shutdown();

    PluginManager &plugins() { return m_plugins; }
    HostServices &services() { return m_services; }

Q_SIGNALS:
    void stopped();

private:
    HostServices m_services;
    Metrics m_metrics;
    PluginManager m_plugins;
    RequestDispatcher m_dispatcher;
    PluginListSnapshot m_pluginList;
    std::unique_ptr<HttpServer> m_http;
    bool m_stopping = false;
};

} // namespace yieldhost
