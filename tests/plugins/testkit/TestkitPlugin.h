// TestkitPlugin.h — routes that let end-to-end tests exercise the host's HTTP/WS machinery.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include "TestRateSource.h"

#include <QtCore/QObject>

class TestkitPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    yieldhost::Status initialize(yieldhost::PluginContext &context) override;
    void start() override;
    void stop() override;

private:
    yieldhost::PluginContext *m_context = nullptr;
    TestRateSource m_rateSource;
    yieldhost::ExchangeRates *m_rates = nullptr; // where m_rateSource is registered, if anywhere
};
