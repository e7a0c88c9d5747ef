// UsersPlugin.h — the users plugin: accounts, Argon2id passwords, JWT access and rotating refresh
// tokens, login throttling, and the Authenticator every other plugin's routes rely on.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"
#include "yieldhost/Services.h"

#include <QtCore/QObject>

#include <memory>

namespace yieldhost::users {

class AccountStore;
class AuthRoutes;
class Jwt;
class LoginThrottle;
class PasswordHasher;
class RefreshTokens;
class AuthCache;
class UserAuthenticator;

class UsersPlugin : public QObject, public yieldhost::Plugin, public yieldhost::Accounts, public yieldhost::UserDirectory
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    UsersPlugin();
    ~UsersPlugin() override;

    yieldhost::Status initialize(yieldhost::PluginContext &context) override;
    void start() override;
    QCoro::Task<Status> createUser(QString email, QString password, bool staff) override;
    QCoro::Task<DirectoryLookup> findByEmail(QString email) override;

private:
    yieldhost::PluginContext *m_context = nullptr;
    std::unique_ptr<Jwt> m_jwt;
    std::unique_ptr<PasswordHasher> m_hasher;
    std::unique_ptr<AccountStore> m_accounts;
    std::unique_ptr<RefreshTokens> m_refresh;
    std::unique_ptr<LoginThrottle> m_throttle;
    std::unique_ptr<AuthCache> m_authCache; // before the authenticator and routes that use it
    std::unique_ptr<UserAuthenticator> m_authenticator;
    std::unique_ptr<AuthRoutes> m_routes;
};

} // namespace yieldhost::users
