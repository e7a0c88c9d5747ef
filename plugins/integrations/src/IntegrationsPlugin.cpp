#include "IntegrationsPlugin.h"

#include "AddressBook.h"
#include "CoinGeckoProvider.h"
#include "CurrencyRoutes.h"
#include "CurrencyStore.h"
#include "MockSettlement.h"
#include "RateRoutes.h"
#include "RateStore.h"

namespace yieldhost::integrations {

IntegrationsPlugin::IntegrationsPlugin() = default;
IntegrationsPlugin::~IntegrationsPlugin() = default;

yieldhost::Status IntegrationsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    // Declared in plugin.json: the host has checked every value (type, range) before this runs.
    const Settings &settings = context.settings();

    m_currencies = std::make_unique<CurrencyStore>(context.database());
    RateStore::Options rateOptions;
    rateOptions.maxAgeSeconds = settings.integer(QStringLiteral("rates_max_age_seconds"));
    m_rates = std::make_unique<RateStore>(context.database(), context.clock(), *m_currencies, context.log(), rateOptions);
    m_addresses = std::make_unique<AddressBook>(*m_currencies);

    if (settings.boolean(QStringLiteral("coingecko"))) {
        CoinGeckoProvider::Options options;
        options.baseUrl = QUrl(context.hostConfig(QStringLiteral("coingecko_url")).toString());
        options.apiKey = context.hostConfig(QStringLiteral("coingecko_api_key")).toString().toUtf8();
        options.timeoutMs = int(settings.integer(QStringLiteral("rates_timeout_ms")));
        if (!options.baseUrl.isValid() || !options.baseUrl.scheme().startsWith(QLatin1String("http")) || options.baseUrl.host().isEmpty())
            return Status::failure(QStringLiteral("coingecko_url (YIELDHOST_COINGECKO_URL) must be an http(s) URL such as https://api.coingecko.com, not \"%1\"")
                                       .arg(options.baseUrl.toString()));
        m_coingecko = new CoinGeckoProvider(options, context.log(), this);
        m_rates->addProvider(m_coingecko);
        qCInfo(context.log()).noquote() << QStringLiteral("rates from %1 (%2)")
                                               .arg(options.baseUrl.toString(), options.apiKey.isEmpty() ? QStringLiteral("no API key")
                                                                                                         : QStringLiteral("API key in %1").arg(QString::fromLatin1(CoinGeckoProvider::keyHeader(options.baseUrl))));
    }

    if (const Status registered = registerTasks(context); !registered)
        return registered;

    m_currencyRoutes = std::make_unique<CurrencyRoutes>(context, *m_currencies);
    m_currencyRoutes->registerRoutes();
    m_rateRoutes = std::make_unique<RateRoutes>(context, *m_currencies, *m_rates);
    m_rateRoutes->registerRoutes();

    context.provide<Currencies>(m_currencies.get());
    context.provide<ExchangeRates>(m_rates.get());
    context.provide<Addresses>(m_addresses.get());
    if (m_settlement)
        context.provide<Settlement>(m_settlement.get());
    qCInfo(context.log()).noquote() << QStringLiteral("rates go stale after %1 s; %2")
                                           .arg(rateOptions.maxAgeSeconds)
                                           .arg(m_settlement ? QStringLiteral("mock settlements confirm after %1 s").arg(settings.integer(QStringLiteral("settlement_confirm_seconds")))
                                                             : QStringLiteral("no mock settlement (mock_settlement is false)"));
    return {};
}

yieldhost::Status IntegrationsPlugin::registerTasks(yieldhost::PluginContext &context)
{
    const Settings &settings = context.settings();
    Jobs &jobs = context.jobs();

    TaskOptions rates;
    rates.queue = QStringLiteral("rates");
    rates.maxAttempts = 5;
    // Every provider, one after the other, each within its own request timeout.
    rates.timeoutSeconds = 120;
    if (Status s = jobs.registerTask(QStringLiteral("integrations.update_rates"), rates,
                                     [this](JobContext &job) { return m_rates->update(job); });
        !s)
        return s;
    if (Status s = jobs.addSchedule(QStringLiteral("integrations.update_rates"), QStringLiteral("*/5 * * * *")); !s)
        return s;

    if (settings.boolean(QStringLiteral("mock_settlement"))) {
        m_settlement = std::make_unique<MockSettlement>(context.database(), *m_currencies, settings.integer(QStringLiteral("settlement_confirm_seconds")));
        TaskOptions confirm;
        confirm.queue = QStringLiteral("default");
        if (Status s = jobs.registerTask(QStringLiteral("integrations.confirm_settlements"), confirm,
                                         [this](JobContext &job) { return m_settlement->confirm(job); });
            !s)
            return s;
        if (Status s = jobs.addSchedule(QStringLiteral("integrations.confirm_settlements"), QStringLiteral("* * * * *")); !s)
            return s;
    }

    const int historyDays = int(settings.integer(QStringLiteral("rates_history_days")));
    jobs.addCleanup(QStringLiteral("rate history older than %1 days").arg(historyDays),
                    [this, historyDays](JobContext &job) { return m_rates->purgeHistory(job, historyDays); });
    return {};
}

} // namespace yieldhost::integrations
