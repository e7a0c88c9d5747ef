// Services.h — interfaces that plugins share, found by id rather than by linking to each other.
//
// A service interface is an abstract class with a `static constexpr const char *ServiceId`.
// The provider registers its implementation during initialize(); consumers look it up (after
// their dependency has initialized, which `requires` in plugin.json guarantees):
//   context.provide<yieldhost::Authenticator>(m_authenticator.get());      // users plugin
//   auto *auth = context.service<yieldhost::Authenticator>();               // anyone else
#pragma once

#include "yieldhost/Global.h"
#include "yieldhost/Http.h"
#include "yieldhost/Status.h"

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost {

// Verifies the credentials of a request (HTTP, WebSocket or GraphQL). Provided by the users
// plugin; the host calls it before any route registered with AuthLevel::User or Staff.
class YIELDHOST_SDK_EXPORT Authenticator
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Authenticator/1";

    struct Outcome
    {
        std::optional<AuthenticatedUser> user; // set on success
        QString reason;                        // why not, for the 401 detail; never a secret
        bool unavailable = false;              // could not check (database down): 503, not 401
    };

    virtual ~Authenticator();
    // `credentials` is an Authorization header value: "Bearer <token>" (or "JWT <token>").
    // Callers holding a bare token (WebSocket ?token=) prefix it with "Bearer ".
    virtual QCoro::Task<Outcome> authenticate(QByteArray credentials) = 0;
};

// Account administration, provided by the users plugin; the host's `createuser` command uses it.
class YIELDHOST_SDK_EXPORT Accounts
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.Accounts/1";
    virtual ~Accounts();
    // Creates an active account; fails with a sentence (taken email, weak password, ...).
    virtual QCoro::Task<Status> createUser(QString email, QString password, bool staff) = 0;
};

} // namespace yieldhost
