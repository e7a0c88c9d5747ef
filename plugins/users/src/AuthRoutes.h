// AuthRoutes.h — register, token (login), refresh, logout and /users/me, as API.md describes.
#pragma once

#include "AccountStore.h"
#include "Jwt.h"
#include "LoginThrottle.h"
#include "PasswordHasher.h"
#include "RefreshTokens.h"

#include "yieldhost/PluginContext.h"

namespace yieldhost::users {

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

    QCoro::Task<HttpResponse> registerAccount(HttpRequest request);
    QCoro::Task<HttpResponse> token(HttpRequest request);
    QCoro::Task<HttpResponse> refresh(HttpRequest request);
    QCoro::Task<HttpResponse> logout(HttpRequest request);
    QCoro::Task<HttpResponse> me(HttpRequest request);
    QCoro::Task<HttpResponse> updateMe(HttpRequest request);

private:
    QJsonObject tokenPair(const Account &account, const QString &refreshToken) const;
    QByteArray accessToken(const QString &userId, const QString &email) const;

    PluginContext &m_context;
    const Jwt &m_jwt;
    PasswordHasher &m_hasher;
    AccountStore &m_accounts;
    RefreshTokens &m_refresh;
    LoginThrottle &m_throttle;
    AuthSettings m_settings;
};

} // namespace yieldhost::users
