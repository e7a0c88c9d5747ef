#include "AuthRoutes.h"

#include "AuthCache.h"

#include <QtCore/QJsonArray>
#include <QtCore/QUuid>

namespace yieldhost::users {

namespace {

HttpResponse problem(const Problem &p) { return p.toResponse(); }

HttpResponse notAnObject()
{
    return problem(Problem::badRequest(QStringLiteral("The body must be a JSON object.")));
}

HttpResponse invalidCredentials()
{
    // Identical for an unknown email and a wrong password.
    HttpResponse r = Problem::make(401)
                         .type(QStringLiteral("invalid-credentials"))
                         .title(QStringLiteral("Invalid credentials"))
                         .detail(QStringLiteral("The email or password is not correct."))
                         .toResponse();
    r.addHeader("WWW-Authenticate", "Bearer realm=\"yieldhost\"");
    return r;
}

HttpResponse invalidRefresh()
{
    return Problem::make(401)
        .type(QStringLiteral("invalid-refresh-token"))
        .title(QStringLiteral("Invalid refresh token"))
        .detail(QStringLiteral("The refresh token is unknown, expired or revoked; log in again."))
        .toResponse();
}

HttpResponse validationFailed(const FieldErrors &errors) { return Problem::validation(errors).toResponse(); }

HttpResponse emailTaken()
{
    return Problem::conflict(QStringLiteral("email-taken"), QStringLiteral("Email already registered"),
                             QStringLiteral("An account with this email already exists."))
        .toResponse();
}

HttpResponse throttled(qint64 seconds)
{
    return Problem::make(429)
        .type(QStringLiteral("too-many-attempts"))
        .title(QStringLiteral("Too many attempts"))
        .detail(QStringLiteral("Too many wrong passwords; try again in %1 seconds.").arg(seconds))
        .retryAfter(int(seconds))
        .toResponse();
}

// 400, not 401: the access token is fine, and a 401 would send a client to refresh it or to its
// sign-in screen.
HttpResponse wrongCurrentPassword()
{
    Problem p;
    p.status = 400;
    p.type = QStringLiteral("wrong-current-password");
    p.title = QStringLiteral("Wrong current password");
    p.detail = QStringLiteral("The current password is not correct; the password was not changed.");
    return p.toResponse();
}

HttpResponse fromDb(const DbError &e) { return problemFor(e).toResponse(); }

// The hashing queue is full: refused at once, so a flood sheds load instead of queueing.
HttpResponse busy()
{
    return Problem::unavailable(QStringLiteral("Too many password checks are in progress; try again in a moment."), 1).toResponse();
}

// The "refresh" field of a refresh or logout body, or the reply refusing the body.
std::optional<HttpResponse> refreshTokenOf(const HttpRequest &request, QString *token)
{
    if (!request.json().isObject())
        return notAnObject();
    const QJsonValue value = request.json().toObject().value(QLatin1String("refresh"));
    if (!value.isString() || value.toString().isEmpty()) {
        FieldErrors errors;
        errors[QStringLiteral("refresh")].append(QStringLiteral("is required"));
        return validationFailed(errors);
    }
    *token = value.toString();
    return std::nullopt;
}

// For the OpenAPI description of the routes that describe more than a summary.
QJsonObject problemReply(const char *description)
{
    const QJsonObject schema{{QStringLiteral("$ref"), QStringLiteral("#/components/schemas/Problem")}};
    return QJsonObject{{QStringLiteral("description"), QLatin1String(description)},
                       {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/problem+json"), QJsonObject{{QStringLiteral("schema"), schema}}}}}};
}

QJsonObject logoutAllOperation()
{
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("logoutAll")},
        {QStringLiteral("description"), QStringLiteral("Ends every sign-in of the caller's account, this one included: every refresh token is "
                                                       "revoked and every access token issued so far is refused from now on. No body.")},
        {QStringLiteral("responses"), QJsonObject{{QStringLiteral("204"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Signed out everywhere")}}}}},
    };
}

QJsonObject changePasswordOperation()
{
    auto password = [](const char *description) {
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("description"), QLatin1String(description)}};
    };
    const QJsonObject schema{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("current_password"), QStringLiteral("new_password")}},
        {QStringLiteral("properties"), QJsonObject{{QStringLiteral("current_password"), password("The password the account has now")},
                                                   {QStringLiteral("new_password"), password("10 to 1,024 characters, as at registration")}}},
    };
    return QJsonObject{
        {QStringLiteral("operationId"), QStringLiteral("changePassword")},
        {QStringLiteral("description"), QStringLiteral("Replaces the caller's password and ends every sign-in of the account, this one included: "
                                                       "log in again with the new password. Wrong current passwords are counted and limited "
                                                       "like failed logins.")},
        {QStringLiteral("requestBody"), QJsonObject{{QStringLiteral("required"), true},
                                                    {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/json"),
                                                                                             QJsonObject{{QStringLiteral("schema"), schema}}}}}}},
        {QStringLiteral("responses"), QJsonObject{
            {QStringLiteral("204"), QJsonObject{{QStringLiteral("description"), QStringLiteral("Changed; every sign-in of the account has ended")}}},
            {QStringLiteral("400"), problemReply("The current password is wrong (wrong-current-password), or the body is not a JSON object")},
            {QStringLiteral("422"), problemReply("A field is missing or the new password is too short or too long")},
            {QStringLiteral("429"), problemReply("Too many wrong passwords for this account from this address; see Retry-After")},
        }},
    };
}

} // namespace

