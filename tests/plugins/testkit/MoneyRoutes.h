// MoneyRoutes.h — POST /test/money/move, the smallest money route there is: an idempotent POST
// (route .idempotent() + idempotentTransaction) that moves a user's toy balance by "amount", or
// answers 409 when that would take it below zero. {"slow": true} holds the transaction 200 ms
// so concurrent repeats really overlap.
#pragma once

#include "yieldhost/PluginContext.h"

void registerMoneyRoutes(yieldhost::PluginContext &context);
