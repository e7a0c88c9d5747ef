// The users plugin end to end over real HTTP against the real binary on real PostgreSQL:
// registration and its validation, the JWT access token (checked by an independent verifier and
// attacked: tampered, alg none, another key, HS512, expired, a refresh token in its place, a
// `typ` or `iss` changed under the real secret), refresh rotation with family revocation (also
// when two refreshes race), expired refresh tokens, deactivated accounts, logout ending the
// access tokens of its sign-in, sign out everywhere, password change (throttled like a login),
// the cleanup of ended sign-ins, the revocation routes' OpenAPI, login throttling (per pair,
// address and account; success clearing), isolation between users, PATCH /users/me and its
// read-only fields, the createuser command, the refusal to run outside sandbox without a secret
// and the host stopping on a wrong or misspelled setting of the users plugin, naming its variable.
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"
#include "PgFixture.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QMessageAuthenticationCode>
#include <QtCore/QRegularExpression>
#include <QtCore/QUrl>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

#include <algorithm>

using namespace yieldhost::test;

namespace {

const QByteArray kSecret = QByteArrayLiteral("test-secret-0123456789abcdef0123456789");
const QString kPassword = QStringLiteral("correct horse battery staple");

struct Tokens
{
    QByteArray access;
    QByteArray refresh;
};

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }
QByteArray b64url(const QByteArray &data) { return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals); }
QByteArray unb64url(const QByteArray &data) { return QByteArray::fromBase64(data, QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals); }
QByteArray hmac(QCryptographicHash::Algorithm algorithm, const QByteArray &message, const QByteArray &key)
{
    return b64url(QMessageAuthenticationCode::hash(message, key, algorithm));
}
// A token's three segments (header, payload, signature) as sent.
QByteArrayList segments(const QByteArray &token) { return token.split('.'); }
QJsonObject jwtPayload(const QByteArray &token) { return QJsonDocument::fromJson(unb64url(segments(token).value(1))).object(); }
QJsonObject jwtHeader(const QByteArray &token) { return QJsonDocument::fromJson(unb64url(segments(token).value(0))).object(); }
QByteArray jwtSegment(const QJsonObject &o) { return b64url(compact(o)); }
QJsonObject header(const char *alg)
{
    return QJsonObject{{QStringLiteral("alg"), QString::fromLatin1(alg)}, {QStringLiteral("typ"), QStringLiteral("JWT")}};
}
Headers bearer(const QByteArray &token) { return {{QByteArrayLiteral("Authorization"), QByteArray(QByteArrayLiteral("Bearer ") + token)}}; }
// A token with these claims, signed as the host signs (HS256 with the test host's secret): what
// such a token is refused for is its claims, never its signature.
QByteArray signedToken(const QJsonObject &claims)
{
    const QByteArray input = jwtSegment(header("HS256")) + '.' + jwtSegment(claims);
    return input + '.' + hmac(QCryptographicHash::Sha256, input, kSecret);
}
QJsonObject refreshBody(const QByteArray &refreshToken) { return QJsonObject{{QStringLiteral("refresh"), QString::fromLatin1(refreshToken)}}; }

} // namespace

class TestUsers : public QObject
{
    Q_OBJECT

    PgFixture m_pg;
    QString m_dbUrl;
    std::unique_ptr<HostProcess> m_host;
    int m_seq = 0;

    // --- helpers ---