AuthRoutes::AuthRoutes(PluginContext &context, const Jwt &jwt, PasswordHasher &hasher, AccountStore &accounts, RefreshTokens &refresh,
                       LoginThrottle &throttle, AuthSettings settings)
    : m_context(context)
    , m_jwt(jwt)
    , m_hasher(hasher)
    , m_accounts(accounts)
    , m_refresh(refresh)
    , m_throttle(throttle)
    , m_settings(settings)
{
}

void AuthRoutes::registerRoutes()
{
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/auth/register"), [this](HttpRequest r) { return registerAccount(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("Create an account"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/auth/token"), [this](HttpRequest r) { return token(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("Log in: access and refresh tokens"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/auth/token/refresh"), [this](HttpRequest r) { return refresh(std::move(r)); })
        .auth(AuthLevel::Public).summary(QStringLiteral("Rotate a refresh token for a new pair"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/auth/logout"), [this](HttpRequest r) { return logout(std::move(r)); })
        .auth(AuthLevel::User).summary(QStringLiteral("End a sign-in: its refresh and access tokens stop working"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/auth/logout/all"), [this](HttpRequest r) { return logoutAll(std::move(r)); })
        .auth(AuthLevel::User).summary(QStringLiteral("Sign out everywhere")).openapi(logoutAllOperation());
    m_context.addRoute(HttpMethod::Get, QStringLiteral("/api/v1/users/me"), [this](HttpRequest r) { return me(std::move(r)); })
        .auth(AuthLevel::User).summary(QStringLiteral("The caller's account"));
    m_context.addRoute(HttpMethod::Patch, QStringLiteral("/api/v1/users/me"), [this](HttpRequest r) { return updateMe(std::move(r)); })
        .auth(AuthLevel::User).summary(QStringLiteral("Update names or base currency"));
    m_context.addRoute(HttpMethod::Post, QStringLiteral("/api/v1/users/me/password"), [this](HttpRequest r) { return changePassword(std::move(r)); })
        .auth(AuthLevel::User).summary(QStringLiteral("Change the password and sign out everywhere")).openapi(changePasswordOperation());
}

QByteArray AuthRoutes::accessToken(const Account &account, const RefreshTokens::Issued &issued) const
{
    const qint64 now = Clock::wallNow().toSecsSinceEpoch();
    return m_jwt.sign(QJsonObject{{QStringLiteral("sub"), account.id},
                                  {QStringLiteral("email"), account.email},
                                  {QStringLiteral("sid"), issued.familyId},
                                  {QStringLiteral("ver"), issued.tokenVersion},
                                  {QStringLiteral("iat"), now},
                                  {QStringLiteral("exp"), now + m_settings.accessTtlSeconds},
                                  {QStringLiteral("jti"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
                                  {QStringLiteral("typ"), QStringLiteral("access")},
                                  {QStringLiteral("iss"), QStringLiteral("yieldhost")}});
}

QJsonObject AuthRoutes::tokenPair(const Account &account, const RefreshTokens::Issued &issued) const
{
    return QJsonObject{{QStringLiteral("access"), QString::fromLatin1(accessToken(account, issued))},
                       {QStringLiteral("refresh"), issued.token},
                       {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                       {QStringLiteral("expires_in"), m_settings.accessTtlSeconds}};
}

QCoro::Task<HttpResponse> AuthRoutes::registerAccount(HttpRequest request)
{
    if (!request.json().isObject())
        co_return notAnObject();
    FieldErrors errors;
    Registration registration = validateRegistration(request.json().toObject(), &errors);
    if (registration.baseCurrencyGiven) {
        if (std::optional<HttpResponse> refused = co_await checkCurrency(registration.baseCurrency, &errors))
            co_return *refused;
    }
    if (!errors.isEmpty())
        co_return validationFailed(errors);
    const QString address = LoginThrottle::addressKey(request.peerAddress());
    const LoginThrottle::Reservation allowed = co_await m_throttle.reserveRegistration(address, Clock::wallNow());
    if (allowed.unavailable)
        co_return fromDb(DbError{DbError::Kind::Unavailable, {}, {}});
    if (allowed.retryAfter > 0) {
        qCInfo(m_context.log()).noquote() << QStringLiteral("registration throttled from %1 (retry in %2 s)").arg(address).arg(allowed.retryAfter);
        co_return Problem::make(429)
            .type(QStringLiteral("too-many-registrations"))
            .title(QStringLiteral("Too many registrations"))
            .detail(QStringLiteral("Too many accounts were registered from this address; try again in %1 seconds.").arg(allowed.retryAfter))
            .retryAfter(int(allowed.retryAfter))
            .toResponse();
    }
    const PasswordHasher::Hashed hashed = co_await m_hasher.hash(registration.password);
    if (hashed.busy) {
        co_await m_throttle.release(allowed.attempt);
        co_return busy();
    }
    if (hashed.encoded.isEmpty()) { // libargon2 failed (out of memory): store nothing that could never verify
        qCWarning(m_context.log()) << "password hashing failed; registration refused";
        co_return problem(Problem::unavailable(QStringLiteral("The password could not be processed right now; try again shortly."), 5));
    }
    const AccountStore::Created created = co_await m_accounts.create(std::move(registration), hashed.encoded, false, m_context.clock().now());
    if (created.error.kind == DbError::Kind::UniqueViolation)
        co_return emailTaken();
    if (created.error || !created.account)
        co_return fromDb(created.error);
    co_return HttpResponse::json(201, created.account->toJson());
}

QCoro::Task<std::optional<HttpResponse>> AuthRoutes::checkCurrency(QString code, FieldErrors *errors)
{
    Currencies *currencies = m_currencies.load();
    if (!currencies)
        co_return problem(Problem::unavailable(QStringLiteral("Currencies cannot be checked: the integrations plugin is not running. "
                                                              "Leave base_currency out to use USD."), 60));
    const CurrencyLookup found = co_await currencies->find(code);
    if (found.error)
        co_return fromDb(found.error);
    if (!found.currency)
        (*errors)[QStringLiteral("base_currency")].append(QStringLiteral("is not a known currency (GET /api/v1/currencies lists them)"));
    co_return std::nullopt;
}

QCoro::Task<HttpResponse> AuthRoutes::token(HttpRequest request)
{
    if (!request.json().isObject())
        co_return notAnObject();
    const QJsonObject body = request.json().toObject();
    FieldErrors errors;
    if (!body.value(QLatin1String("email")).isString())
        errors[QStringLiteral("email")].append(QStringLiteral("is required"));
    if (!body.value(QLatin1String("password")).isString())
        errors[QStringLiteral("password")].append(QStringLiteral("is required"));
    if (!errors.isEmpty())
        co_return validationFailed(errors);
    const QString email = body.value(QLatin1String("email")).toString();
    const QString password = body.value(QLatin1String("password")).toString();
    // No password longer than any account can have is worth an Argon2 run.
    if (password.size() > MaxPasswordLength * 2 || password.toUcs4().size() > MaxPasswordLength) {
        errors[QStringLiteral("password")].append(QStringLiteral("must be at most %1 characters").arg(MaxPasswordLength));
        co_return validationFailed(errors);
    }
    // Only something that could be an account's email is counted, stored and logged: no control
    // characters (a forged log line), no NUL, nothing longer than an email can be.
    if (!isValidEmail(displayEmail(email))) {
        errors[QStringLiteral("email")].append(QStringLiteral("must be a valid email address"));
        co_return validationFailed(errors);
    }
    const QString accountKey = canonicalEmail(email);
    const QString address = LoginThrottle::addressKey(request.peerAddress());
    const QDateTime now = Clock::wallNow();
    const AccountStore::Found found = co_await m_accounts.byEmail(email);
    if (found.error)
        co_return fromDb(found.error);
    const bool usable = found.account && found.account->isActive;
    // Always one Argon2 verification, against a dummy hash when there is no such account. (The
    // hash is chosen on its own line: GCC 12 destroys a ?: temporary in a co_await twice.)
    QString stored;
    if (usable)
        stored = found.account->passwordHash;
    const PasswordCheck check = co_await checkPassword(accountKey, address, stored, password, QStringLiteral("login"));
    if (check.refusal)
        co_return *check.refusal;
    if (!check.matched)
        co_return invalidCredentials();
    const RefreshTokens::Issued issued = co_await m_refresh.issue(found.account->id, found.account->tokenVersion, now);
    if (issued.error)
        co_return fromDb(issued.error);
    co_return HttpResponse::json(200, tokenPair(*found.account, issued));
}

QCoro::Task<AuthRoutes::PasswordCheck> AuthRoutes::checkPassword(QString accountKey, QString address, QString stored, QString password, QString action)
{
    PasswordCheck check;
    const LoginThrottle::Reservation attempt = co_await m_throttle.reserve(accountKey, address, Clock::wallNow());
    if (attempt.unavailable) {
        check.refusal = fromDb(DbError{DbError::Kind::Unavailable, {}, {}});
        co_return check;
    }
    if (attempt.retryAfter > 0) {
        qCInfo(m_context.log()).noquote() << QStringLiteral("%1 throttled for %2 from %3 (retry in %4 s)").arg(action, accountKey, address).arg(attempt.retryAfter);
        check.refusal = throttled(attempt.retryAfter);
        co_return check;
    }
    const PasswordHasher::Verdict verdict = co_await m_hasher.verify(stored, password);
    if (verdict == PasswordHasher::Verdict::Busy) {
        co_await m_throttle.release(attempt.attempt);
        check.refusal = busy();
        co_return check;
    }
    if (verdict != PasswordHasher::Verdict::Match) {
        co_await m_throttle.fail(attempt.attempt);
        qCInfo(m_context.log()).noquote() << QStringLiteral("failed %1 for %2 from %3").arg(action, accountKey, address);
        co_return check;
    }
    co_await m_throttle.succeed(attempt.attempt, accountKey, address);
    check.matched = true;
    co_return check;
}

QCoro::Task<HttpResponse> AuthRoutes::refresh(HttpRequest request)
{
    QString token;
    if (std::optional<HttpResponse> refused = refreshTokenOf(request, &token))
        co_return *refused;
    const RefreshTokens::Rotation rotation = co_await m_refresh.rotate(token, Clock::wallNow());
    if (rotation.next.error)
        co_return fromDb(rotation.next.error);
    if (rotation.verdict == RefreshTokens::Verdict::Reused) {
        qCWarning(m_context.log()) << "a rotated refresh token was presented again; its family is revoked";
        co_return invalidRefresh();
    }
    if (rotation.verdict != RefreshTokens::Verdict::Rotated)
        co_return invalidRefresh();
    const AccountStore::Found found = co_await m_accounts.byId(rotation.next.userId);
    if (!found.account)
        co_return found.error ? fromDb(found.error) : invalidRefresh();
    co_return HttpResponse::json(200, tokenPair(*found.account, rotation.next));
}

void AuthRoutes::forgetSignIns(const QString &userId)
{
    if (m_authCache)
        m_authCache->forgetUser(userId);
}

QCoro::Task<HttpResponse> AuthRoutes::logout(HttpRequest request)
{
    QString token;
    if (std::optional<HttpResponse> refused = refreshTokenOf(request, &token))
        co_return *refused;
    // The whole sign-in ends, not only this refresh token: its access tokens name the family.
    const std::optional<bool> revoked = co_await m_refresh.revokeFamily(token, request.user()->id, Clock::wallNow());
    if (!revoked)
        co_return fromDb(DbError{DbError::Kind::Unavailable, {}, {}});
    forgetSignIns(request.user()->id);
    // Idempotent: an already revoked (or foreign) token leaves nothing to do; say nothing more.
    co_return HttpResponse::noContent();
}

QCoro::Task<HttpResponse> AuthRoutes::logoutAll(HttpRequest request)
{
    const AccountStore::SignedOut out = co_await m_accounts.signOutEverywhere(request.user()->id, Clock::wallNow());
    if (out.error)
        co_return fromDb(out.error);
    forgetSignIns(request.user()->id);
    qCInfo(m_context.log()).noquote() << QStringLiteral("account %1 signed out everywhere").arg(request.user()->id);
    co_return HttpResponse::noContent();
}

QCoro::Task<HttpResponse> AuthRoutes::me(HttpRequest request)
{
    const AccountStore::Found found = co_await m_accounts.byId(request.user()->id);
    if (!found.account)
        co_return found.error ? fromDb(found.error) : problem(Problem::notFound(QStringLiteral("The account no longer exists.")));
    co_return HttpResponse::text(200, found.account->toJsonText(), "application/json");
}

QCoro::Task<HttpResponse> AuthRoutes::updateMe(HttpRequest request)
{
    if (!request.json().isObject())
        co_return notAnObject();
    FieldErrors errors;
    ProfileChanges changes = validateProfile(request.json().toObject(), &errors);
    if (changes.baseCurrency) {
        if (std::optional<HttpResponse> refused = co_await checkCurrency(*changes.baseCurrency, &errors))
            co_return *refused;
    }
    if (!errors.isEmpty())
        co_return validationFailed(errors);
    const AccountStore::Found found = co_await m_accounts.update(request.user()->id, std::move(changes));
    if (!found.account)
        co_return found.error ? fromDb(found.error) : problem(Problem::notFound(QStringLiteral("The account no longer exists.")));
    co_return HttpResponse::json(200, found.account->toJson());
}

QCoro::Task<HttpResponse> AuthRoutes::changePassword(HttpRequest request)
{
    if (!request.json().isObject())
        co_return notAnObject();
    const QJsonObject body = request.json().toObject();
    FieldErrors errors;
    const QJsonValue current = body.value(QLatin1String("current_password"));
    if (!current.isString() || current.toString().isEmpty())
        errors[QStringLiteral("current_password")].append(QStringLiteral("is required"));
    // As at login: no password longer than any account can have is worth an Argon2 run.
    else if (current.toString().size() > MaxPasswordLength * 2 || current.toString().toUcs4().size() > MaxPasswordLength)
        errors[QStringLiteral("current_password")].append(QStringLiteral("must be at most %1 characters").arg(MaxPasswordLength));
    if (const QString why = validatePassword(body.value(QLatin1String("new_password"))); !why.isEmpty())
        errors[QStringLiteral("new_password")].append(why);
    if (!errors.isEmpty())
        co_return validationFailed(errors);

    const QString userId = request.user()->id;
    const AccountStore::Found found = co_await m_accounts.byId(userId);
    if (!found.account)
        co_return found.error ? fromDb(found.error) : problem(Problem::notFound(QStringLiteral("The account no longer exists.")));
    const QString accountKey = canonicalEmail(found.account->email);
    const QString address = LoginThrottle::addressKey(request.peerAddress());
    const PasswordCheck check = co_await checkPassword(accountKey, address, found.account->passwordHash, current.toString(), QStringLiteral("password change"));
    if (check.refusal)
        co_return *check.refusal;
    if (!check.matched)
        co_return wrongCurrentPassword();

    const PasswordHasher::Hashed hashed = co_await m_hasher.hash(body.value(QLatin1String("new_password")).toString());
    if (hashed.busy)
        co_return busy();
    if (hashed.encoded.isEmpty()) { // libargon2 failed (out of memory): keep the password that works
        qCWarning(m_context.log()) << "password hashing failed; password change refused";
        co_return problem(Problem::unavailable(QStringLiteral("The password could not be processed right now; try again shortly."), 5));
    }
    const std::optional<AccountStore::PasswordChange> change = AccountStore::PasswordChange{found.account->passwordHash, hashed.encoded};
    const AccountStore::SignedOut out = co_await m_accounts.signOutEverywhere(userId, Clock::wallNow(), change);
    if (out.error)
        co_return fromDb(out.error);
    forgetSignIns(userId);
    if (!out.done) // another change came first: the password checked above is no longer the current one
        co_return problem(Problem::conflict(QStringLiteral("password-changed"), QStringLiteral("Password changed meanwhile"),
                                            QStringLiteral("The password was changed by another request meanwhile; log in again.")));
    qCInfo(m_context.log()).noquote() << QStringLiteral("account %1 changed its password and was signed out everywhere").arg(userId);
    co_return HttpResponse::noContent();
}

} // namespace yieldhost::users
