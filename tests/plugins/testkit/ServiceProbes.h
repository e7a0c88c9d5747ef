// ServiceProbes.h — routes through which end-to-end tests reach the integrations plugin's SDK
// services the way another plugin does (found by interface, called inside the caller's own
// transaction): POST /test/settlements submits a batch through Settlement::submitIn() and
// commits or rolls back on request; POST /test/addresses assigns a deposit address through
// Addresses::assignIn().
#pragma once

#include "yieldhost/PluginContext.h"

void registerServiceProbes(yieldhost::PluginContext &context);
