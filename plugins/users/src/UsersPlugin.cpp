#include "UsersPlugin.h"

#include "AccountStore.h"
#include "AuthRoutes.h"
#include "Jwt.h"
#include "JwtSecret.h"
#include "LoginThrottle.h"
#include "PasswordHasher.h"
#include "RefreshTokens.h"
#include "UserAuthenticator.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace yieldhost::users {

namespace {
// A positive integer of the plugin's section (a number in a config file, text from the
// environment), or `fallback` when absent. Anything else is recorded in *errors: a bad setting
// stops the plugin rather than silently becoming the default.
qint64 setting(const QJsonObject &config, const char *key, qint64 fallback, QStringList *errors)
{
    const QJsonValue v = config.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return fallback;
    bool ok = false;
    qint64 n = 0;
    if (v.isDouble()) {
        n = v.toInteger();
        ok = double(n) == v.toDouble();
    } else if (v.isString()) {
        n = v.toString().trimmed().toLongLong(&ok);
    }
    if (!ok || n <= 0) {
        const QString shown = v.isString() ? v.toString() : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
        errors->append(QStringLiteral("users.%1 must be a positive integer (got \"%2\")").arg(QLatin1String(key), shown));
        return fallback;
    }
    return n;
}
} // namespace

UsersPlugin::UsersPlugin() = default;
UsersPlugin::~UsersPlugin() = default;

yieldhost::Status UsersPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    const QJsonObject config = context.config();

    QString secretError;
    const std::optional<JwtSecret> secret = JwtSecret::resolve(context.hostConfig(QStringLiteral("jwt_secret")).toString().toUtf8(),
                                                               context.hostConfig(QStringLiteral("sandbox")).toBool(),
                                                               context.hostConfig(QStringLiteral("data_dir")).toString(), &secretError);
    if (!secret)
        return Status::failure(secretError);
    qCInfo(context.log()).noquote() << "access tokens are signed with the secret from" << secret->origin;

    QStringList settingErrors;
    PasswordHasher::Parameters argon;
    argon.timeCost = uint32_t(setting(config, "argon2_time_cost", argon.timeCost, &settingErrors));
    argon.memoryKiB = uint32_t(setting(config, "argon2_memory_kib", argon.memoryKiB, &settingErrors));
    argon.parallelism = uint32_t(setting(config, "argon2_parallelism", argon.parallelism, &settingErrors));
    LoginThrottle::Limits limits;
    limits.perPair = int(setting(config, "login_max_failures_per_address_and_account", limits.perPair, &settingErrors));
    limits.perAccount = int(setting(config, "login_max_failures_per_account", limits.perAccount, &settingErrors));
    limits.accountDelaySeconds = setting(config, "login_account_delay_seconds", limits.accountDelaySeconds, &settingErrors);
    limits.perAddress = int(setting(config, "login_max_failures_per_address", limits.perAddress, &settingErrors));
    limits.windowSeconds = setting(config, "login_window_seconds", limits.windowSeconds, &settingErrors);
    limits.registrationsPerAddress = int(setting(config, "registrations_per_address_per_hour", limits.registrationsPerAddress, &settingErrors));
    const int hashQueueLimit = int(setting(config, "hash_queue_limit", 64, &settingErrors));
    AuthSettings auth;
    auth.accessTtlSeconds = std::max<qint64>(1, setting(config, "access_ttl_seconds", auth.accessTtlSeconds, &settingErrors));
    const qint64 refreshTtl = std::max<qint64>(60, setting(config, "refresh_ttl_seconds", 7 * 24 * 3600, &settingErrors));

    if (!settingErrors.isEmpty())
        return Status::failure(settingErrors.join(QStringLiteral("; ")));

    m_jwt = std::make_unique<Jwt>(secret->key);
    m_hasher = std::make_unique<PasswordHasher>(argon, hashQueueLimit);
    m_accounts = std::make_unique<AccountStore>(context.database());
    m_refresh = std::make_unique<RefreshTokens>(context.database(), refreshTtl, auth.accessTtlSeconds);
    m_throttle = std::make_unique<LoginThrottle>(context.database(), limits);
    m_authenticator = std::make_unique<UserAuthenticator>(*m_jwt, *m_accounts);
    m_routes = std::make_unique<AuthRoutes>(context, *m_jwt, *m_hasher, *m_accounts, *m_refresh, *m_throttle, auth);
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
    qCInfo(context.log()).noquote() << QStringLiteral("Argon2id t=%1 m=%2 KiB p=%3; access tokens live %4 s")
                                           .arg(argon.timeCost).arg(argon.memoryKiB).arg(argon.parallelism).arg(auth.accessTtlSeconds);
    return {};
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
