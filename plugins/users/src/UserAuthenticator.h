// UserAuthenticator.h — the host-wide Authenticator: verifies an access JWT, then checks in one
// indexed query that its account still exists and is active, that the sign-in it names (`sid`)
// has not ended, and that it was issued under the account's current token version (`ver`). So a
// deactivated user, a logged-out sign-in and "sign out everywhere" lock tokens out at once, not
// when they expire. A token without `sid` and `ver` (issued before they existed) is refused: its
// holder refreshes it, and the refreshed one carries both. An accepted token is remembered for a
// moment (AuthCache): most requests cost neither the signature check nor a round trip before
// their handler's own.
#pragma once

#include "AccountStore.h"
#include "AuthCache.h"
#include "Jwt.h"

#include "yieldhost/Clock.h"
#include "yieldhost/Services.h"

namespace yieldhost::users {

class UserAuthenticator final : public Authenticator
{
public:
    UserAuthenticator(const Jwt &jwt, AccountStore &accounts, AuthCache &cache) : m_jwt(jwt), m_accounts(accounts), m_cache(cache) {}
    QCoro::Task<Outcome> authenticate(QByteArray credentials) override;

private:
    const Jwt &m_jwt;
    AccountStore &m_accounts;
    AuthCache &m_cache;
};

} // namespace yieldhost::users
