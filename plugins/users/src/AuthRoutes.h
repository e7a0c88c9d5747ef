// AuthRoutes.h — register, token (login), refresh, logout and /users/me, as API.md describes, and
// the revocation API.md leaves to us: logout/all (sign out everywhere) and /users/me/password.
#pragma once

#include "AccountStore.h"
#include "Jwt.h"
#include "LoginThrottle.h"
#include "PasswordHasher.h"
#include "RefreshTokens.h"

#include "yieldhost/PluginContext.h"
#include "yieldhost/services/Currencies.h"

#include <atomic>

namespace yieldhost::users {

class AuthCache;

struct AuthSettings
{
    qint64 accessTtlSeconds = 900;
};

class AuthRoutes
{
public:
    AuthRoutes(PluginContext &context, const Jwt &jwt, PasswordHasher &hasher, AccountStore &accounts, RefreshTokens &refresh,
               LoginThrottle &throttle, AuthSettings settings);
    void registerRoutes();
    // From start(): the Currencies service base_currency is checked with (nullptr: none is loaded).
    void setCurrencies(Currencies *currencies) { m_currencies.store(currencies); }
    // The Authenticator's cache, told when this process ends sign-ins (logout, sign out everywhere).
    void setAuthCache(AuthCache *cache) { m_authCache = cache; }

    QCoro::Task<HttpResponse> registerAccount(HttpRequest request);
    QCoro::Task<HttpResponse> token(HttpRequest request);
    QCoro::Task<HttpResponse> refresh(HttpRequest request);
    QCoro::Task<HttpResponse> logout(HttpRequest request);
    QCoro::Task<HttpResponse> logoutAll(HttpRequest request);
    QCoro::Task<HttpResponse> me(HttpRequest request);
    QCoro::Task<HttpResponse> updateMe(HttpRequest request);
    QCoro::Task<HttpResponse> changePassword(HttpRequest request);

private:
    void forgetSignIns(const QString &userId);
    // A password checked the way a login checks it, whichever route takes the password: the
    // attempt is reserved with the throttle before Argon2 runs, stays a failure when the password
    // is wrong, is released when the hasher was too busy to decide, and a match clears this
    // address's failures on the account. Another route that took passwords without it would be
    // an unthrottled oracle for them.
    struct PasswordCheck
    {
        bool matched = false;
        std::optional<HttpResponse> refusal; // 429 throttled, 503 busy or unavailable: nothing was decided
    };
    // `stored` empty: no usable account (verified against the dummy hash, never a match).
    // `action` names the attempt in log lines ("login").
    QCoro::Task<PasswordCheck> checkPassword(QString accountKey, QString address, QString stored, QString password, QString action);

    // Adds a base_currency error for a code the Currencies service does not know; returns the 503
    // to send when there is no such service or it could not answer.
    QCoro::Task<std::optional<HttpResponse>> checkCurrency(QString code, FieldErrors *errors);

    QJsonObject tokenPair(const Account &account, const RefreshTokens::Issued &issued) const;
    QByteArray accessToken(const Account &account, const RefreshTokens::Issued &issued) const;

    PluginContext &m_context;
    const Jwt &m_jwt;
    PasswordHasher &m_hasher;
    AccountStore &m_accounts;
    RefreshTokens &m_refresh;
    LoginThrottle &m_throttle;
    AuthCache *m_authCache = nullptr;
    std::atomic<Currencies *> m_currencies = nullptr;
    AuthSettings m_settings;
};

} // namespace yieldhost::users
