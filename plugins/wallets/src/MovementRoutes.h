// MovementRoutes.h — the money-moving POSTs: deposit (sandbox mode only), withdraw and transfer,
// each with an Idempotency-Key and posted through the Ledger in one transaction with the stored
// reply and the wallet.updated events.
#pragma once

#include "LedgerStore.h"
#include "MovementBatcher.h"

#include "yieldhost/PluginContext.h"
#include "yieldhost/services/UserDirectory.h"

#include <atomic>

namespace yieldhost::wallets {

class MovementRoutes
{
public:
    MovementRoutes(PluginContext &context, LedgerStore &ledger, bool sandbox) : m_context(context), m_ledger(ledger), m_sandbox(sandbox) { }
    void registerRoutes();
    void setDirectory(UserDirectory *directory) { m_directory.store(directory); }
    // Money POSTs go through `batcher` (group commit) when set; otherwise one transaction each.
    void setBatcher(MovementBatcher *batcher) { m_batcher = batcher; }

    QCoro::Task<HttpResponse> deposit(HttpRequest request);
    QCoro::Task<HttpResponse> withdraw(HttpRequest request);
    QCoro::Task<HttpResponse> transfer(HttpRequest request);

private:
    PluginContext &m_context;
    LedgerStore &m_ledger;
    bool m_sandbox;
    std::atomic<UserDirectory *> m_directory = nullptr;
    MovementBatcher *m_batcher = nullptr;
};

} // namespace yieldhost::wallets