    QProcessEnvironment hostEnv() const
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_dbUrl);
        env.insert(QStringLiteral("YIELDHOST_JWT_SECRET"), QString::fromLatin1(kSecret));
        // This suite registers dozens of accounts from 127.0.0.1; the limit has its own test.
        env.insert(QStringLiteral("YIELDHOST_USERS__REGISTRATIONS_PER_ADDRESS_PER_HOUR"), QStringLiteral("100000"));
        return env;
    }
    QString uniqueEmail(const char *prefix) { return QStringLiteral("%1-%2@example.com").arg(QLatin1String(prefix)).arg(++m_seq); }

    static std::optional<HttpReply> call(HostProcess &host, const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                                         const QByteArray &token = {}, const QByteArray &contentType = "application/json")
    {
        return HttpClient::request(host.host(), host.port(), method, path, body, contentType, token.isEmpty() ? Headers{} : bearer(token));
    }
    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {})
    {
        return call(*m_host, method, path, body, token);
    }
    std::optional<HttpReply> post(const QByteArray &path, const QJsonObject &body, const QByteArray &token = {})
    {
        return call("POST", path, compact(body), token);
    }
    std::optional<HttpReply> me(const QByteArray &token, HostProcess *host = nullptr)
    {
        return call(host ? *host : *m_host, "GET", "/api/v1/users/me", {}, token);
    }
    std::optional<HttpReply> meWith(const QByteArray &authorization)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "GET", "/api/v1/users/me", {}, {},
                                   {{QByteArrayLiteral("Authorization"), authorization}});
    }
    std::optional<HttpReply> patchMe(const QJsonObject &body, const QByteArray &token)
    {
        return call("PATCH", "/api/v1/users/me", compact(body), token);
    }
    std::optional<HttpReply> refresh(const QByteArray &refreshToken, HostProcess *host = nullptr)
    {
        return call(host ? *host : *m_host, "POST", "/api/v1/auth/token/refresh",
                    compact(QJsonObject{{QStringLiteral("refresh"), QString::fromLatin1(refreshToken)}}));
    }
    std::optional<HttpReply> loginReply(const QString &email, const QString &password, HostProcess *host = nullptr)
    {
        return call(host ? *host : *m_host, "POST", "/api/v1/auth/token",
                    compact(QJsonObject{{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
    }


    // A host that must refuse to start: it exits 1 (not by a crash) naming `reason`.
    static void verifyRefusesToStart(const QProcessEnvironment &env, const QString &reason)
    {
        HostProcess host(env);
        QString error;
        host.start(&error, 30000); // fails (it exits before listening) or, at worst, is followed by the exit
        QVERIFY2(host.waitForExit(30000), qPrintable(host.output().right(2000)));
        QVERIFY2(host.exitCode() == 1, qPrintable(QStringLiteral("exit %1 (-1: crashed):\n%2").arg(host.exitCode()).arg(host.output().right(3000))));
        QVERIFY2(host.output().contains(reason), qPrintable(host.output().right(2000)));
    }

    // A login from another client address: every 127/8 address is this machine.
    std::optional<HttpReply> loginFrom(const char *address, const QString &email, const QString &password)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/token",
                                   compact(QJsonObject{{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}),
                                   "application/json", {}, QHostAddress(QString::fromLatin1(address)));
    }

    // SQL on the host's database, for what no route does (deactivating an account, ageing a token).
    void sql(const QString &statement, QString *result = nullptr)
    {
        QString error;
        const QString out = m_pg.psql(QUrl(m_dbUrl).path().mid(1), statement, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        if (result)
            *result = out;
    }
    static QString idOf(const QJsonObject &user)
    {
        const QString id = user.value(QLatin1String("id")).toString();
        return QUuid::fromString(id).isNull() ? QString() : id; // only a UUID goes into SQL text
    }

    std::optional<HttpReply> logout(const QByteArray &refreshToken, const QByteArray &access)
    {
        return post("/api/v1/auth/logout", refreshBody(refreshToken), access);
    }
    std::optional<HttpReply> logoutAll(const QByteArray &access) { return call("POST", "/api/v1/auth/logout/all", {}, access); }
    // From `address`: wrong current passwords count against it, and 127.0.0.1 is shared by the suite.
    std::optional<HttpReply> changePassword(const char *address, const QByteArray &access, const QJsonObject &body)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/users/me/password", compact(body), "application/json", bearer(access),
                                   QHostAddress(QString::fromLatin1(address)));
    }
    std::optional<HttpReply> changePassword(const char *address, const QByteArray &access, const QString &current, const QString &next)
    {
        return changePassword(address, access, {{QStringLiteral("current_password"), current}, {QStringLiteral("new_password"), next}});
    }

    bool registerUser(const QString &email, QJsonObject *user = nullptr, QJsonObject extra = {})
    {
        extra.insert(QStringLiteral("email"), email);
        if (!extra.contains(QLatin1String("password")))
            extra.insert(QStringLiteral("password"), kPassword);
        const auto r = post("/api/v1/auth/register", extra);
        if (!r || r->status != 201) {
            qWarning("register %s: %s", qPrintable(email), qPrintable(describe(r)));
            return false;
        }
        if (user)
            *user = r->json();
        return true;
    }
    // Tokens from a 200 token/refresh reply, checking its shape.
    static bool tokensFrom(const std::optional<HttpReply> &r, Tokens *t, int expiresIn = 900)
    {
        if (!r || r->status != 200) {
            qWarning("token reply: %s", qPrintable(describe(r)));
            return false;
        }
        const QJsonObject o = r->json();
        t->access = o.value(QLatin1String("access")).toString().toLatin1();
        t->refresh = o.value(QLatin1String("refresh")).toString().toLatin1();
        const bool ok = !t->access.isEmpty() && !t->refresh.isEmpty() && t->access != t->refresh
            && o.value(QLatin1String("token_type")).toString() == QLatin1String("Bearer") && o.value(QLatin1String("expires_in")).isDouble()
            && (expiresIn < 0 || o.value(QLatin1String("expires_in")).toInt() == expiresIn)
            && r->header("content-type").startsWith("application/json");
        if (!ok)
            qWarning("unexpected token reply: %s", qPrintable(describe(r)));
        return ok;
    }
    bool login(const QString &email, Tokens *t, const QString &password = kPassword, HostProcess *host = nullptr)
    {
        return tokensFrom(loginReply(email, password, host), t, host ? -1 : 900);
    }
    bool newUser(const char *prefix, Tokens *t, QJsonObject *user = nullptr)
    {
        const QString email = uniqueEmail(prefix);
        return registerUser(email, user) && login(email, t);
    }

    // A 422 whose `errors` has exactly these fields, each with at least one message.
    static void verifyFieldErrors(const std::optional<HttpReply> &r, QStringList fields)
    {
        verifyProblem(r, 422);
        if (QTest::currentTestFailed())
            return;
        const QJsonObject errors = r->json().value(QLatin1String("errors")).toObject();
        QStringList keys = errors.keys();
        std::sort(keys.begin(), keys.end());
        std::sort(fields.begin(), fields.end());
        QVERIFY2(keys == fields, qPrintable(describe(r)));
        for (const QString &f : fields) {
            const QJsonArray messages = errors.value(f).toArray();
            QVERIFY2(!messages.isEmpty(), qPrintable(f));
            for (const QJsonValue &m : messages)
                QVERIFY(m.isString() && !m.toString().isEmpty());
        }
    }
    static void verifyUser(const QJsonObject &u)
    {
        QStringList keys = u.keys();
        std::sort(keys.begin(), keys.end());
        QCOMPARE(keys, QStringList({QStringLiteral("base_currency"), QStringLiteral("date_joined"), QStringLiteral("email"), QStringLiteral("first_name"),
                                    QStringLiteral("id"), QStringLiteral("is_staff"), QStringLiteral("last_name")}));
        QVERIFY(u.value(QLatin1String("id")).isString() && !u.value(QLatin1String("id")).toString().isEmpty());
        QVERIFY(u.value(QLatin1String("email")).isString());
        QVERIFY(u.value(QLatin1String("first_name")).isString());
        QVERIFY(u.value(QLatin1String("last_name")).isString());
        QVERIFY(u.value(QLatin1String("base_currency")).isString());
        QVERIFY(u.value(QLatin1String("is_staff")).isBool());
        const QString joined = u.value(QLatin1String("date_joined")).toString();
        static const QRegularExpression rfc3339Utc(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$"));
        QVERIFY2(rfc3339Utc.match(joined).hasMatch(), qPrintable(joined));
        const QDateTime when = QDateTime::fromString(joined, Qt::ISODateWithMs);
        QVERIFY2(when.isValid(), qPrintable(joined));
        QVERIFY2(qAbs(when.secsTo(QDateTime::currentDateTimeUtc())) < 600, qPrintable(joined));
    }
    static void verifyUnauthorized(const std::optional<HttpReply> &r)
    {
        verifyProblem(r, 401);
    }

    // Runs the independent verifier; returns its exit code, stdout in *out.
    static int pythonVerify(const QByteArray &token, const QByteArray &secret, QByteArray *out, QByteArray *err = nullptr)
    {
        const QString script = QFINDTESTDATA("jwt_verify.py");
        if (script.isEmpty())
            return -2;
        QProcess p;
        p.start(QStringLiteral("python3"), {script, QString::fromLatin1(token), QString::fromLatin1(secret)});
        if (!p.waitForFinished(30000))
            return -1;
        *out = p.readAllStandardOutput();
        if (err)
            *err = p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
        m_dbUrl = m_pg.createDatabase(&error);
        QVERIFY2(!m_dbUrl.isEmpty(), qPrintable(error));
        m_host = std::make_unique<HostProcess>(hostEnv());
        QVERIFY2(m_host->start(&error, 60000), qPrintable(error));
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(2000)));
    }
    void cleanupTestCase()
    {
        if (m_host && m_host->process().state() == QProcess::Running) {
            const int code = m_host->terminate();
            QVERIFY2(code == 0, qPrintable(m_host->output().right(3000)));
        }
    }

    // --- register ---

    void registerReturns201WithExactlyTheUserFields()
    {
        const QString email = uniqueEmail("reg");
        const auto r = post("/api/v1/auth/register",
                            {{QStringLiteral("email"), email},
                             {QStringLiteral("password"), kPassword},
                             {QStringLiteral("first_name"), QStringLiteral("Ada")},
                             {QStringLiteral("last_name"), QStringLiteral("Lovelace")},
                             {QStringLiteral("base_currency"), QStringLiteral("EUR")}});
        QVERIFY(r);
        QVERIFY2(r->status == 201, qPrintable(describe(r)));
        QVERIFY(r->header("content-type").startsWith("application/json"));
        const QJsonObject u = r->json();
        CHECK(verifyUser(u));
        QCOMPARE(u.value(QLatin1String("email")).toString(), email);
        QCOMPARE(u.value(QLatin1String("first_name")).toString(), QStringLiteral("Ada"));
        QCOMPARE(u.value(QLatin1String("last_name")).toString(), QStringLiteral("Lovelace"));
        QCOMPARE(u.value(QLatin1String("base_currency")).toString(), QStringLiteral("EUR"));
        QCOMPARE(u.value(QLatin1String("is_staff")).toBool(), false);
        QVERIFY(!r->body.contains(kPassword.toUtf8()));
    }

    void registerDefaultsBaseCurrencyToUsd()
    {
        QJsonObject u;
        QVERIFY(registerUser(uniqueEmail("default-ccy"), &u));
        CHECK(verifyUser(u));
        QCOMPARE(u.value(QLatin1String("base_currency")).toString(), QStringLiteral("USD"));
        QCOMPARE(u.value(QLatin1String("is_staff")).toBool(), false);
    }

    void registerAcceptsEverySupportedBaseCurrency()
    {
        for (const char *code : {"USD", "EUR", "GBP", "BTC", "ETH", "USDT"}) {
            QJsonObject u;
            QVERIFY2(registerUser(uniqueEmail("ccy"), &u, {{QStringLiteral("base_currency"), QString::fromLatin1(code)}}), code);
            QCOMPARE(u.value(QLatin1String("base_currency")).toString(), QString::fromLatin1(code));
        }
    }

    void registerAcceptsAPasswordOfExactlyTenCharacters()
    {
        const QString email = uniqueEmail("ten");
        QVERIFY(registerUser(email, nullptr, {{QStringLiteral("password"), QStringLiteral("0123456789")}}));
        Tokens t;
        QVERIFY(login(email, &t, QStringLiteral("0123456789")));
    }

    void registerRefusesAPasswordShorterThanTenCharactersWith422()
    {
        CHECK(verifyFieldErrors(post("/api/v1/auth/register",
                                     {{QStringLiteral("email"), uniqueEmail("short")}, {QStringLiteral("password"), QStringLiteral("012345678")}}),
                                {QStringLiteral("password")}));
        // Characters, not bytes: nine two-byte characters are still nine.
        CHECK(verifyFieldErrors(post("/api/v1/auth/register",
                                     {{QStringLiteral("email"), uniqueEmail("short")}, {QStringLiteral("password"), QString(9, QChar(u'\u00e9'))}}),
                                {QStringLiteral("password")}));
    }

    void registerRefusesAnInvalidEmailWith422()
    {
        for (const char *bad : {"not-an-email", "", "a@", "@example.com", "two words@example.com"}) {
            CHECK(verifyFieldErrors(
                post("/api/v1/auth/register", {{QStringLiteral("email"), QString::fromLatin1(bad)}, {QStringLiteral("password"), kPassword}}),
                {QStringLiteral("email")}));
        }
    }

    void registerReportsEveryInvalidFieldIn422()
    {
        const auto r = post("/api/v1/auth/register", {{QStringLiteral("email"), QStringLiteral("not-an-email")},
                                                      {QStringLiteral("password"), QStringLiteral("short")},
                                                      {QStringLiteral("base_currency"), QStringLiteral("XYZ")},
                                                      {QStringLiteral("first_name"), 42},
                                                      {QStringLiteral("last_name"), QString(151, u'x')}});
        CHECK(verifyFieldErrors(r, {QStringLiteral("email"), QStringLiteral("password"), QStringLiteral("base_currency"), QStringLiteral("first_name"),
                                    QStringLiteral("last_name")}));
    }

    void registerWithoutEmailAndPasswordIs422()
    {
        CHECK(verifyFieldErrors(post("/api/v1/auth/register", QJsonObject{}), {QStringLiteral("email"), QStringLiteral("password")}));
    }

    void registerWithAWrongJsonTypeIs422ForThatField()
    {
        CHECK(verifyFieldErrors(call("POST", "/api/v1/auth/register",
                                     QByteArray("{\"email\":\"" + uniqueEmail("type").toUtf8() + "\",\"password\":12345678901}")),
                                {QStringLiteral("password")}));
        CHECK(verifyFieldErrors(call("POST", "/api/v1/auth/register", QByteArray("{\"email\":[\"a@example.com\"],\"password\":\"0123456789ab\"}")),
                                {QStringLiteral("email")}));
        CHECK(verifyFieldErrors(call("POST", "/api/v1/auth/register",
                                     QByteArray("{\"email\":\"" + uniqueEmail("type").toUtf8() + "\",\"password\":\"0123456789ab\",\"base_currency\":1}")),
                                {QStringLiteral("base_currency")}));
    }

    void registerAcceptsNamesUpTo150Characters()
    {
        QJsonObject u;
        QVERIFY(registerUser(uniqueEmail("names"), &u,
                             {{QStringLiteral("first_name"), QString(150, u'a')}, {QStringLiteral("last_name"), QString(150, QChar(u'\u00e9'))}}));
        QCOMPARE(u.value(QLatin1String("first_name")).toString(), QString(150, u'a'));
        QCOMPARE(u.value(QLatin1String("last_name")).toString(), QString(150, QChar(u'\u00e9')));
    }

    void registerWithATakenEmailIs409IgnoringCase()
    {
        QVERIFY(registerUser(QStringLiteral("alice@example.com")));
        CHECK(verifyProblem(post("/api/v1/auth/register", {{QStringLiteral("email"), QStringLiteral("Alice@Example.com")}, {QStringLiteral("password"), kPassword}}),
                            409));
        CHECK(verifyProblem(post("/api/v1/auth/register", {{QStringLiteral("email"), QStringLiteral("alice@example.com")}, {QStringLiteral("password"), kPassword}}),
                            409));
    }

    void registerWithMalformedJsonIs400()
    {
        CHECK(verifyProblem(call("POST", "/api/v1/auth/register", "{\"email\": \"x@example.com\", \"password\": "), 400));
        CHECK(verifyProblem(call("POST", "/api/v1/auth/register", "{email: x}"), 400));
    }

    void registerWithANonObjectBodyIs400()
    {
        for (const char *body : {"[\"x@example.com\", \"0123456789ab\"]", "\"x@example.com\"", "42", "null", "true"})
            CHECK(verifyProblem(call("POST", "/api/v1/auth/register", QByteArray(body)), 400));
    }

    void registerWithAFormBodyIs415()
    {
        CHECK(verifyProblem(call(*m_host, "POST", "/api/v1/auth/register", "email=x%40example.com&password=0123456789ab", {},
                                 "application/x-www-form-urlencoded"),
                            415));
    }

    void registerWithATwoMegabyteBodyIs413()
    {
        const QByteArray body = "{\"email\":\"" + uniqueEmail("huge").toUtf8() + "\",\"password\":\"" + QByteArray(2 * 1024 * 1024, 'a') + "\"}";
        CHECK(verifyProblem(call("POST", "/api/v1/auth/register", body), 413));
        QCOMPARE(m_host->process().state(), QProcess::Running);
    }

    // --- token ---

    void loginReturnsABearerPairThatOpensUsersMe()
    {
        QJsonObject u;
        const QString email = uniqueEmail("login");
        QVERIFY(registerUser(email, &u));
        Tokens t;
        QVERIFY(login(email, &t));
        const auto r = me(t.access);
        QVERIFY(r);
        QVERIFY2(r->status == 200, qPrintable(describe(r)));
        CHECK(verifyUser(r->json()));
        QCOMPARE(r->json(), u);
    }

    void accessTokenVerifiesWithAnIndependentHs256Verifier()
    {
        QJsonObject u;
        const QString email = uniqueEmail("jwt");
        QVERIFY(registerUser(email, &u));
        Tokens t;
        QVERIFY(login(email, &t));
        QCOMPARE(segments(t.access).size(), 3);
        QByteArray out, err;
        const int code = pythonVerify(t.access, kSecret, &out, &err);
        QVERIFY2(code == 0, qPrintable(QStringLiteral("jwt_verify.py exited %1: %2").arg(code).arg(QString::fromUtf8(err))));
        QJsonParseError parseError;
        const QJsonObject claims = QJsonDocument::fromJson(out, &parseError).object();
        QVERIFY2(parseError.error == QJsonParseError::NoError, out.constData());
        QCOMPARE(claims.value(QLatin1String("sub")).toString(), u.value(QLatin1String("id")).toString());
        QCOMPARE(claims.value(QLatin1String("email")).toString(), email);
        QCOMPARE(claims.value(QLatin1String("typ")).toString(), QStringLiteral("access"));
        QCOMPARE(claims.value(QLatin1String("iss")).toString(), QStringLiteral("yieldhost"));
        QVERIFY(claims.value(QLatin1String("iat")).isDouble() && claims.value(QLatin1String("exp")).isDouble());
        QCOMPARE(claims.value(QLatin1String("exp")).toInteger() - claims.value(QLatin1String("iat")).toInteger(), qint64(900));
        QVERIFY(qAbs(claims.value(QLatin1String("iat")).toInteger() - QDateTime::currentSecsSinceEpoch()) < 600);
        QVERIFY(claims.value(QLatin1String("jti")).isString() && !claims.value(QLatin1String("jti")).toString().isEmpty());
        QCOMPARE(jwtHeader(t.access).value(QLatin1String("alg")).toString(), QStringLiteral("HS256"));

        // The verifier is not a rubber stamp: the wrong secret fails it.
        QCOMPARE(pythonVerify(t.access, "another-secret-0123456789abcdef0123456789", &out), 1);

        // Two logins: two distinct jti.
        Tokens again;
        QVERIFY(login(email, &again));
        QVERIFY(jwtPayload(again.access).value(QLatin1String("jti")).toString() != claims.value(QLatin1String("jti")).toString());
    }

    void unknownEmailAndWrongPasswordGetTheSame401()
    {
        const QString email = uniqueEmail("same401");
        QVERIFY(registerUser(email));
        const auto wrongPassword = loginReply(email, QStringLiteral("not the right password"));
        const auto unknownEmail = loginReply(uniqueEmail("nobody"), QStringLiteral("not the right password"));
        CHECK(verifyProblem(wrongPassword, 401));
        CHECK(verifyProblem(unknownEmail, 401));
        QCOMPARE(wrongPassword->body, unknownEmail->body);
        QCOMPARE(wrongPassword->header("content-type"), unknownEmail->header("content-type"));
        QCOMPARE(wrongPassword->header("www-authenticate"), unknownEmail->header("www-authenticate"));
    }

    void repeatedFailedLoginsAreThrottledWith429()
    {
        const QString email = uniqueEmail("throttle");
        QVERIFY(registerUser(email));
        for (int i = 0; i < 5; ++i)
            CHECK(verifyProblem(loginReply(email, QStringLiteral("wrong password %1").arg(i)), 401));
        // The sixth attempt is refused even with the right password.
        const auto throttled = loginReply(email, kPassword);
        CHECK(verifyProblem(throttled, 429));
        bool isNumber = false;
        const int retryAfter = throttled->header("retry-after").toInt(&isNumber);
        QVERIFY2(isNumber && retryAfter > 0 && retryAfter <= 15 * 60, throttled->header("retry-after").constData());
        QVERIFY(!throttled->json().contains(QLatin1String("access")));

        // Only that email: another account on the same address still logs in.
        const QString other = uniqueEmail("not-throttled");
        QVERIFY(registerUser(other));
        Tokens t;
        QVERIFY(login(other, &t));

        // The failures live in PostgreSQL: a second host on the same database refuses too.
        HostProcess second(hostEnv());
        QString error;
        QVERIFY2(second.start(&error, 60000), qPrintable(error));
        QVERIFY2(second.waitReady(60000), qPrintable(second.output().right(2000)));
        CHECK(verifyProblem(loginReply(email, kPassword, &second), 429));
        QVERIFY(!loginReply(email, kPassword, &second)->header("retry-after").isEmpty());
        QCOMPARE(second.terminate(), 0);
    }

    // --- throttling: parallel bursts, lockout by email, many addresses ---

    void aBurstOfParallelWrongLoginsChecksAtMostThePairLimitOfPasswords()
    {
        // Attempts are reserved before the password is checked: 40 requests in flight at once
        // get no more password checks than the limit of 5 per address and account.
        const QString email = uniqueEmail("burst");
        QVERIFY(registerUser(email));
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < 40; ++i) {
            auto client = std::make_unique<HttpClient>(m_host->host(), m_host->port());
            QVERIFY(client->open(5000, QHostAddress(QStringLiteral("127.0.0.2"))));
            clients.push_back(std::move(client));
        }
        for (int i = 0; i < 40; ++i) {
            const QJsonObject body{{QStringLiteral("email"), email}, {QStringLiteral("password"), QStringLiteral("wrong guess %1").arg(i)}};
            clients[size_t(i)]->send(HttpClient::format(m_host->host(), "POST", "/api/v1/auth/token", compact(body))); // sent now, not when read
        }
        int unauthorized = 0, throttled = 0;
        for (auto &client : clients) {
            const auto r = client->read(60000);
            QVERIFY(r);
            if (r->status == 401)
                ++unauthorized;
            else if (r->status == 429)
                ++throttled;
            else
                QFAIL(qPrintable(QStringLiteral("unexpected status %1").arg(r->status)));
        }
        QVERIFY2(unauthorized >= 1 && unauthorized <= 5, qPrintable(QString::number(unauthorized)));
        QCOMPARE(unauthorized + throttled, 40);
        // And the right password from that address is refused for now too.
        CHECK(verifyProblem(loginFrom("127.0.0.2", email, kPassword), 429));
    }

    void knowingAnEmailIsNotEnoughToLockItsOwnerOut()
    {
        const QString email = uniqueEmail("lockout");
        QVERIFY(registerUser(email));
        for (int i = 0; i < 5; ++i)
            CHECK(verifyProblem(loginFrom("127.0.0.3", email, QStringLiteral("guess %1").arg(i)), 401));
        CHECK(verifyProblem(loginFrom("127.0.0.3", email, kPassword), 429));
        // The owner, at an address that has not been failing, is let in.
        const auto owner = loginFrom("127.0.0.4", email, kPassword);
        QVERIFY(owner);
        QCOMPARE(owner->status, 200);
    }

    void manyFailingAddressesSlowTheAccountDownButNotAFreshAddress()
    {
        const QString email = uniqueEmail("spray");
        QVERIFY(registerUser(email));
        // 20 addresses, one wrong guess each: the account-wide threshold.
        for (int a = 10; a < 30; ++a)
            CHECK(verifyProblem(loginFrom(qPrintable(QStringLiteral("127.0.0.%1").arg(a)), email, QStringLiteral("guess")), 401));
        // One of those addresses tries again: the account's growing delay applies to it.
        const auto slowed = loginFrom("127.0.0.10", email, QStringLiteral("another guess"));
        CHECK(verifyProblem(slowed, 429));
        bool isNumber = false;
        const int retryAfter = slowed->header("retry-after").toInt(&isNumber);
        QVERIFY2(isNumber && retryAfter >= 1 && retryAfter <= 30, slowed->header("retry-after").constData());
        // An address that has not been failing still logs in with the right password.
        const auto fresh = loginFrom("127.0.0.40", email, kPassword);
        QVERIFY(fresh);
        QCOMPARE(fresh->status, 200);
    }

    void failuresFromOneAddressAcrossAccountsAreThrottled()
    {
        // 20 failures of one address in the window, spread so that no (account, address) pair
        // reaches its own limit of 5 and no account its limit of 20.
        QStringList emails;
        for (int i = 0; i < 5; ++i) {
            emails.append(uniqueEmail("sprayed"));
            QVERIFY(registerUser(emails.last()));
        }
        for (int i = 0; i < 20; ++i)
            CHECK(verifyProblem(loginFrom("127.0.3.7", emails[i % 5], QStringLiteral("guess %1").arg(i)), 401));
        const QString untouched = uniqueEmail("sprayed-untouched");
        QVERIFY(registerUser(untouched));
        const auto refused = loginFrom("127.0.3.7", untouched, kPassword);
        CHECK(verifyProblem(refused, 429)); // an account it never tried, with the right password
        bool isNumber = false;
        const int retryAfter = refused->header("retry-after").toInt(&isNumber);
        QVERIFY2(isNumber && retryAfter > 0 && retryAfter <= 15 * 60, refused->header("retry-after").constData());
        // Only that address.
        Tokens t;
        QVERIFY(tokensFrom(loginFrom("127.0.3.8", untouched, kPassword), &t));
    }

    void aSuccessfulLoginClearsThatAddresssFailuresOnTheAccount()
    {
        const QString email = uniqueEmail("cleared");
        QVERIFY(registerUser(email));
        for (int i = 0; i < 4; ++i)
            CHECK(verifyProblem(loginFrom("127.0.3.9", email, QStringLiteral("guess %1").arg(i)), 401));
        Tokens t;
        QVERIFY(tokensFrom(loginFrom("127.0.3.9", email, kPassword), &t));
        // The four failures are forgotten: five more wrong passwords are checked before the limit
        // applies again (without the clearing, the second of them would be 429).
        for (int i = 0; i < 5; ++i)
            CHECK(verifyProblem(loginFrom("127.0.3.9", email, QStringLiteral("again %1").arg(i)), 401));
        CHECK(verifyProblem(loginFrom("127.0.3.9", email, kPassword), 429));
    }

    void aLoginEmailThatCouldForgeALogLineIs422()
    {
        const auto r = loginFrom("127.0.0.5", QStringLiteral("a@example.com\n2026-11-30 info forged line"), QStringLiteral("whatever password"));
        CHECK(verifyFieldErrors(r, {QStringLiteral("email")}));
        QVERIFY(!m_host->output().contains(QLatin1String("forged line")));
    }

    void aPasswordLongerThanAnyAccountCanHaveIs422WithoutAHash()
    {
        const auto r = loginFrom("127.0.0.5", uniqueEmail("long"), QString(1025, u'x'));
        CHECK(verifyFieldErrors(r, {QStringLiteral("password")}));
    }

    // --- one canonical email ---

    void anEmailTypedInNfcOrNfdAndAnyCaseIsOneAccount()
    {
        const QString suffix = QString::number(++m_seq);
        const QString nfc = QStringLiteral("jos\u00e9-%1@example.com").arg(suffix);
        const QString nfd = QStringLiteral("JOSE\u0301-%1@EXAMPLE.com").arg(suffix);
        QVERIFY(registerUser(nfc));
        const auto again = post("/api/v1/auth/register", {{QStringLiteral("email"), nfd}, {QStringLiteral("password"), kPassword}});
        CHECK(verifyProblem(again, 409));
        const auto login = loginFrom("127.0.0.6", nfd, kPassword);
        QVERIFY(login);
        QCOMPARE(login->status, 200);
    }

    void aDottedCapitalIDoesNotOpenAFreshBucketForALockedAccount()
    {
        const QString suffix = QString::number(++m_seq);
        const QString email = QStringLiteral("victim-%1@example.com").arg(suffix);
        QVERIFY(registerUser(email));
        for (int i = 0; i < 5; ++i)
            CHECK(verifyProblem(loginFrom("127.0.0.7", email, QStringLiteral("guess %1").arg(i)), 401));
        // "vİctim" is not the same account: it must not log in as the victim.
        const auto twin = loginFrom("127.0.0.7", QStringLiteral("v\u0130ctim-%1@example.com").arg(suffix), kPassword);
        QVERIFY(twin);
        QVERIFY2(twin->status == 401 || twin->status == 429, qPrintable(QString::number(twin->status)));
    }

    void controlAndFormatCharactersInAnEmailAre422()
    {
        for (const QString &email : {QStringLiteral("a\u202Eb-%1@example.com"), QStringLiteral("a\u200Db-%1@example.com"),
                                     QStringLiteral("a%2b-%1@example.com").arg(QChar(0x07))}) {
            const auto r = post("/api/v1/auth/register", {{QStringLiteral("email"), email.arg(++m_seq)}, {QStringLiteral("password"), kPassword}});
            CHECK(verifyFieldErrors(r, {QStringLiteral("email")}));
        }
        const auto nul = call("POST", "/api/v1/auth/register", "{\"email\":\"a\\u0000b@example.com\",\"password\":\"correct horse battery staple\"}");
        CHECK(verifyFieldErrors(nul, {QStringLiteral("email")}));
    }

    // --- the signing secret ---

    void sandboxWithoutASecretGeneratesOnePerDataDirectoryAndKeepsIt()
    {
        QTemporaryDir dataDir;
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_dbUrl);
        env.insert(QStringLiteral("YIELDHOST_DATA_DIR"), dataDir.path());
        QByteArray access;
        const QString email = uniqueEmail("sandbox-secret");
        {
            HostProcess host(env);
            QString error;
            QVERIFY2(host.start(&error, 60000), qPrintable(error));
            QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(2000)));
            QVERIFY2(host.output().contains(QLatin1String("SANDBOX")), qPrintable(host.output().left(2000)));
            const auto ready = HttpClient::request(host.host(), host.port(), "GET", "/readyz");
            QCOMPARE(ready->json().value(QLatin1String("mode")).toString(), QStringLiteral("sandbox"));
            QVERIFY(registerUser(email));
            Tokens t;
            QVERIFY(login(email, &t, kPassword, &host));
            access = t.access;
            QCOMPARE(host.terminate(), 0);
        }
        QFile secret(dataDir.filePath(QStringLiteral("jwt-secret")));
        QVERIFY(secret.exists());
        QCOMPARE(secret.permissions() & ~(QFileDevice::ReadUser | QFileDevice::WriteUser | QFileDevice::ReadOwner | QFileDevice::WriteOwner),
                 QFileDevice::Permissions());
        QVERIFY(secret.open(QIODevice::ReadOnly));
        const QByteArray key = secret.readAll();
        QVERIFY(key.size() >= 32);
        // The token verifies with the generated key, and with nothing compiled into the binary.
        const QByteArrayList parts = segments(access);
        QCOMPARE(hmac(QCryptographicHash::Sha256, parts[0] + '.' + parts[1], key), parts[2]);
        // Restarted on the same data directory: the same key, so the token still works.
        HostProcess again(env);
        QString error;
        QVERIFY2(again.start(&error, 60000), qPrintable(error));
        QVERIFY2(again.waitReady(60000), qPrintable(again.output().right(2000)));
        QCOMPARE(me(access, &again)->status, 200);
        // A token signed with the secret older builds compiled in is refused.
        const QByteArray input = parts[0] + '.' + parts[1];
        const QByteArray forged = input + '.' + hmac(QCryptographicHash::Sha256, input, "yieldhost-development-secret-do-not-use-in-production");
        CHECK(verifyUnauthorized(me(forged, &again)));
        QCOMPARE(again.terminate(), 0);
    }

    void registrationsFromOneAddressAreLimitedPerHour()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__REGISTRATIONS_PER_ADDRESS_PER_HOUR"), QStringLiteral("3"));
        HostProcess host(env);
        QString error;
        QVERIFY2(host.start(&error, 60000), qPrintable(error));
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(2000)));
        auto registerFrom = [&](const char *address) {
            const QJsonObject body{{QStringLiteral("email"), uniqueEmail("flood")}, {QStringLiteral("password"), kPassword}};
            return HttpClient::request(host.host(), host.port(), "POST", "/api/v1/auth/register", compact(body), "application/json", {},
                                       QHostAddress(QString::fromLatin1(address)));
        };
        for (int i = 0; i < 3; ++i)
            QCOMPARE(registerFrom("127.0.0.60")->status, 201);
        const auto refused = registerFrom("127.0.0.60");
        CHECK(verifyProblem(refused, 429));
        bool isNumber = false;
        const int retryAfter = refused->header("retry-after").toInt(&isNumber);
        QVERIFY2(isNumber && retryAfter > 0 && retryAfter <= 3600, refused->header("retry-after").constData());
        QCOMPARE(registerFrom("127.0.0.61")->status, 201); // another address is not affected
        QCOMPARE(host.terminate(), 0);
    }

    void aFullHashingQueueShedsLoginsAt503InsteadOfQueueing()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__HASH_QUEUE_LIMIT"), QStringLiteral("1"));
        HostProcess host(env);
        QString error;
        QVERIFY2(host.start(&error, 60000), qPrintable(error));
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(2000)));
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < 16; ++i) { // distinct addresses and accounts: no throttle is involved
            auto client = std::make_unique<HttpClient>(host.host(), host.port());
            QVERIFY(client->open(5000, QHostAddress(QStringLiteral("127.0.1.%1").arg(i + 1))));
            clients.push_back(std::move(client));
        }
        for (auto &client : clients) {
            const QJsonObject body{{QStringLiteral("email"), uniqueEmail("shed")}, {QStringLiteral("password"), QStringLiteral("wrong password")}};
            client->send(HttpClient::format(host.host(), "POST", "/api/v1/auth/token", compact(body))); // sent now, not when read
        }
        int unauthorized = 0, shed = 0;
        for (auto &client : clients) {
            const auto r = client->read(30000);
            QVERIFY(r);
            if (r->status == 401) {
                ++unauthorized;
            } else {
                CHECK(verifyProblem(r, 503));
                QCOMPARE(r->header("retry-after"), QByteArray("1"));
                ++shed;
            }
        }
        QVERIFY2(shed >= 1 && unauthorized >= 1, qPrintable(QStringLiteral("%1 shed, %2 checked").arg(shed).arg(unauthorized)));
        QCOMPARE(host.terminate(), 0);
    }

    // Settings declared in plugin.json are checked by the host before the plugin loads: one line
    // (the variable named once), exit 1.
    void aBadPluginSettingStopsTheHostNamingIt()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("15m"));
        const QString line = QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS: must be an integer of at least 1, not \"15m\"");
        CHECK(verifyRefusesToStart(env, line));
        HostProcess host(env);
        QString error;
        host.start(&error, 30000);
        QVERIFY(host.waitForExit(30000));
        QVERIFY2(host.output().count(QLatin1String("YIELDHOST_USERS__ACCESS_TTL_SECONDS")) == 1, qPrintable(host.output().right(2000)));
    }

    void aPluginSettingOutOfRangeOrMisspelledStopsTheHostNamingIt()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__ARGON2_PARALLELISM"), QStringLiteral("0"));
        CHECK(verifyRefusesToStart(env, QStringLiteral("YIELDHOST_USERS__ARGON2_PARALLELISM: must be an integer from 1 to 4294967295, not \"0\"")));
        env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL"), QStringLiteral("900"));
        CHECK(verifyRefusesToStart(env, QStringLiteral("YIELDHOST_USERS__ACCESS_TTL: the users plugin has no setting \"access_ttl\"")));
    }

    void aSecretShorterThan32BytesIsRefusedInSandboxToo()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_dbUrl);
        env.insert(QStringLiteral("YIELDHOST_JWT_SECRET"), QStringLiteral("only-twenty-bytes-!!"));
        CHECK(verifyRefusesToStart(env, QStringLiteral("shorter than 32 bytes")));
    }

    // --- the access token on the wire ---

    void usersMeWithoutAuthorizationIs401WithWwwAuthenticate()
    {
        const auto r = call("GET", "/api/v1/users/me");
        CHECK(verifyUnauthorized(r));
        QVERIFY2(r->header("www-authenticate").startsWith("Bearer"), r->header("www-authenticate").constData());
    }

    void malformedAuthorizationIs401()
    {
        Tokens t;
        const QString email = uniqueEmail("malformed");
        QVERIFY(registerUser(email));
        QVERIFY(login(email, &t));
        const QList<QByteArray> values = {
            "Bearer",
            "Basic abc",
            "Basic " + QByteArray(email.toUtf8() + ':' + kPassword.toUtf8()).toBase64(),
            "Bearer not-a-token",
            "Bearer a.b.c",
            "Bearer " + t.refresh + "x",
            "Token " + t.access,
            t.access, // no scheme at all
        };
        for (const QByteArray &value : values) {
            const auto r = meWith(value);
            CHECK(verifyUnauthorized(r));
        }
        QCOMPARE(me(t.access)->status, 200); // the token itself was fine all along
    }

    void tamperedSignatureIs401()
    {
        Tokens t;
        QVERIFY(newUser("tamper", &t));
        QCOMPARE(me(t.access)->status, 200);
        QByteArrayList parts = segments(t.access);
        QCOMPARE(parts.size(), 3);
        QByteArray &sig = parts[2];
        QVERIFY(sig.size() > 10);
        sig[5] = sig[5] == 'A' ? 'B' : 'A'; // a middle character: the decoded bytes change for sure
        CHECK(verifyUnauthorized(me(parts.join('.'))));

        // A payload edited under the original signature: someone else's sub.
        QJsonObject payload = jwtPayload(t.access);
        payload.insert(QStringLiteral("sub"), QStringLiteral("00000000-0000-0000-0000-000000000000"));
        const QByteArrayList original = segments(t.access);
        CHECK(verifyUnauthorized(me(QByteArray(original[0] + '.' + jwtSegment(payload) + '.' + original[2]))));
        // Signature dropped.
        CHECK(verifyUnauthorized(me(QByteArray(original[0] + '.' + original[1] + '.'))));
    }

    void algNoneTokenIs401()
    {
        Tokens t;
        QVERIFY(newUser("alg-none", &t));
        const QByteArrayList parts = segments(t.access);
        QCOMPARE(parts.size(), 3);
        for (const char *alg : {"none", "None", "NONE"}) {
            const QByteArray h = jwtSegment(header(alg));
            CHECK(verifyUnauthorized(me(QByteArray(h + '.' + parts[1] + '.'))));
            CHECK(verifyUnauthorized(me(QByteArray(h + '.' + parts[1] + '.' + parts[2]))));
        }
    }

    void tokenSignedWithAnotherKeyIs401()
    {
        Tokens t;
        QVERIFY(newUser("other-key", &t));
        const QByteArrayList parts = segments(t.access);
        QCOMPARE(parts.size(), 3);
        const QByteArray signingInput = parts[0] + '.' + parts[1];
        // Our signing reproduces the host's signature with the right key, so the forgery below
        // differs from a real token only by its key.
        QCOMPARE(hmac(QCryptographicHash::Sha256, signingInput, kSecret), parts[2]);
        const QByteArray forged = signingInput + '.' + hmac(QCryptographicHash::Sha256, signingInput, "attacker-secret-0123456789abcdef012345");
        CHECK(verifyUnauthorized(me(forged)));
        const QByteArray emptyKey = signingInput + '.' + hmac(QCryptographicHash::Sha256, signingInput, QByteArray());
        CHECK(verifyUnauthorized(me(emptyKey)));
    }

    void hs512TokenSignedWithTheRightSecretIs401()
    {
        Tokens t;
        QVERIFY(newUser("hs512", &t));
        const QByteArrayList parts = segments(t.access);
        QCOMPARE(parts.size(), 3);
        for (const auto &[alg, hash] : {std::pair{"HS512", QCryptographicHash::Sha512}, std::pair{"HS384", QCryptographicHash::Sha384}}) {
            const QByteArray signingInput = jwtSegment(header(alg)) + '.' + parts[1];
            CHECK(verifyUnauthorized(me(QByteArray(signingInput + '.' + hmac(hash, signingInput, kSecret)))));
        }
    }

    void tokenPastItsExpiryIs401()
    {
        Tokens t;
        QVERIFY(newUser("expired-claim", &t));
        QJsonObject payload = jwtPayload(t.access);
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        payload.insert(QStringLiteral("iat"), now - 7200);
        payload.insert(QStringLiteral("exp"), now - 3600);
        const QByteArray signingInput = segments(t.access)[0] + '.' + jwtSegment(payload);
        CHECK(verifyUnauthorized(me(QByteArray(signingInput + '.' + hmac(QCryptographicHash::Sha256, signingInput, kSecret)))));
    }

    void accessTokenExpiresAfterTheConfiguredLifetime()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("2"));
        HostProcess shortLived(env);
        QString error;
        QVERIFY2(shortLived.start(&error, 60000), qPrintable(error));
        QVERIFY2(shortLived.waitReady(60000), qPrintable(shortLived.output().right(2000)));

        const QString email = uniqueEmail("ttl");
        QVERIFY(registerUser(email));
        Tokens t;
        QVERIFY(login(email, &t, kPassword, &shortLived));
        const QJsonObject claims = jwtPayload(t.access);
        QCOMPARE(claims.value(QLatin1String("exp")).toInteger() - claims.value(QLatin1String("iat")).toInteger(), qint64(2));
        QCOMPARE(me(t.access, &shortLived)->status, 200);
        QTest::qWait(3000);
        CHECK(verifyUnauthorized(me(t.access, &shortLived)));
        CHECK(verifyUnauthorized(me(t.access))); // the main host agrees: same secret, exp has passed

        // The refresh token outlives the access token.
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(t.refresh, &shortLived), &renewed, -1));
        QCOMPARE(me(renewed.access, &shortLived)->status, 200);
        QCOMPARE(shortLived.terminate(), 0);
    }

    void refreshTokenUsedAsAccessTokenIs401()
    {
        Tokens t;
        QVERIFY(newUser("refresh-as-access", &t));
        CHECK(verifyUnauthorized(me(t.refresh)));
        CHECK(verifyUnauthorized(call("POST", "/api/v1/auth/logout", compact({{QStringLiteral("refresh"), QString::fromLatin1(t.refresh)}}), t.refresh)));
        // and it was not consumed by that misuse
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(t.refresh), &renewed));
    }

    void accessTokenUsedAsRefreshTokenIs401()
    {
        Tokens t;
        QVERIFY(newUser("access-as-refresh", &t));
        CHECK(verifyUnauthorized(refresh(t.access)));
    }

    void aJwtTypedRefreshIsNotAnAccessToken()
    {
        Tokens t;
        QVERIFY(newUser("typ-refresh", &t));
        QJsonObject claims = jwtPayload(t.access);
        QCOMPARE(me(signedToken(claims))->status, 200); // re-signed unchanged it is accepted: only the claim differs below
        claims.insert(QStringLiteral("typ"), QStringLiteral("refresh"));
        CHECK(verifyUnauthorized(me(signedToken(claims))));
        claims.remove(QStringLiteral("typ"));
        CHECK(verifyUnauthorized(me(signedToken(claims))));
    }

    void aJwtFromAnotherIssuerIs401EvenWithTheRealSecret()
    {
        Tokens t;
        QVERIFY(newUser("foreign-iss", &t));
        QJsonObject claims = jwtPayload(t.access);
        QCOMPARE(me(signedToken(claims))->status, 200);
        for (const char *issuer : {"yieldhost-staging", "Yieldhost", ""}) {
            claims.insert(QStringLiteral("iss"), QLatin1String(issuer));
            CHECK(verifyUnauthorized(me(signedToken(claims))));
        }
        claims.remove(QStringLiteral("iss"));
        CHECK(verifyUnauthorized(me(signedToken(claims))));
    }

    // --- sign-ins (sid) and the account's token version (ver) ---

    void accessTokensNameTheirSignInAndTheTokenVersion()
    {
        const QString email = uniqueEmail("sid");
        QVERIFY(registerUser(email));
        Tokens a, b;
        QVERIFY(login(email, &a));
        QVERIFY(login(email, &b));
        const QJsonObject claims = jwtPayload(a.access);
        const QString sid = claims.value(QLatin1String("sid")).toString();
        QVERIFY2(!QUuid::fromString(sid).isNull(), qPrintable(sid));
        QCOMPARE(claims.value(QLatin1String("ver")), QJsonValue(0));
        QVERIFY(jwtPayload(b.access).value(QLatin1String("sid")).toString() != sid); // each login is a sign-in of its own
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(a.refresh), &renewed));
        QCOMPARE(jwtPayload(renewed.access).value(QLatin1String("sid")).toString(), sid); // a refresh continues it
        QCOMPARE(jwtPayload(renewed.access).value(QLatin1String("ver")), QJsonValue(0));
    }

    void anAccessTokenWithoutSidOrVerIs401()
    {
        // The shape of tokens issued before sign-ins were revocable: refused, their holders refresh.
        Tokens t;
        QVERIFY(newUser("no-sid", &t));
        const QJsonObject claims = jwtPayload(t.access);
        QCOMPARE(me(signedToken(claims))->status, 200);
        for (const char *claim : {"sid", "ver"}) {
            QJsonObject without = claims;
            without.remove(QLatin1String(claim));
            CHECK(verifyUnauthorized(me(signedToken(without))));
        }
        QJsonObject notAUuid = claims;
        notAUuid.insert(QStringLiteral("sid"), QStringLiteral("1"));
        CHECK(verifyUnauthorized(me(signedToken(notAUuid))));
    }

    void anAccessTokenNamingAnotherAccountsSignInIs401()
    {
        Tokens mine, theirs;
        QVERIFY(newUser("sid-mine", &mine));
        QVERIFY(newUser("sid-theirs", &theirs));
        QJsonObject claims = jwtPayload(mine.access);
        claims.insert(QStringLiteral("sid"), jwtPayload(theirs.access).value(QLatin1String("sid")));
        CHECK(verifyUnauthorized(me(signedToken(claims))));
    }

    void anAccessTokenWithAnOlderTokenVersionIs401()
    {
        const QString email = uniqueEmail("old-ver");
        QVERIFY(registerUser(email));
        Tokens before, after;
        QVERIFY(login(email, &before));
        QCOMPARE(logoutAll(before.access)->status, 204);
        QVERIFY(login(email, &after));
        QJsonObject claims = jwtPayload(after.access);
        QCOMPARE(claims.value(QLatin1String("ver")), QJsonValue(1));
        QCOMPARE(me(signedToken(claims))->status, 200);
        // Its sign-in is live; only the version is older than the account's.
        claims.insert(QStringLiteral("ver"), 0);
        CHECK(verifyUnauthorized(me(signedToken(claims))));
        claims.insert(QStringLiteral("ver"), QStringLiteral("1")); // a string is not a version
        CHECK(verifyUnauthorized(me(signedToken(claims))));
    }

    void aRefreshTokenFromBeforeTheTokenVersionMovedOnIs401()
    {
        QJsonObject u;
        Tokens t;
        QVERIFY(newUser("refresh-ver", &t, &u));
        // Moved on under the sign-in, which itself stays unrevoked: the version alone must refuse it.
        CHECK(sql(QStringLiteral("UPDATE users_user SET token_version = token_version + 1 WHERE id = '%1'").arg(idOf(u))));
        CHECK(verifyUnauthorized(refresh(t.refresh)));
        // A change made behind the host's back (SQL) reaches a remembered sign-in within the
        // authenticator's cache time (users.auth_cache_ms, 2 s).
        QTRY_VERIFY_WITH_TIMEOUT(me(t.access)->status == 401, 2000 + 1500);
        CHECK(verifyUnauthorized(me(t.access)));
    }

    // --- refresh and logout ---

    void refreshRotatesThePair()
    {
        QJsonObject u;
        Tokens first;
        QVERIFY(newUser("rotate", &first, &u));
        Tokens second;
        QVERIFY(tokensFrom(refresh(first.refresh), &second));
        QVERIFY(second.refresh != first.refresh);
        QVERIFY(second.access != first.access);
        const auto r = me(second.access);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value(QLatin1String("id")).toString(), u.value(QLatin1String("id")).toString());
        QByteArray out;
        QCOMPARE(pythonVerify(second.access, kSecret, &out), 0);
        Tokens third;
        QVERIFY(tokensFrom(refresh(second.refresh), &third));
    }

    void reusedRefreshTokenIs401AndRevokesItsFamily()
    {
        const QString email = uniqueEmail("reuse");
        QVERIFY(registerUser(email));
        Tokens otherSession;
        QVERIFY(login(email, &otherSession));
        Tokens first, second;
        QVERIFY(login(email, &first));
        QVERIFY(tokensFrom(refresh(first.refresh), &second));

        CHECK(verifyUnauthorized(refresh(first.refresh)));  // replayed
        CHECK(verifyUnauthorized(refresh(second.refresh))); // its successor is revoked with it
        CHECK(verifyUnauthorized(refresh(first.refresh)));  // and it stays dead
        CHECK(verifyUnauthorized(me(second.access)));       // so are the access tokens of that sign-in
        CHECK(verifyUnauthorized(me(first.access)));
        QCOMPARE(me(otherSession.access)->status, 200);

        // Another login of the same user is another family.
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(otherSession.refresh), &renewed));
    }

    void twoConcurrentRefreshesOfOneTokenHaveExactlyOneWinner()
    {
        Tokens t;
        QVERIFY(newUser("refresh-race", &t));
        HttpClient first(m_host->host(), m_host->port());
        HttpClient second(m_host->host(), m_host->port());
        QVERIFY(first.open());
        QVERIFY(second.open());
        const QByteArray request = HttpClient::format(m_host->host(), "POST", "/api/v1/auth/token/refresh", compact(refreshBody(t.refresh)));
        first.send(request); // both on the wire before either reply is read
        second.send(request);
        const auto a = first.read(30000);
        const auto b = second.read(30000);
        QVERIFY(a && b);
        QList<int> statuses{a->status, b->status};
        std::sort(statuses.begin(), statuses.end());
        QVERIFY2(statuses == QList<int>({200, 401}), qPrintable(describe(a) + QStringLiteral(" | ") + describe(b)));
        Tokens won;
        QVERIFY(tokensFrom(a->status == 200 ? a : b, &won));
        CHECK(verifyUnauthorized(a->status == 200 ? b : a));
        // The loser presented a token that had just been rotated — a reuse — so the sign-in is
        // revoked, the winner's new pair with it.
        CHECK(verifyUnauthorized(refresh(won.refresh)));
        CHECK(verifyUnauthorized(me(won.access)));
        CHECK(verifyUnauthorized(me(t.access)));
        CHECK(verifyUnauthorized(refresh(t.refresh)));
    }

    void anExpiredRefreshTokenIs401()
    {
        const QString email = uniqueEmail("refresh-expired");
        QVERIFY(registerUser(email));
        Tokens aged, fresh;
        QVERIFY(login(email, &aged));
        QVERIFY(login(email, &fresh));
        const QString hash = QString::fromLatin1(QCryptographicHash::hash(aged.refresh, QCryptographicHash::Sha256).toHex());
        CHECK(sql(QStringLiteral("UPDATE users_refresh_token SET expires_at = now() - interval '1 second' WHERE token_hash = '%1'").arg(hash)));
        CHECK(verifyUnauthorized(refresh(aged.refresh)));
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(fresh.refresh), &renewed)); // only that one was aged
    }

    void aDeactivatedAccountLosesAccessWithinTheCacheTime()
    {
        QJsonObject u;
        const QString email = uniqueEmail("deactivated");
        QVERIFY(registerUser(email, &u));
        Tokens t;
        QVERIFY(login(email, &t));
        QCOMPARE(me(t.access)->status, 200); // the sign-in is now remembered by the authenticator
        CHECK(sql(QStringLiteral("UPDATE users_user SET is_active = false WHERE id = '%1'").arg(idOf(u))));
        QElapsedTimer since;
        since.start();
        CHECK(verifyUnauthorized(refresh(t.refresh))); // refresh always asks the database
        // Access tokens: within users.auth_cache_ms (2 s) of the change, not when they expire.
        QTRY_VERIFY_WITH_TIMEOUT(me(t.access)->status == 401, 2000 + 1500);
        QVERIFY2(since.elapsed() < 2000 + 1500, qPrintable(QString::number(since.elapsed())));
        CHECK(verifyUnauthorized(me(t.access)));
        CHECK(verifyProblem(loginFrom("127.0.3.1", email, kPassword), 401));
    }

    void theCleanupForgetsASignInOnceNoneOfItsTokensCanBeUsed()
    {
        QJsonObject u;
        const QString email = uniqueEmail("cleanup");
        QVERIFY(registerUser(email, &u));
        Tokens ended, kept;
        QVERIFY(login(email, &ended));
        QVERIFY(login(email, &kept));
        const QString sid = jwtPayload(ended.access).value(QLatin1String("sid")).toString();
        QVERIFY(!QUuid::fromString(sid).isNull());
        CHECK(sql(QStringLiteral("UPDATE users_refresh_token SET expires_at = now() - interval '1 minute' WHERE family_id = '%1'").arg(sid)));
        auto cleanup = [this] {
            QString out;
            const int code = HostProcess::runCommand(hostEnv(), {QStringLiteral("run-task"), QStringLiteral("host.cleanup")}, &out);
            QVERIFY2(code == 0 && out.contains(QLatin1String("ended sign-ins")), qPrintable(out.right(2000)));
        };
        auto families = [&] {
            QString n;
            sql(QStringLiteral("SELECT count(*) FROM users_token_family WHERE user_id = '%1'").arg(idOf(u)), &n);
            return n;
        };
        // Its refresh tokens have expired, but an access token it issued may still be valid: kept.
        CHECK(cleanup());
        QCOMPARE(families(), QStringLiteral("2"));
        QCOMPARE(me(ended.access)->status, 200);
        // Once that access token's lifetime has passed too, the sign-in is forgotten.
        CHECK(sql(QStringLiteral("UPDATE users_token_family SET last_issued_at = now() - interval '1 hour' WHERE id = '%1'").arg(sid)));
        CHECK(cleanup());
        QCOMPARE(families(), QStringLiteral("1"));
        // (as if it had expired: a forgotten sign-in is refused) — the cleanup ran in another
        // process, so the serving host notices within its auth cache time (2 s).
        QTRY_VERIFY_WITH_TIMEOUT(me(ended.access)->status == 401, 2000 + 1500);
        CHECK(verifyUnauthorized(me(ended.access)));
        QCOMPARE(me(kept.access)->status, 200);
    }

    void unknownRefreshTokenIs401()
    {
        CHECK(verifyUnauthorized(refresh("no-such-refresh-token")));
        Tokens t;
        QVERIFY(newUser("unknown-refresh", &t));
        QByteArray altered = t.refresh;
        altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
        CHECK(verifyUnauthorized(refresh(altered)));
    }

    void logoutRevokesThatRefreshToken()
    {
        const QString email = uniqueEmail("logout");
        QVERIFY(registerUser(email));
        Tokens a, b;
        QVERIFY(login(email, &a));
        QVERIFY(login(email, &b));
        const auto r = call("POST", "/api/v1/auth/logout", compact({{QStringLiteral("refresh"), QString::fromLatin1(a.refresh)}}), a.access);
        QVERIFY(r);
        QVERIFY2(r->status == 204, qPrintable(describe(r)));
        QVERIFY(r->body.isEmpty());
        CHECK(verifyUnauthorized(refresh(a.refresh)));
        // The other session is untouched.
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(b.refresh), &renewed));
    }

    void logoutWithoutAnAccessTokenIs401()
    {
        Tokens t;
        QVERIFY(newUser("logout-anon", &t));
        const auto r = call("POST", "/api/v1/auth/logout", compact({{QStringLiteral("refresh"), QString::fromLatin1(t.refresh)}}));
        CHECK(verifyUnauthorized(r));
        QVERIFY(r->header("www-authenticate").startsWith("Bearer"));
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(t.refresh), &renewed)); // nothing was revoked
    }

    void logoutEndsTheAccessTokensOfThatSignIn()
    {
        const QString email = uniqueEmail("logout-access");
        QVERIFY(registerUser(email));
        Tokens a, b, a2;
        QVERIFY(login(email, &a));
        QVERIFY(login(email, &b));
        QVERIFY(tokensFrom(refresh(a.refresh), &a2));
        QCOMPARE(me(a.access)->status, 200); // a rotation leaves the earlier access token valid until it expires...
        const auto r = logout(a2.refresh, a2.access);
        QVERIFY(r);
        QVERIFY2(r->status == 204, qPrintable(describe(r)));
        CHECK(verifyUnauthorized(me(a2.access)));
        CHECK(verifyUnauthorized(me(a.access))); // ...but a logout ends every access token of the sign-in
        CHECK(verifyUnauthorized(refresh(a2.refresh)));
        // The other sign-in is untouched.
        QCOMPARE(me(b.access)->status, 200);
        Tokens b2;
        QVERIFY(tokensFrom(refresh(b.refresh), &b2));
    }

    void logoutWithAnEarlierRefreshTokenOfTheSignInEndsItToo()
    {
        Tokens a, a2;
        QVERIFY(newUser("logout-earlier", &a));
        QVERIFY(tokensFrom(refresh(a.refresh), &a2));
        QCOMPARE(logout(a.refresh, a2.access)->status, 204);
        CHECK(verifyUnauthorized(me(a2.access)));
        CHECK(verifyUnauthorized(refresh(a2.refresh)));
    }

    void logoutWithSomeoneElsesRefreshTokenChangesNothing()
    {
        Tokens mine, theirs;
        QVERIFY(newUser("logout-mine", &mine));
        QVERIFY(newUser("logout-theirs", &theirs));
        QCOMPARE(logout(theirs.refresh, mine.access)->status, 204); // says nothing about a token that is not the caller's
        QCOMPARE(me(theirs.access)->status, 200);
        Tokens renewed;
        QVERIFY(tokensFrom(refresh(theirs.refresh), &renewed));
        QCOMPARE(me(mine.access)->status, 200);
    }

    void logoutAllEndsEverySignInOfTheAccountAndNoOther()
    {
        const QString email = uniqueEmail("logout-all");
        QVERIFY(registerUser(email));
        Tokens a, b, b2, other;
        QVERIFY(login(email, &a));
        QVERIFY(login(email, &b));
        QVERIFY(tokensFrom(refresh(b.refresh), &b2));
        QVERIFY(newUser("logout-all-other", &other));
        const auto r = logoutAll(a.access);
        QVERIFY(r);
        QVERIFY2(r->status == 204, qPrintable(describe(r)));
        QVERIFY(r->body.isEmpty());
        for (const QByteArray &access : {a.access, b.access, b2.access})
            CHECK(verifyUnauthorized(me(access)));
        for (const QByteArray &refreshToken : {a.refresh, b2.refresh})
            CHECK(verifyUnauthorized(refresh(refreshToken)));
        QCOMPARE(me(other.access)->status, 200);
        // The password still works: a new sign-in is let in.
        Tokens again;
        QVERIFY(login(email, &again));
        QCOMPARE(me(again.access)->status, 200);
    }

    void logoutAllWithoutAnAccessTokenIs401()
    {
        Tokens t;
        QVERIFY(newUser("logout-all-anon", &t));
        const auto r = call("POST", "/api/v1/auth/logout/all");
        CHECK(verifyUnauthorized(r));
        QVERIFY(r->header("www-authenticate").startsWith("Bearer"));
        CHECK(verifyUnauthorized(logoutAll(t.refresh)));
        QCOMPARE(me(t.access)->status, 200); // nothing was revoked
    }

    // --- password change ---

    void changingThePasswordSignsOutEverySignIn()
    {
        const QString email = uniqueEmail("password");
        QVERIFY(registerUser(email));
        Tokens a, b;
        QVERIFY(login(email, &a));
        QVERIFY(login(email, &b));
        const QString next = QStringLiteral("a brand new passphrase 42");
        const auto r = changePassword("127.0.3.2", a.access, kPassword, next);
        QVERIFY(r);
        QVERIFY2(r->status == 204, qPrintable(describe(r)));
        QVERIFY(r->body.isEmpty());
        // Every sign-in has ended, the one that made the change too.
        for (const Tokens &t : {a, b}) {
            CHECK(verifyUnauthorized(me(t.access)));
            CHECK(verifyUnauthorized(refresh(t.refresh)));
        }
        CHECK(verifyProblem(loginFrom("127.0.3.2", email, kPassword), 401));
        Tokens renewed;
        QVERIFY(tokensFrom(loginFrom("127.0.3.2", email, next), &renewed));
        QCOMPARE(me(renewed.access)->status, 200);
    }

    void aWrongCurrentPasswordIs400AndChangesNothing()
    {
        const QString email = uniqueEmail("password-wrong");
        QVERIFY(registerUser(email));
        Tokens t;
        QVERIFY(login(email, &t));
        const auto r = changePassword("127.0.3.3", t.access, QStringLiteral("not my password"), QStringLiteral("a brand new passphrase 42"));
        CHECK(verifyProblem(r, 400));
        QCOMPARE(r->json().value(QLatin1String("type")).toString(), QStringLiteral("https://yieldhost.dev/problems/wrong-current-password"));
        QVERIFY(r->header("www-authenticate").isEmpty()); // the access token was fine
        QCOMPARE(me(t.access)->status, 200);
        Tokens again;
        QVERIFY(tokensFrom(loginFrom("127.0.3.3", email, kPassword), &again));
    }

    void anInvalidNewPasswordIs422AndChangesNothing()
    {
        const QString email = uniqueEmail("password-invalid");
        QVERIFY(registerUser(email));
        Tokens t;
        QVERIFY(login(email, &t));
        const char *from = "127.0.3.4";
        CHECK(verifyFieldErrors(changePassword(from, t.access, kPassword, QStringLiteral("012345678")), {QStringLiteral("new_password")}));
        CHECK(verifyFieldErrors(changePassword(from, t.access, kPassword, QString(1025, u'x')), {QStringLiteral("new_password")}));
        CHECK(verifyFieldErrors(changePassword(from, t.access, {{QStringLiteral("current_password"), kPassword}}), {QStringLiteral("new_password")}));
        CHECK(verifyFieldErrors(changePassword(from, t.access, {{QStringLiteral("new_password"), QStringLiteral("a brand new passphrase 42")}}),
                                {QStringLiteral("current_password")}));
        CHECK(verifyFieldErrors(changePassword(from, t.access, QString(1025, u'x'), QStringLiteral("a brand new passphrase 42")),
                                {QStringLiteral("current_password")}));
        CHECK(verifyFieldErrors(changePassword(from, t.access, {{QStringLiteral("current_password"), 7}, {QStringLiteral("new_password"), true}}),
                                {QStringLiteral("current_password"), QStringLiteral("new_password")}));
        CHECK(verifyProblem(HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/users/me/password", "[\"x\"]", "application/json",
                                                bearer(t.access), QHostAddress(QString::fromLatin1(from))),
                            400));
        QCOMPARE(me(t.access)->status, 200);
        Tokens again;
        QVERIFY(tokensFrom(loginFrom(from, email, kPassword), &again));
    }

    void wrongCurrentPasswordsAreCountedLikeFailedLogins()
    {
        // Otherwise a stolen access token would be an unthrottled oracle for the account's password.
        const QString email = uniqueEmail("password-guess");
        QVERIFY(registerUser(email));
        Tokens t;
        QVERIFY(login(email, &t));
        const char *from = "127.0.3.5";
        for (int i = 0; i < 5; ++i)
            CHECK(verifyProblem(changePassword(from, t.access, QStringLiteral("guess %1").arg(i), QStringLiteral("a brand new passphrase 42")), 400));
        const auto refused = changePassword(from, t.access, kPassword, QStringLiteral("a brand new passphrase 42"));
        CHECK(verifyProblem(refused, 429));
        bool isNumber = false;
        const int retryAfter = refused->header("retry-after").toInt(&isNumber);
        QVERIFY2(isNumber && retryAfter > 0 && retryAfter <= 15 * 60, refused->header("retry-after").constData());
        // The same counters as logins: that address may not log in to the account either...
        CHECK(verifyProblem(loginFrom(from, email, kPassword), 429));
        // ...and nothing changed: the sign-in lives and the password is the old one.
        QCOMPARE(me(t.access)->status, 200);
        Tokens again;
        QVERIFY(tokensFrom(loginFrom("127.0.3.6", email, kPassword), &again));
    }

    void theRevocationRoutesAreInTheOpenApiDocument()
    {
        const auto r = call("GET", "/api/openapi.json");
        QVERIFY(r && r->status == 200);
        const QJsonObject paths = r->json().value(QLatin1String("paths")).toObject();
        const QJsonObject all = paths.value(QLatin1String("/api/v1/auth/logout/all")).toObject().value(QLatin1String("post")).toObject();
        QVERIFY2(all.value(QLatin1String("responses")).toObject().contains(QLatin1String("204")), QJsonDocument(all).toJson().constData());
        QVERIFY(!all.value(QLatin1String("security")).toArray().isEmpty());
        const QJsonObject password = paths.value(QLatin1String("/api/v1/users/me/password")).toObject().value(QLatin1String("post")).toObject();
        const QJsonObject responses = password.value(QLatin1String("responses")).toObject();
        for (const char *status : {"204", "400", "401", "422", "429"})
            QVERIFY2(responses.contains(QLatin1String(status)), status);
        const QJsonObject schema = password.value(QLatin1String("requestBody")).toObject().value(QLatin1String("content")).toObject()
                                       .value(QLatin1String("application/json")).toObject().value(QLatin1String("schema")).toObject();
        QCOMPARE(schema.value(QLatin1String("required")).toArray(), QJsonArray({QStringLiteral("current_password"), QStringLiteral("new_password")}));
        QVERIFY(!password.value(QLatin1String("security")).toArray().isEmpty());
    }

    // --- users/me ---

    void usersMeShowsOnlyTheCallersAccount()
    {
        QJsonObject ua, ub;
        Tokens a, b;
        QVERIFY(newUser("isolation-a", &a, &ua));
        QVERIFY(newUser("isolation-b", &b, &ub));
        QVERIFY(ua.value(QLatin1String("id")).toString() != ub.value(QLatin1String("id")).toString());
        const auto ra = me(a.access);
        const auto rb = me(b.access);
        QVERIFY(ra && rb);
        QCOMPARE(ra->status, 200);
        QCOMPARE(rb->status, 200);
        QCOMPARE(ra->json(), ua);
        QCOMPARE(rb->json(), ub);
    }

    void patchByOneUserLeavesAnotherUnchanged()
    {
        QJsonObject ua, ub;
        Tokens a, b;
        QVERIFY(newUser("patch-a", &a, &ua));
        QVERIFY(newUser("patch-b", &b, &ub));
        const auto r = patchMe({{QStringLiteral("first_name"), QStringLiteral("Mallory")}, {QStringLiteral("base_currency"), QStringLiteral("BTC")}}, a.access);
        QVERIFY(r);
        QVERIFY2(r->status == 200, qPrintable(describe(r)));
        QCOMPARE(r->json().value(QLatin1String("id")).toString(), ua.value(QLatin1String("id")).toString());
        const auto rb = me(b.access);
        QVERIFY(rb);
        QCOMPARE(rb->json(), ub);
    }

    void patchUpdatesTheGivenFieldsOnly()
    {
        QJsonObject u;
        const QString email = uniqueEmail("patch");
        QVERIFY(registerUser(email, &u, {{QStringLiteral("first_name"), QStringLiteral("Grace")}, {QStringLiteral("last_name"), QStringLiteral("Hopper")}}));
        Tokens t;
        QVERIFY(login(email, &t));

        const auto r = patchMe({{QStringLiteral("first_name"), QStringLiteral("Amazing")}, {QStringLiteral("base_currency"), QStringLiteral("GBP")}}, t.access);
        QVERIFY(r);
        QVERIFY2(r->status == 200, qPrintable(describe(r)));
        const QJsonObject patched = r->json();
        CHECK(verifyUser(patched));
        QCOMPARE(patched.value(QLatin1String("first_name")).toString(), QStringLiteral("Amazing"));
        QCOMPARE(patched.value(QLatin1String("base_currency")).toString(), QStringLiteral("GBP"));
        QCOMPARE(patched.value(QLatin1String("last_name")).toString(), QStringLiteral("Hopper"));
        for (const char *same : {"id", "email", "is_staff", "date_joined"})
            QCOMPARE(patched.value(QLatin1String(same)), u.value(QLatin1String(same)));
        QCOMPARE(me(t.access)->json(), patched);

        const auto last = patchMe({{QStringLiteral("last_name"), QString(150, u'z')}}, t.access);
        QVERIFY(last);
        QCOMPARE(last->status, 200);
        QCOMPARE(last->json().value(QLatin1String("last_name")).toString(), QString(150, u'z'));
        QCOMPARE(last->json().value(QLatin1String("first_name")).toString(), QStringLiteral("Amazing"));
    }

    void patchWithInvalidValuesIs422AndChangesNothing()
    {
        QJsonObject u;
        Tokens t;
        QVERIFY(newUser("patch-invalid", &t, &u));
        CHECK(verifyFieldErrors(patchMe({{QStringLiteral("base_currency"), QStringLiteral("XYZ")}}, t.access), {QStringLiteral("base_currency")}));
        CHECK(verifyFieldErrors(patchMe({{QStringLiteral("first_name"), QString(151, u'x')}}, t.access), {QStringLiteral("first_name")}));
        CHECK(verifyFieldErrors(patchMe({{QStringLiteral("last_name"), 7}}, t.access), {QStringLiteral("last_name")}));
        CHECK(verifyFieldErrors(patchMe({{QStringLiteral("first_name"), QStringLiteral("Changed")}, {QStringLiteral("base_currency"), QJsonValue()}}, t.access),
                                {QStringLiteral("base_currency")}));
        CHECK(verifyFieldErrors(patchMe({{QStringLiteral("first_name"), QStringLiteral("Changed")}, {QStringLiteral("base_currency"), QStringLiteral("XYZ")}}, t.access),
                                {QStringLiteral("base_currency")}));
        QCOMPARE(me(t.access)->json(), u); // not even the valid half was applied
    }

    void patchWithMalformedOrNonObjectJsonIs400()
    {
        Tokens t;
        QVERIFY(newUser("patch-400", &t));
        CHECK(verifyProblem(call("PATCH", "/api/v1/users/me", "{\"first_name\": ", t.access), 400));
        CHECK(verifyProblem(call("PATCH", "/api/v1/users/me", "[\"first_name\"]", t.access), 400));
    }

    void patchOfAReadOnlyFieldIs422AndChangesNothing_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("email") << QStringLiteral("email") << QJsonValue(QStringLiteral("mallory@example.com"));
        QTest::newRow("is_staff") << QStringLiteral("is_staff") << QJsonValue(true);
        QTest::newRow("id") << QStringLiteral("id") << QJsonValue(QStringLiteral("00000000-0000-0000-0000-000000000001"));
        QTest::newRow("is_active") << QStringLiteral("is_active") << QJsonValue(false);
        QTest::newRow("date_joined") << QStringLiteral("date_joined") << QJsonValue(QStringLiteral("2000-01-01T00:00:00Z"));
        QTest::newRow("password") << QStringLiteral("password") << QJsonValue(QStringLiteral("a brand new passphrase 42"));
    }

    void patchOfAReadOnlyFieldIs422AndChangesNothing()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QJsonObject u;
        const QString email = uniqueEmail("read-only");
        QVERIFY(registerUser(email, &u));
        Tokens t;
        QVERIFY(login(email, &t));
        CHECK(verifyFieldErrors(patchMe({{field, value}}, t.access), {field}));
        // Next to a field that may change, the whole request is refused.
        CHECK(verifyFieldErrors(patchMe({{field, value}, {QStringLiteral("first_name"), QStringLiteral("Changed")}}, t.access), {field}));
        const auto after = me(t.access);
        QVERIFY(after);
        QCOMPARE(after->status, 200);
        QCOMPARE(after->json(), u);
        QVERIFY(tokensFrom(loginFrom("127.0.3.10", email, kPassword), &t)); // the password is the old one
    }

    void patchWithoutATokenIs401()
    {
        const auto r = call("PATCH", "/api/v1/users/me", compact({{QStringLiteral("first_name"), QStringLiteral("Anon")}}));
        CHECK(verifyUnauthorized(r));
        QVERIFY(r->header("www-authenticate").startsWith("Bearer"));
    }

    // --- the CLI and start-up ---

    void createuserCommandMakesAStaffAccount()
    {
        const QString binary = qEnvironmentVariable("YIELDHOST_BINARY");
        QVERIFY2(!binary.isEmpty(), "YIELDHOST_BINARY is not set (run the test through ctest)");
        const QString email = uniqueEmail("staff");
        const QString password = QStringLiteral("staff password 0123");
        const QStringList args{QStringLiteral("createuser"), QStringLiteral("--email"), email, QStringLiteral("--staff"), QStringLiteral("--password-stdin")};
        HostProcess cli(hostEnv(), args);
        cli.process().start(binary, args);
        QVERIFY(cli.process().waitForStarted(10000));
        cli.process().write(password.toUtf8() + '\n');
        cli.process().closeWriteChannel();
        QVERIFY2(cli.waitForExit(60000), qPrintable(cli.output().right(2000)));
        QVERIFY2(cli.exitCode() == 0, qPrintable(cli.output().right(2000)));
        QVERIFY2(!cli.output().contains(password), "the password was echoed");

        Tokens t;
        QVERIFY(login(email, &t, password));
        const auto r = me(t.access);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        CHECK(verifyUser(r->json()));
        QCOMPARE(r->json().value(QLatin1String("is_staff")), QJsonValue(true));
        QCOMPARE(r->json().value(QLatin1String("email")).toString(), email);
    }

    void nonSandboxHostWithoutAJwtSecretRefusesToStart()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), m_dbUrl);
        env.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("0"));
        CHECK(verifyRefusesToStart(env, QStringLiteral("YIELDHOST_JWT_SECRET")));
    }

    void nonSandboxHostWithAJwtSecretStarts()
    {
        QProcessEnvironment env = hostEnv();
        env.insert(QStringLiteral("YIELDHOST_SANDBOX"), QStringLiteral("0"));
        HostProcess host(env);
        QString error;
        QVERIFY2(host.start(&error, 60000), qPrintable(error));
        QVERIFY2(host.waitReady(60000), qPrintable(host.output().right(2000)));
        const QString email = uniqueEmail("production");
        QVERIFY(registerUser(email));
        Tokens t;
        QVERIFY(login(email, &t, kPassword, &host));
        QCOMPARE(me(t.access, &host)->status, 200);
        QCOMPARE(host.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(TestUsers)
#include "tst_users.moc"
