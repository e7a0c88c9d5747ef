// UserAuthenticator.h — the host-wide Authenticator: verifies an access JWT, then checks that its
// account still exists and is active (one indexed lookup), so a deactivated user is locked out
// before the token expires.
#pragma once

#include "AccountStore.h"
#include "Jwt.h"

#include "yieldhost/Clock.h"
#include "yieldhost/Services.h"

namespace yieldhost::users {

class UserAuthenticator final : public Authenticator
{
public:
    UserAuthenticator(const Jwt &jwt, AccountStore &accounts, Clock &clock) : m_jwt(jwt), m_accounts(accounts), m_clock(clock) {}
    QCoro::Task<Outcome> authenticate(QByteArray credentials) override;

private:
    const Jwt &m_jwt;
    AccountStore &m_accounts;
    Clock &m_clock;
};

} // namespace yieldhost::users
