// InvestmentsPlugin.h — the investments plugin: plans, positions, the yield engine and its daily
// payout job, moving money only through the wallets plugin's Ledger.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost::investments {

class PlanRoutes;
class PortfolioService;
class PositionRoutes;
class Statements;
class YieldPayer;

class InvestmentsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    InvestmentsPlugin();
    ~InvestmentsPlugin() override;

    yieldhost::Status initialize(yieldhost::PluginContext &context) override;

private:
    yieldhost::PluginContext *m_context = nullptr;
    std::unique_ptr<PlanRoutes> m_plans;
    std::unique_ptr<PositionRoutes> m_positions;
    std::unique_ptr<PortfolioService> m_portfolio;
    std::unique_ptr<YieldPayer> m_payer;
    std::unique_ptr<Statements> m_statements;
};

} // namespace yieldhost::investments
