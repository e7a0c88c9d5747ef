// Authenticator.h — the service that turns a request's credentials into a user.
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
        bool unavailable = false;              // could not check (database down): 503, not 401
    };

    virtual ~Authenticator();
    // `credentials` is an Authorization header value: "Bearer <token>" (or "JWT <token>").
    // Callers holding a bare token (WebSocket ?token=) prefix it with "Bearer ".
    virtual QCoro::Task<Outcome> authenticate(QByteArray credentials) = 0;
};

} // namespace yieldhost
