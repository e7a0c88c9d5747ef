// IntegrationsPlugin.h — the integrations plugin: currencies, exchange rates (CoinGecko and any
// provider another plugin adds), exact conversion, deposit addresses and the mock smart-contract
// settlement, each offered to other plugins as an SDK service.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost::integrations {

class AddressBook;
class CoinGeckoProvider;
class CurrencyRoutes;
class CurrencyStore;
class MockSettlement;
class RateRoutes;
class RateStore;

class IntegrationsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    IntegrationsPlugin();
    ~IntegrationsPlugin() override;

    yieldhost::Status initialize(yieldhost::PluginContext &context) override;

private:
    yieldhost::Status registerTasks(yieldhost::PluginContext &context);

    yieldhost::PluginContext *m_context = nullptr;
    std::unique_ptr<CurrencyStore> m_currencies;
    std::unique_ptr<RateStore> m_rates;
    std::unique_ptr<AddressBook> m_addresses;
    std::unique_ptr<MockSettlement> m_settlement;
    std::unique_ptr<CurrencyRoutes> m_currencyRoutes;
    std::unique_ptr<RateRoutes> m_rateRoutes;
    CoinGeckoProvider *m_coingecko = nullptr; // a child QObject
};

} // namespace yieldhost::integrations
