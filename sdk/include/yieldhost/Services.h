// Services.h — interfaces that plugins share, found by id rather than by linking to each other;
// one header per service under yieldhost/services/, all included here.
//
// A service interface is an abstract class with a `static constexpr const char *ServiceId`.
// The provider registers its implementation during initialize(); consumers look it up (after
// their dependency has initialized, which `requires` in plugin.json guarantees). The users
// plugin provides Authenticator and Accounts this way.
// Example (snippet "service-interface", compiled in sdk/examples/snippets):
//   // A service interface: abstract, with the id consumers find it by.
//   class Greeter
//   {
//   public:
//       static constexpr const char *ServiceId = "dev.yieldhost.snippets.Greeter/1";
//       virtual ~Greeter() = default;
//       virtual QString greet(const QString &name) const = 0;
//   };
// and (snippet "services"):
//   ctx.provide<Greeter>(&m_greeter);           // in the provider's initialize()
//   const Greeter *greeter = ctx.service<Greeter>(); // in a consumer, nullptr when none
#pragma once

#include "yieldhost/services/Accounts.h"
#include "yieldhost/services/Addresses.h"
#include "yieldhost/services/Authenticator.h"
#include "yieldhost/services/Currencies.h"
#include "yieldhost/services/ExchangeRates.h"
#include "yieldhost/services/Ledger.h"
#include "yieldhost/services/Portfolio.h"
#include "yieldhost/services/Settlement.h"
#include "yieldhost/services/UserDirectory.h"
