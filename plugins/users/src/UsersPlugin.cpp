#include "UsersPlugin.h"

#include "AccountStore.h"
#include "AuthRoutes.h"
#include "Jwt.h"
#include "JwtSecret.h"
#include "LoginThrottle.h"
#include "PasswordHasher.h"
#include "RefreshTokens.h"
#include "AuthCache.h"
#include "UserAuthenticator.h"

#include <QtCore/QJsonObject>

namespace yieldhost::users {

UsersPlugin::UsersPlugin() = default;
UsersPlugin::~UsersPlugin() = default;

yieldhost::Status UsersPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;

    QString secretError;
    const std::optional<JwtSecret> secret = JwtSecret::resolve(context.hostConfig(QStringLiteral("jwt_secret")).toString().toUtf8(),
                                                               context.hostConfig(QStringLiteral("sandbox")).toBool(),
                                                               context.hostConfig(QStringLiteral("data_dir")).toString(), &secretError);
    if (!secret)
        return Status::failure(secretError);
    qCInfo(context.log()).noquote() << "access tokens are signed with the secret from" << secret->origin;

    // Declared in plugin.json: the host has checked every value (type, range) before this runs.
    const Settings &settings = context.settings();
    PasswordHasher::Parameters argon;
    argon.timeCost = uint32_t(settings.integer(QStringLiteral("argon2_time_cost")));
    argon.memoryKiB = uint32_t(settings.integer(QStringLiteral("argon2_memory_kib")));
    argon.parallelism = uint32_t(settings.integer(QStringLiteral("argon2_parallelism")));
    LoginThrottle::Limits limits;
    limits.perPair = int(settings.integer(QStringLiteral("login_max_failures_per_address_and_account")));
    limits.perAccount = int(settings.integer(QStringLiteral("login_max_failures_per_account")));
    limits.accountDelaySeconds = settings.integer(QStringLiteral("login_account_delay_seconds"));
    limits.perAddress = int(settings.integer(QStringLiteral("login_max_failures_per_address")));
    limits.windowSeconds = settings.integer(QStringLiteral("login_window_seconds"));
    limits.registrationsPerAddress = int(settings.integer(QStringLiteral("registrations_per_address_per_hour")));
    const int hashQueueLimit = int(settings.integer(QStringLiteral("hash_queue_limit")));
    AuthSettings auth;
    auth.accessTtlSeconds = settings.integer(QStringLiteral("access_ttl_seconds"));
    const qint64 refreshTtl = std::max<qint64>(60, settings.integer(QStringLiteral("refresh_ttl_seconds")));

    m_jwt = std::make_unique<Jwt>(secret->key);
    m_hasher = std::make_unique<PasswordHasher>(argon, hashQueueLimit);
    m_accounts = std::make_unique<AccountStore>(context.database());
    m_refresh = std::make_unique<RefreshTokens>(context.database(), refreshTtl, auth.accessTtlSeconds);
    m_throttle = std::make_unique<LoginThrottle>(context.database(), limits);
    m_authCache = std::make_unique<AuthCache>(settings.integer(QStringLiteral("auth_cache_ms")));
    m_authenticator = std::make_unique<UserAuthenticator>(*m_jwt, *m_accounts, *m_authCache);
    m_routes = std::make_unique<AuthRoutes>(context, *m_jwt, *m_hasher, *m_accounts, *m_refresh, *m_throttle, auth);
    m_routes->setAuthCache(m_authCache.get());
    m_routes->registerRoutes();

    context.jobs().addCleanup(QStringLiteral("expired refresh tokens and old login failures"), [this](JobContext &job) -> QCoro::Task<Status> {
        const QDateTime now = Clock::wallNow(); // token lifetimes and throttle windows are real time
        const RefreshTokens::Purged tokens = co_await m_refresh->purgeExpired(now);
        if (tokens.error)
            co_return Status::failure(tokens.error.message);
        const SqlResult failures = co_await m_throttle->purgeOld(now);
        if (failures.error())
            co_return Status::failure(failures.error().message);
        job.progress(QStringLiteral("deleted %1 expired refresh tokens and %2 old login failures (and %3 ended sign-ins)")
                         .arg(tokens.tokens).arg(failures.rowsAffected()).arg(tokens.families));
        co_return Status{};
    });

    context.provide<Authenticator>(m_authenticator.get());
    context.provide<Accounts>(static_cast<Accounts *>(this));
    context.provide<UserDirectory>(static_cast<UserDirectory *>(this));
    qCInfo(context.log()).noquote() << QStringLiteral("Argon2id t=%1 m=%2 KiB p=%3; access tokens live %4 s")
                                           .arg(argon.timeCost).arg(argon.memoryKiB).arg(argon.parallelism).arg(auth.accessTtlSeconds);
    return {};
}

QCoro::Task<DirectoryLookup> UsersPlugin::findByEmail(QString email)
{
    const AccountStore::Found found = co_await m_accounts->byEmail(email);
    DirectoryLookup out;
    out.error = found.error;
    if (found.account && found.account->isActive)
        out.entry = DirectoryEntry{found.account->id, found.account->email};
    co_return out;
}

void UsersPlugin::start()
{
    // Users does not depend on integrations' code: the service is looked up once every plugin
    // has initialized, and its absence only affects choosing a base currency.
    Currencies *currencies = m_context->service<Currencies>();
    if (!currencies)
        qCWarning(m_context->log()) << "no Currencies service (is the integrations plugin loaded?): a base_currency given at registration "
                                       "or in PATCH /users/me is refused with 503; accounts use USD";
    m_routes->setCurrencies(currencies);
}

QCoro::Task<Status> UsersPlugin::createUser(QString email, QString password, bool staff)
{
    FieldErrors errors;
    Registration r = validateRegistration(QJsonObject{{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}, &errors);
    if (!errors.isEmpty()) {
        QStringList lines;
        for (auto it = errors.cbegin(); it != errors.cend(); ++it)
            lines.append(it.key() + u' ' + it->join(QStringLiteral(", ")));
        co_return Status::failure(lines.join(QStringLiteral("; ")));
    }
    const PasswordHasher::Hashed hashed = co_await m_hasher->hash(r.password);
    if (hashed.encoded.isEmpty())
        co_return Status::failure(hashed.busy ? QStringLiteral("the password hasher is busy; try again")
                                              : QStringLiteral("hashing the password failed (out of memory?); no account was created"));
    const AccountStore::Created created = co_await m_accounts->create(std::move(r), hashed.encoded, staff, m_context->clock().now());
    if (created.error.kind == DbError::Kind::UniqueViolation)
        co_return Status::failure(QStringLiteral("an account with email %1 already exists").arg(email));
    if (created.error)
        co_return Status::failure(QStringLiteral("the database refused the account: %1").arg(created.error.message.trimmed()));
    co_return Status{};
}

} // namespace yieldhost::users
