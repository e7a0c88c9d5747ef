// WalletRoutes.h — the caller's wallets: GET/POST /api/v1/wallets, GET /api/v1/wallets/{id} and
// its transaction history (newest first, cursor-paged). Another user's wallet is 404 for every
// verb, exactly like a wallet that does not exist.
#pragma once

#include "LedgerStore.h"

#include "yieldhost/PluginContext.h"

namespace yieldhost::wallets {

class WalletRoutes
{
public:
    WalletRoutes(PluginContext &context, LedgerStore &ledger) : m_context(context), m_ledger(ledger) { }
    void registerRoutes();

    QCoro::Task<HttpResponse> list(HttpRequest request);
    QCoro::Task<HttpResponse> create(HttpRequest request);
    QCoro::Task<HttpResponse> get(HttpRequest request);
    QCoro::Task<HttpResponse> transactions(HttpRequest request);

    static HttpResponse notFound();

private:
    PluginContext &m_context;
    LedgerStore &m_ledger;
};

} // namespace yieldhost::wallets
