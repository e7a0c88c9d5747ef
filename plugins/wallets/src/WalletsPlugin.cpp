#include "WalletsPlugin.h"

#include "LedgerStore.h"
#include "MovementRoutes.h"
#include "MovementBatcher.h"
#include "WalletRoutes.h"

#include "yieldhost/Services.h"
#include "yieldhost/Settings.h"

namespace yieldhost::wallets {

WalletsPlugin::WalletsPlugin() = default;
WalletsPlugin::~WalletsPlugin() = default;

yieldhost::Status WalletsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    // users and integrations are required in plugin.json, so they have initialized already.
    Currencies *currencies = context.service<Currencies>();
    UserDirectory *directory = context.service<UserDirectory>();
    if (!currencies || !directory)
        return Status::failure(QStringLiteral("wallets needs the Currencies service (integrations plugin) and the UserDirectory service (users plugin)"));
    const bool sandbox = context.hostConfig(QStringLiteral("sandbox")).toBool();

    m_ledger = std::make_unique<LedgerStore>(context.database());
    m_ledger->setServices(currencies, context.service<Addresses>());
    m_walletRoutes = std::make_unique<WalletRoutes>(context, *m_ledger);
    m_walletRoutes->registerRoutes();
    m_movementRoutes = std::make_unique<MovementRoutes>(context, *m_ledger, sandbox);
    m_movementRoutes->setDirectory(directory);
    const Settings &settings = context.settings();
    if (const int leaders = int(settings.integer(QStringLiteral("movement_batches"))); leaders > 0) {
        m_batcher = std::make_unique<MovementBatcher>(context.database(), *m_ledger, leaders, int(settings.integer(QStringLiteral("movement_batch_size"))));
        m_movementRoutes->setBatcher(m_batcher.get());
    }
    m_movementRoutes->registerRoutes();
    context.provide<Ledger>(m_ledger.get());
    qCInfo(context.log()).noquote() << (sandbox ? QStringLiteral("deposits are open (sandbox mode)")
                                                : QStringLiteral("deposits are closed: they arrive only from a payment integration"));
    return {};
}

} // namespace yieldhost::wallets
