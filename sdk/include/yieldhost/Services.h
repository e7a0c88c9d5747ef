// Services.h — interfaces that plugins share, found by id rather than by linking to each other;
// one header per service under yieldhost/services/, all included here.
//
// A service interface is an abstract class with a `static constexpr const char *ServiceId`.
// The provider registers its implementation during initialize(); consumers look it up (after
// their dependency has initialized, which `requires` in plugin.json guarantees):
//   context.provide<yieldhost::Authenticator>(m_authenticator.get());      // users plugin
//   auto *auth = context.service<yieldhost::Authenticator>();               // anyone else
#pragma once

#include "yieldhost/services/Accounts.h"
#include "yieldhost/services/Authenticator.h"
