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
    };

    virtual ~Authenticator();
    // `credentials` is the raw Authorization header value or a bare token.
    virtual QCoro::Task<Outcome> authenticate(QByteArray credentials) = 0;
};

} // namespace yieldhost
