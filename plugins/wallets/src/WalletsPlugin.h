// WalletsPlugin.h — the wallets plugin: multi-currency wallets on a double-entry ledger, the
// deposit/withdraw/transfer routes, and the Ledger service every other money plugin posts through.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost::wallets {

class LedgerStore;
class MovementRoutes;
class MovementBatcher;
class WalletRoutes;

class WalletsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    WalletsPlugin();
    ~WalletsPlugin() override;

    yieldhost::Status initialize(yieldhost::PluginContext &context) override;

private:
    yieldhost::PluginContext *m_context = nullptr;
    std::unique_ptr<LedgerStore> m_ledger;
    std::unique_ptr<MovementBatcher> m_batcher; // null when movement_batches is 0
    std::unique_ptr<WalletRoutes> m_walletRoutes;
    std::unique_ptr<MovementRoutes> m_movementRoutes;
};

} // namespace yieldhost::wallets
