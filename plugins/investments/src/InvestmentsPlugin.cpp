#include "InvestmentsPlugin.h"

#include "PlanRoutes.h"
#include "PortfolioSummary.h"
#include "PositionRoutes.h"
#include "Statements.h"
#include "YieldPayer.h"

#include "yieldhost/Services.h"

namespace yieldhost::investments {

InvestmentsPlugin::InvestmentsPlugin() = default;
InvestmentsPlugin::~InvestmentsPlugin() = default;

yieldhost::Status InvestmentsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    // wallets and integrations are required in plugin.json: their services exist by now.
    Ledger *ledger = context.service<Ledger>();
    Currencies *currencies = context.service<Currencies>();
    if (!ledger || !currencies)
        return Status::failure(QStringLiteral("investments needs the Ledger service (wallets plugin) and the Currencies service (integrations plugin)"));

    m_plans = std::make_unique<PlanRoutes>(context, *currencies);
    m_plans->registerRoutes();
    m_positions = std::make_unique<PositionRoutes>(context, *ledger);
    m_positions->registerRoutes();
    ExchangeRates *rates = context.service<ExchangeRates>();
    if (!rates)
        return Status::failure(QStringLiteral("investments needs the ExchangeRates service (integrations plugin)"));
    m_portfolio = std::make_unique<PortfolioService>(context, *rates, *currencies);
    m_portfolio->registerRoutes();
    context.provide<Portfolio>(m_portfolio.get());
    m_payer = std::make_unique<YieldPayer>(context.database(), context.clock(), *ledger, context.log(),
                                           int(context.settings().integer(QStringLiteral("yield_batch_size"))),
                                           int(context.settings().integer(QStringLiteral("yield_lanes"))));
    m_payer->setSettlementLookup([&context] { return context.service<Settlement>(); });

    m_statements = std::make_unique<Statements>(context, *ledger);
    m_statements->registerRoutes();
    if (Status s = m_statements->registerTask(); !s)
        return s;

    TaskOptions yields;
    yields.queue = QStringLiteral("yields");
    yields.timeoutSeconds = 3600; // a whole book, batch after batch
    if (Status s = context.jobs().registerTask(QStringLiteral("investments.process_yield_payments"), yields,
                                               [this](JobContext &job) { return m_payer->run(job); });
        !s)
        return s;
    if (Status s = context.jobs().addSchedule(QStringLiteral("investments.process_yield_payments"), QStringLiteral("5 0 * * *")); !s)
        return s;
    return {};
}

} // namespace yieldhost::investments
