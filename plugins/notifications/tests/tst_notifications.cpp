// The notifications plugin end to end, as clients see it: two `serve` processes and a `worker` of
// the real binary against one real PostgreSQL, real WebSocket clients over loopback (Qt's
// QWebSocket, and Python's `websockets` as an independent client). The first serve (A) runs with
// the default settings; the second (B) with small limits — 2 sockets per user, a 500 ms
// authentication timeout, 2-second access tokens (a token it issues is valid on A as well).
// Covered: the three ways to authenticate and every 4401 (no auth in time, a bad or expired
// token, a first message that is not auth, a token of another user, a binary first frame); a
// token's expiry closes the socket and a fresh `auth` before it keeps the socket; a socket
// authenticated after the test clock jumped stays open (tokens live on real time); ping,
// portfolio (equal to the REST summary; "unavailable" on a serve without investments), every malformed message and binary frames answered with
// the socket kept open, 64 KiB accepted and one byte more closed with 1009; a REST deposit pushed
// within 1 s to all three sockets of its user (on both serve processes), once each, and to none
// of another user's; the same push seen by the Python client; a yield payout made by the worker
// reaching a socket on serve (yield.paid, portfolio.changed, notification); stored notifications
// (statement ready, yield paid, large deposit at the 10000 USD threshold and not below it) stored
// once, pushed once, listed newest first and paged, marked read, 404 for another user's or a
// non-uuid; the outbox events delivered again (re-inserted) store nothing new; the per-user
// socket limit (1008, per user and per process, a socket accepted again after one closes).
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QTemporaryDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSet>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>
#include <QtCore/QUuid>
#include <QtNetwork/QNetworkRequest>
#include <QtTest/QtTest>
#include <QtWebSockets/QWebSocket>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

constexpr int CloseUnauthenticated = 4401;
constexpr int ClosePolicyViolation = 1008;
constexpr int CloseTooBig = 1009;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }
QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }
QString newKey() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }
qint64 wallMs() { return QDateTime::currentMSecsSinceEpoch(); }

// The `exp` claim of a JWT (seconds), read without checking the signature.
qint64 expiryOf(const QByteArray &token)
{
    const QByteArray payload = QByteArray::fromBase64(token.split('.').value(1), QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    return qint64(QJsonDocument::fromJson(payload).object().value(QLatin1String("exp")).toDouble());
}

// One WebSocket client: every text message it receives (parsed; {"_raw": text} when not JSON)
// with its arrival time, and how the server closed it.
class WsClient : public QObject
{
    Q_OBJECT
public:
    struct Message
    {
        QJsonObject json;
        qint64 atMs; // wall clock
    };

    WsClient()
    {
        connect(&m_socket, &QWebSocket::connected, this, [this] {
            m_connected = true;
            Q_EMIT changed();
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &error);
            m_messages.append({doc.isObject() ? doc.object() : QJsonObject{{QStringLiteral("_raw"), text}}, wallMs()});
            Q_EMIT changed();
        });
        connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &data) {
            m_messages.append({QJsonObject{{QStringLiteral("_binary"), QString::fromLatin1(data.toBase64())}}, wallMs()});
            Q_EMIT changed();
        });
        connect(&m_socket, &QWebSocket::disconnected, this, [this] {
            m_closed = true;
            m_closeCode = int(m_socket.closeCode());
            m_closeReason = m_socket.closeReason();
            m_closedAtMs = wallMs();
            Q_EMIT changed();
        });
    }

    // Qt 6.4's ~QWebSocket() closes a socket that is still open and leaks the close reason's
    // string (LeakSanitizer sees it in the sanitizer pass): drop the connection first.
    ~WsClient() override
    {
        if (m_socket.state() != QAbstractSocket::UnconnectedState)
            m_socket.abort();
    }

    // Connects (the handshake done, or the socket closed, within the timeout); the
    // Authorization header when `bearer` is given, ?token= when `queryToken` is.
    bool open(quint16 port, const QByteArray &bearer = {}, const QByteArray &queryToken = {}, int timeoutMs = 5000)
    {
        QUrl url(QStringLiteral("ws://127.0.0.1:%1/ws/notifications").arg(port));
        if (!queryToken.isEmpty())
            url.setQuery(QUrlQuery{{QStringLiteral("token"), QString::fromLatin1(queryToken)}});
        QNetworkRequest request(url);
        if (!bearer.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + bearer);
        m_socket.open(request);
        return waitFor([this] { return m_connected || m_closed; }, timeoutMs) && m_connected;
    }

    // Runs the event loop until `condition` holds (checked after every message, close and
    // connect, and every 50 ms) or the time is up.
    bool waitFor(const std::function<bool()> &condition, int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!condition()) {
            const qint64 left = deadline.remainingTime();
            if (left <= 0)
                return false;
            QEventLoop loop;
            QTimer timer;
            timer.setSingleShot(true);
            connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
            connect(this, &WsClient::changed, &loop, &QEventLoop::quit);
            timer.start(int(std::min<qint64>(left, 50))); // conditions on time are looked at too
            loop.exec();
        }
        return true;
    }

    void send(const QJsonObject &o) { m_socket.sendTextMessage(QString::fromUtf8(compact(o))); }
    void sendText(const QString &text) { m_socket.sendTextMessage(text); }
    void sendBinary(const QByteArray &data) { m_socket.sendBinaryMessage(data); }
    void close() { m_socket.close(); }

    // The first message of `type` (satisfying `match`), removed from the received ones; waits
    // for it up to `timeoutMs`.
    std::optional<Message> take(const QString &type, int timeoutMs = 5000, const std::function<bool(const QJsonObject &)> &match = {})
    {
        std::optional<Message> found;
        waitFor([&] {
            for (qsizetype i = 0; i < m_messages.size(); ++i) {
                if (str(m_messages[i].json, "type") == type && (!match || match(m_messages[i].json))) {
                    found = m_messages.takeAt(i);
                    return true;
                }
            }
            return false;
        }, timeoutMs);
        return found;
    }
    // Sends ping and takes the pong: the socket is open and authenticated.
    bool pingPong(int timeoutMs = 5000)
    {
        send({{QStringLiteral("command"), QStringLiteral("ping")}});
        const std::optional<Message> pong = take(QStringLiteral("pong"), timeoutMs);
        return pong && pong->json == QJsonObject{{QStringLiteral("type"), QStringLiteral("pong")}};
    }
    // Waits for the server to close the socket; its close code (-1 if still open).
    int waitClosed(int timeoutMs)
    {
        waitFor([this] { return m_closed; }, timeoutMs);
        return m_closed ? m_closeCode : -1;
    }
    void clear() { m_messages.clear(); }
    qsizetype count(const QString &type) const
    {
        return std::count_if(m_messages.begin(), m_messages.end(), [&](const Message &m) { return str(m.json, "type") == type; });
    }

    bool isClosed() const { return m_closed; }
    int closeCode() const { return m_closeCode; }
    const QString &closeReason() const { return m_closeReason; }
    qint64 closedAtMs() const { return m_closedAtMs; }
    const QList<Message> &messages() const { return m_messages; }
    QString describe() const
    {
        QStringList all;
        for (const Message &m : m_messages)
            all.append(QString::fromUtf8(compact(m.json)));
        return QStringLiteral("%1; messages: %2")
            .arg(m_closed ? QStringLiteral("closed %1 (%2)").arg(m_closeCode).arg(m_closeReason) : QStringLiteral("open"), all.join(QLatin1String(", ")));
    }

Q_SIGNALS:
    void changed();

private:
    QWebSocket m_socket;
    QList<Message> m_messages;
    bool m_connected = false;
    bool m_closed = false;
    int m_closeCode = -1;
    QString m_closeReason;
    qint64 m_closedAtMs = 0;
};

struct User
{
    QString email;
    QString id;
    QByteArray token; // from serve A (15 minutes)
    QString wallet;   // USD
};

} // namespace

class TestNotifications : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_a;      // serve, default settings
    std::unique_ptr<HostProcess> m_b;      // serve, small limits and 2-second tokens
    std::unique_ptr<HostProcess> m_worker; // every queue
    QByteArray m_staff;
    User m_alice, m_bob, m_carol, m_dave, m_erin;
    std::unique_ptr<WsClient> m_aliceLive; // alice's socket on A from the yield payout on
    QString m_position;
    QStringList m_yieldTxHashes;
    QString m_statement;
    QElapsedTimer m_total;

    // --- HTTP ---

    std::optional<HttpReply> call(HostProcess &host, const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {},
                                  const QString &key = {})
    {
        Headers headers;
        if (!token.isEmpty())
            headers.append({QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)});
        if (!key.isEmpty())
            headers.append({QByteArrayLiteral("Idempotency-Key"), key.toUtf8()});
        return HttpClient::request(host.host(), host.port(), method, path, body, "application/json", headers);
    }
    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {}, const QString &key = {})
    {
        return call(*m_a, method, path, body, token, key);
    }
    static QString password() { return QStringLiteral("a long enough password 0123"); }
    QByteArray login(HostProcess &host, const QString &email, const QString &pass = password())
    {
        const auto r = call(host, "POST", "/api/v1/auth/token", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), pass}}));
        if (!r || r->status != 200)
            qWarning("login %s: %s", qPrintable(email), qPrintable(describe(r)));
        return r && r->status == 200 ? str(r->json(), "access").toLatin1() : QByteArray();
    }
    // Registered on A, signed in on A, with a USD wallet.
    User signUp(const QString &email)
    {
        User u{email, {}, {}, {}};
        const auto reg = call("POST", "/api/v1/auth/register", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password()}}));
        if (!reg || reg->status != 201) {
            qWarning("register %s: %s", qPrintable(email), qPrintable(describe(reg)));
            return u;
        }
        u.token = login(*m_a, email);
        const auto me = call("GET", "/api/v1/users/me", {}, u.token);
        u.id = me && me->status == 200 ? str(me->json(), "id") : QString();
        const auto w = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), QStringLiteral("USD")}}), u.token);
        u.wallet = w && w->status == 201 ? str(w->json(), "id") : QString();
        return u;
    }
    std::optional<HttpReply> deposit(const User &u, const QString &amount)
    {
        return call("POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(u.wallet).toUtf8(), compact({{QStringLiteral("amount"), amount}}), u.token, newKey());
    }
    QString balance(const User &u)
    {
        const auto r = call("GET", QStringLiteral("/api/v1/wallets/%1").arg(u.wallet).toUtf8(), {}, u.token);
        return r && r->status == 200 ? str(r->json(), "balance") : QStringLiteral("(%1)").arg(describe(r));
    }
    QJsonArray notifications(const User &u)
    {
        const auto r = call("GET", "/api/v1/notifications?limit=100", {}, u.token);
        if (!r || r->status != 200) {
            qWarning("notifications: %s", qPrintable(describe(r)));
            return {};
        }
        return r->json().value(QLatin1String("results")).toArray();
    }
    static QJsonArray ofKind(const QJsonArray &list, const QString &kind)
    {
        QJsonArray out;
        for (const QJsonValue &v : list)
            if (str(v.toObject(), "kind") == kind)
                out.append(v);
        return out;
    }
    QString sql(const QString &statement) { return m_cluster.sql(statement); }
    QString logs() const
    {
        return QStringLiteral("--- serve A:\n%1\n--- serve B:\n%2\n--- worker:\n%3")
            .arg(m_a ? m_a->output().right(2500) : QString(), m_b ? m_b->output().right(2500) : QString(), m_worker ? m_worker->output().right(2500) : QString());
    }
    // A socket of `u` on `host`, authenticated (ping answered) with the header token.
    std::unique_ptr<WsClient> socketOf(HostProcess &host, const QByteArray &token)
    {
        auto s = std::make_unique<WsClient>();
        if (!s->open(host.port(), token) || !s->pingPong()) {
            qWarning("socket: %s", qPrintable(s->describe()));
            return nullptr;
        }
        return s;
    }
    QString runJob(const QString &task, const QJsonObject &args)
    {
        const auto r = call("POST", "/api/v1/admin/jobs", compact({{QStringLiteral("task"), task}, {QStringLiteral("args"), args}}), m_staff);
        if (!r || r->status != 202) {
            qWarning("enqueue %s: %s", qPrintable(task), qPrintable(describe(r)));
            return {};
        }
        const QJsonValue v = r->json().value(QLatin1String("id"));
        return v.isString() ? v.toString() : QString::number(v.toInteger());
    }
    QString jobState(const QString &id) { return sql(QStringLiteral("SELECT state || '|' || coalesce(worker, '') || '|' || coalesce(last_error, '') FROM host_job WHERE id = %1").arg(id.toLongLong())); }

    // Every notification pushed to `socket` so far, by id (the pushes are taken); *pushes
    // counts them, so a notification pushed twice shows.
    static QHash<QString, QJsonObject> takeNotifications(WsClient &socket, int *pushes)
    {
        QHash<QString, QJsonObject> out;
        *pushes = 0;
        while (const std::optional<WsClient::Message> m = socket.take(QStringLiteral("notification"), 0)) {
            const QJsonObject data = m->json.value(QLatin1String("data")).toObject();
            out.insert(str(data, "id"), data);
            ++*pushes;
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_total.start();
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        m_a = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_a);
        QVERIFY2(m_a->waitReady(60000), qPrintable(m_a->output().right(2000)));
        // Deposits are open only in sandbox mode, the tests' default: /readyz says which.
        const auto ready = HttpClient::request(m_a->host(), m_a->port(), "GET", "/readyz");
        QVERIFY2(ready && ready->body.contains("sandbox"), qPrintable(describe(ready)));
        QProcessEnvironment small;
        small.insert(QStringLiteral("YIELDHOST_USERS__ACCESS_TTL_SECONDS"), QStringLiteral("2"));
        small.insert(QStringLiteral("YIELDHOST_NOTIFICATIONS__AUTH_TIMEOUT_MS"), QStringLiteral("500"));
        small.insert(QStringLiteral("YIELDHOST_NOTIFICATIONS__MAX_SOCKETS_PER_USER"), QStringLiteral("2"));
        m_b = m_cluster.start({QStringLiteral("serve")}, small);
        QVERIFY(m_b);
        QVERIFY2(m_b->waitReady(60000), qPrintable(m_b->output().right(2000)));
        m_worker = m_cluster.start({QStringLiteral("worker")});
        QVERIFY(m_worker);

        const QString staffPassword = QStringLiteral("staff password 0123");
        QString out;
        const int created = HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                                               QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, staffPassword.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));
        m_staff = login(*m_a, QStringLiteral("ops@example.com"), staffPassword);
        QVERIFY(!m_staff.isEmpty());
        const std::pair<User *, const char *> users[] = {{&m_alice, "alice@example.com"}, {&m_bob, "bob@example.com"}, {&m_carol, "carol@example.com"},
                                                         {&m_dave, "dave@example.com"}, {&m_erin, "erin@example.com"}};
        for (const auto &[user, email] : users) {
            *user = signUp(QLatin1String(email));
            QVERIFY2(!user->token.isEmpty() && !user->id.isEmpty() && !user->wallet.isEmpty(), email);
        }
        qInfo("hosts and users ready in %lld ms", m_total.elapsed());
    }

    void cleanupTestCase()
    {
        m_aliceLive.reset();
        for (auto *p : {&m_worker, &m_b, &m_a})
            if (*p)
                QVERIFY2((*p)->terminate() == 0, qPrintable((*p)->output().right(3000)));
        qInfo("whole test: %lld ms", m_total.elapsed());
    }

    // --- authentication ---

    void theThreeWaysToAuthenticate()
    {
        // The Authorization header; ping sent at once (while the token is still being checked).
        WsClient header;
        QVERIFY2(header.open(m_a->port(), m_alice.token), qPrintable(header.describe()));
        QVERIFY2(header.pingPong(), qPrintable(header.describe()));
        // ?token=
        WsClient query;
        QVERIFY2(query.open(m_a->port(), {}, m_alice.token), qPrintable(query.describe()));
        QVERIFY2(query.pingPong(), qPrintable(query.describe()));
        // A first auth message, answered "authenticated" with the user and the token's expiry;
        // on B, whose auth timeout is 500 ms, and with a token A issued.
        WsClient message;
        QVERIFY2(message.open(m_b->port()), qPrintable(message.describe()));
        message.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(m_alice.token)}});
        const auto authenticated = message.take(QStringLiteral("authenticated"));
        QVERIFY2(authenticated, qPrintable(message.describe()));
        const QJsonObject data = authenticated->json.value(QLatin1String("data")).toObject();
        QCOMPARE(str(data, "user_id"), m_alice.id);
        // RFC 3339 in UTC, as every timestamp of the API.
        QCOMPARE(str(data, "expires_at"), QDateTime::fromSecsSinceEpoch(expiryOf(m_alice.token), Qt::UTC).toString(Qt::ISODateWithMs));
        QVERIFY2(str(data, "expires_at").endsWith(u'Z'), qPrintable(str(data, "expires_at")));
        QVERIFY2(message.pingPong(), qPrintable(message.describe()));
        // Past B's auth timeout all three are still open.
        QTest::qWait(700);
        for (WsClient *s : {&header, &query, &message})
            QVERIFY2(!s->isClosed() && s->pingPong(), qPrintable(s->describe()));
        // Re-authenticating with another user's token closes the socket rather than switching users.
        query.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(m_bob.token)}});
        QCOMPARE(query.waitClosed(5000), CloseUnauthenticated);
        QVERIFY2(!header.isClosed(), qPrintable(header.describe()));
    }

    void unauthenticatedSocketsAreClosedWith4401()
    {
        // Nothing sent: closed when B's 500 ms auth timeout is up, not before.
        WsClient silent;
        const qint64 openedAt = wallMs();
        QVERIFY2(silent.open(m_b->port()), qPrintable(silent.describe()));
        QCOMPARE(silent.waitClosed(5000), CloseUnauthenticated);
        const qint64 after = silent.closedAtMs() - openedAt;
        QVERIFY2(after >= 450 && after < 3000, qPrintable(QStringLiteral("closed after %1 ms").arg(after)));

        // Refused tokens: garbage in the header, in ?token= and in the auth message; a token
        // signed with another secret; the message without a token.
        const QByteArray forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl";
        struct Case
        {
            const char *what;
            QByteArray header, query;
            QJsonObject first; // a first message, if any
            QByteArray firstText;
            QByteArray firstBinary;
        };
        const QList<Case> cases{
            {"garbage header", "garbage", {}, {}, {}, {}},
            {"garbage ?token=", {}, "garbage", {}, {}, {}},
            {"forged token", {}, forged, {}, {}, {}},
            {"garbage auth message", {}, {}, {{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QStringLiteral("garbage")}}, {}, {}},
            {"auth without a token", {}, {}, {{QStringLiteral("command"), QStringLiteral("auth")}}, {}, {}},
            {"ping first", {}, {}, {{QStringLiteral("command"), QStringLiteral("ping")}}, {}, {}},
            {"portfolio first", {}, {}, {{QStringLiteral("command"), QStringLiteral("portfolio")}}, {}, {}},
            {"not JSON first", {}, {}, {}, "{not json", {}},
            {"binary first", {}, {}, {}, {}, QByteArray("\x01\x02\x03", 3)},
        };
        std::vector<std::unique_ptr<WsClient>> sockets;
        for (const Case &c : cases) {
            sockets.push_back(std::make_unique<WsClient>());
            WsClient &s = *sockets.back();
            QVERIFY2(s.open(m_a->port(), c.header, c.query), c.what);
            if (!c.first.isEmpty())
                s.send(c.first);
            if (!c.firstText.isEmpty())
                s.sendText(QString::fromLatin1(c.firstText));
            if (!c.firstBinary.isEmpty())
                s.sendBinary(c.firstBinary);
        }
        // A's auth timeout is 10 s: these close on what they sent, well before it.
        for (qsizetype i = 0; i < cases.size(); ++i) {
            QVERIFY2(sockets[i]->waitClosed(3000) == CloseUnauthenticated, qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(cases[i].what), sockets[i]->describe())));
            QVERIFY2(!sockets[i]->closeReason().isEmpty(), cases[i].what);
            QVERIFY2(sockets[i]->messages().isEmpty(), qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(cases[i].what), sockets[i]->describe())));
        }
    }

    void messagesSentDuringAuthenticationAreAllAnswered()
    {
        // Sent at once: an auth, a second auth with another fresh token (neither seen by A yet, so
        // each check waits for the database), then commands. The second auth is among the
        // messages held while the first is checked; what follows it waits for it, in order.
        const QByteArray first = login(*m_a, m_alice.email);
        const QByteArray second = login(*m_a, m_alice.email);
        QVERIFY(!first.isEmpty() && !second.isEmpty() && first != second);
        WsClient s;
        QVERIFY2(s.open(m_a->port()), qPrintable(s.describe()));
        s.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(first)}});
        s.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(second)}});
        s.send({{QStringLiteral("command"), QStringLiteral("ping")}});
        s.send({{QStringLiteral("command"), QStringLiteral("nope")}});
        QVERIFY2(s.take(QStringLiteral("authenticated")), qPrintable(s.describe()));
        QVERIFY2(s.take(QStringLiteral("authenticated")), qPrintable(s.describe()));
        QVERIFY2(s.take(QStringLiteral("pong")), qPrintable(s.describe()));
        const auto unknown = s.take(QStringLiteral("error"));
        QVERIFY2(unknown && unknown->json.value(QLatin1String("code")).toString() == QLatin1String("unknown_command"), qPrintable(s.describe()));
        QVERIFY2(!s.isClosed(), qPrintable(s.describe()));
    }

    void theSocketLivesAsLongAsItsToken()
    {
        // 2-second tokens from B: one socket keeps its first token, the other re-authenticates
        // with a fresh one, issued at least a second later, before the first expires.
        const QByteArray first = login(*m_b, m_dave.email);
        QVERIFY(!first.isEmpty());
        const qint64 firstExp = expiryOf(first);
        QVERIFY2(firstExp * 1000 - wallMs() <= 2000, "B issues 2-second tokens");
        WsClient keeps, renews;
        QVERIFY2(keeps.open(m_a->port(), first) && keeps.pingPong(), qPrintable(keeps.describe()));
        QVERIFY2(renews.open(m_a->port(), {}, first) && renews.pingPong(), qPrintable(renews.describe()));
        QVERIFY(keeps.waitFor([&] { return QDateTime::currentSecsSinceEpoch() >= firstExp - 1; }, 3000));
        const QByteArray fresh = login(*m_b, m_dave.email);
        const qint64 freshExp = expiryOf(fresh);
        QVERIFY2(freshExp > firstExp && !renews.isClosed(), qPrintable(QStringLiteral("%1 %2 %3").arg(firstExp).arg(freshExp).arg(renews.describe())));
        renews.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(fresh)}});
        const auto again = renews.take(QStringLiteral("authenticated"));
        QVERIFY2(again, qPrintable(renews.describe()));
        QCOMPARE(again->json.value(QLatin1String("data")).toObject().value(QLatin1String("expires_at")).toString(),
                 QDateTime::fromSecsSinceEpoch(freshExp, Qt::UTC).toString(Qt::ISODateWithMs));

        // The first closes with 4401 when its token expires (a coarse timer may fire a little early).
        QCOMPARE(keeps.waitClosed(5000), CloseUnauthenticated);
        const qint64 late = keeps.closedAtMs() - firstExp * 1000;
        QVERIFY2(late > -250 && late < 1500, qPrintable(QStringLiteral("closed %1 ms after the token's expiry").arg(late)));
        // The renewed one is open past the first token's expiry, and closes at the fresh one's.
        QVERIFY(renews.waitFor([&] { return wallMs() >= firstExp * 1000 + 300; }, 3000));
        QVERIFY2(!renews.isClosed() && renews.pingPong(1000), qPrintable(renews.describe()));
        // An expired token is refused outright.
        WsClient expired;
        QVERIFY(expired.open(m_a->port(), first));
        QCOMPARE(expired.waitClosed(3000), CloseUnauthenticated);
        QCOMPARE(renews.waitClosed(5000), CloseUnauthenticated);
        const qint64 renewedLate = renews.closedAtMs() - freshExp * 1000;
        QVERIFY2(renewedLate > -250 && renewedLate < 1500, qPrintable(QStringLiteral("closed %1 ms after the fresh token's expiry").arg(renewedLate)));
    }

    // --- commands ---

    void malformedMessagesAreAnsweredAndTheSocketStaysOpen()
    {
        WsClient s;
        QVERIFY2(s.open(m_a->port(), {}, m_bob.token) && s.pingPong(), qPrintable(s.describe()));
        struct Case
        {
            const char *what;
            QString text;
            QByteArray binary;
            const char *code;
        };
        const QList<Case> cases{
            {"bad JSON", QStringLiteral("{\"command\": \"ping\""), {}, "bad_message"},
            {"not JSON at all", QStringLiteral("ping"), {}, "bad_message"},
            {"a JSON array", QStringLiteral("[{\"command\":\"ping\"}]"), {}, "bad_message"},
            {"a JSON string", QStringLiteral("\"ping\""), {}, "bad_message"},
            {"an unknown command", QStringLiteral("{\"command\":\"subscribe\"}"), {}, "unknown_command"},
            {"no command", QStringLiteral("{\"hello\":1}"), {}, "unknown_command"},
            {"a non-string command", QStringLiteral("{\"command\":7}"), {}, "unknown_command"},
            {"a non-string currency", QStringLiteral("{\"command\":\"portfolio\",\"currency\":7}"), {}, "bad_message"},
            {"a binary frame", {}, QByteArray("\x00\xff{\"command\":\"ping\"}", 20), "bad_message"},
        };
        for (const Case &c : cases) {
            if (c.binary.isEmpty())
                s.sendText(c.text);
            else
                s.sendBinary(c.binary);
            const auto reply = s.take(QStringLiteral("error"), 5000);
            QVERIFY2(reply, qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(c.what), s.describe())));
            QVERIFY2(str(reply->json, "code") == QLatin1String(c.code), qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(c.what), QString::fromUtf8(compact(reply->json)))));
            QVERIFY2(!str(reply->json, "detail").isEmpty(), c.what);
            QVERIFY2(s.pingPong(), qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(c.what), s.describe())));
        }
        QVERIFY2(s.messages().isEmpty(), qPrintable(s.describe()));

        // 64 KiB is the limit: a ping of exactly 65536 bytes is answered, one byte more closes with 1009.
        const QString head = QStringLiteral("{\"command\":\"ping\",\"pad\":\"");
        const QString tail = QStringLiteral("\"}");
        const QString exact = head + QString(65536 - head.size() - tail.size(), u'x') + tail;
        QCOMPARE(exact.toUtf8().size(), 65536);
        s.sendText(exact);
        QVERIFY2(s.take(QStringLiteral("pong")), qPrintable(s.describe()));
        s.sendText(head + QString(65537 - head.size() - tail.size(), u'x') + tail);
        QCOMPARE(s.waitClosed(5000), CloseTooBig);
    }

    // --- delivery ---

    void aDepositIsPushedToEverySocketOfItsUserOnly()
    {
        // Alice: two sockets on A (header, ?token=) and one on B (auth message); Bob: one on each.
        WsClient a1, a2, a3, b1, b2;
        QVERIFY2(a1.open(m_a->port(), m_alice.token) && a1.pingPong(), qPrintable(a1.describe()));
        QVERIFY2(a2.open(m_a->port(), {}, m_alice.token) && a2.pingPong(), qPrintable(a2.describe()));
        QVERIFY2(a3.open(m_b->port()), qPrintable(a3.describe()));
        a3.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(m_alice.token)}});
        QVERIFY2(a3.take(QStringLiteral("authenticated")), qPrintable(a3.describe()));
        QVERIFY2(b1.open(m_a->port(), m_bob.token) && b1.pingPong(), qPrintable(b1.describe()));
        QVERIFY2(b2.open(m_b->port(), {}, m_bob.token) && b2.pingPong(), qPrintable(b2.describe()));

        const qint64 before = wallMs();
        const auto d = deposit(m_alice, QStringLiteral("125.50"));
        QVERIFY2(d && d->status == 201, qPrintable(describe(d)));
        const QJsonObject expected{{QStringLiteral("wallet_id"), m_alice.wallet}, {QStringLiteral("balance"), QStringLiteral("125.50")}, {QStringLiteral("currency"), QStringLiteral("USD")}};
        for (WsClient *s : {&a1, &a2, &a3}) {
            const auto pushed = s->take(QStringLiteral("wallet.updated"), 3000);
            QVERIFY2(pushed, qPrintable(s->describe()));
            QCOMPARE(pushed->json.value(QLatin1String("data")).toObject(), expected);
            QVERIFY2(pushed->atMs - before <= 1000, qPrintable(QStringLiteral("wallet.updated arrived %1 ms after the deposit was sent").arg(pushed->atMs - before)));
        }
        qInfo("wallet.updated reached alice's three sockets within %lld ms", wallMs() - before);
        QCOMPARE(balance(m_alice), QStringLiteral("125.50"));
        // Half a second more: no second copy for Alice, nothing at all for Bob.
        QTest::qWait(500);
        for (WsClient *s : {&a1, &a2, &a3})
            QVERIFY2(s->count(QStringLiteral("wallet.updated")) == 0 && !s->isClosed(), qPrintable(s->describe()));
        for (WsClient *s : {&b1, &b2})
            QVERIFY2(s->messages().isEmpty() && !s->isClosed(), qPrintable(s->describe()));
    }

    void anIndependentClientGetsTheSamePush()
    {
        // Python's websockets (Debian's python3-websockets; the pyenv python3 on PATH lacks it).
        QProcess python;
        python.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(NOTIFICATIONS_WS_CLIENT), QStringLiteral("ws://127.0.0.1:%1/ws/notifications").arg(m_a->port()),
                                                          QString::fromLatin1(m_erin.token)});
        QVERIFY2(python.waitForStarted(10000), qPrintable(python.errorString()));
        QByteArray out;
        const bool ready = waitUntil([&] {
            out += python.readAllStandardOutput();
            return out.contains("READY\n") || python.state() == QProcess::NotRunning;
        }, 20000);
        QVERIFY2(ready && out.contains("READY\n"),
                 qPrintable(QStringLiteral("stdout: %1\nstderr: %2 (python3-websockets is installed by packaging/install-deps.sh)")
                                .arg(QString::fromUtf8(out), QString::fromUtf8(python.readAllStandardError()))));
        const qint64 before = wallMs();
        const auto d = deposit(m_erin, QStringLiteral("42.00"));
        QVERIFY2(d && d->status == 201, qPrintable(describe(d)));
        const bool finished = python.waitForFinished(10000);
        out += python.readAllStandardOutput();
        const QByteArray err = python.readAllStandardError();
        if (!finished)
            python.kill();
        QVERIFY2(finished && python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
                 qPrintable(QStringLiteral("stdout: %1\nstderr: %2").arg(QString::fromUtf8(out), QString::fromUtf8(err))));
        qInfo("the Python client had its push %lld ms after the deposit was sent", wallMs() - before);
        const QByteArray line = out.mid(out.indexOf("READY\n") + 6).trimmed();
        const QJsonObject pushed = QJsonDocument::fromJson(line).object();
        QCOMPARE(pushed, (QJsonObject{{QStringLiteral("type"), QStringLiteral("wallet.updated")},
                                      {QStringLiteral("data"), QJsonObject{{QStringLiteral("wallet_id"), m_erin.wallet}, {QStringLiteral("balance"), QStringLiteral("42.00")},
                                                                           {QStringLiteral("currency"), QStringLiteral("USD")}}}}));
    }

    void aYieldPaidByTheWorkerReachesASocketOnServe()
    {
        // A USD daily plan (staff), Alice invests 1000 of her wallet.
        const auto plan = call("POST", "/api/v1/plans",
                               compact({{QStringLiteral("name"), QStringLiteral("USD daily")}, {QStringLiteral("currency"), QStringLiteral("USD")},
                                        {QStringLiteral("apy"), QStringLiteral("0.0730")}, {QStringLiteral("payout_interval"), QStringLiteral("daily")},
                                        {QStringLiteral("min_amount"), QStringLiteral("10.00")}, {QStringLiteral("lock_days"), 0}}),
                               m_staff);
        QVERIFY2(plan && plan->status == 201, qPrintable(describe(plan)));
        const auto funded = deposit(m_alice, QStringLiteral("2000.00"));
        QVERIFY2(funded && funded->status == 201, qPrintable(describe(funded)));
        const auto invested = call("POST", "/api/v1/investments",
                                   compact({{QStringLiteral("plan_id"), str(plan->json(), "id")}, {QStringLiteral("wallet_id"), m_alice.wallet},
                                            {QStringLiteral("amount"), QStringLiteral("1000.00")}}),
                                   m_alice.token, newKey());
        QVERIFY2(invested && invested->status == 201, qPrintable(describe(invested)));
        m_position = str(invested->json(), "id");
        const QDate opened = QDateTime::fromString(str(invested->json(), "opened_at"), Qt::ISODateWithMs).toUTC().date();
        QVERIFY2(opened.isValid(), qPrintable(describe(invested)));

        // Alice's socket on A, opened now; three days later the worker pays two periods.
        m_aliceLive = socketOf(*m_a, m_alice.token);
        QVERIFY(m_aliceLive);
        const auto moved = call("POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_days"), 3}}), m_staff);
        QVERIFY2(moved && moved->status == 200, qPrintable(describe(moved)));
        // Periods 1 and 2 (days opened+1, opened+2) have ended by opened+3.
        const QString asOf = opened.addDays(3).toString(Qt::ISODate);
        const qint64 before = wallMs();
        const QString job = runJob(QStringLiteral("investments.process_yield_payments"), {{QStringLiteral("as_of"), asOf}});
        QVERIFY(!job.isEmpty());

        WsClient &s = *m_aliceLive;
        for (int i = 0; i < 2; ++i) {
            const auto paid = s.take(QStringLiteral("yield.paid"), 15000);
            QVERIFY2(paid, qPrintable(QString(s.describe() + u'\n' + jobState(job) + u'\n' + logs())));
            const QJsonObject data = paid->json.value(QLatin1String("data")).toObject();
            QCOMPARE(data.keys(), (QStringList{QStringLiteral("amount"), QStringLiteral("currency"), QStringLiteral("investment_id"), QStringLiteral("tx_hash")}));
            QCOMPARE(str(data, "investment_id"), m_position);
            QCOMPARE(str(data, "currency"), QStringLiteral("USD"));
            QCOMPARE(str(data, "amount"), QStringLiteral("0.20")); // 1000 x 0.073 / 365 a day
            QVERIFY2(str(data, "tx_hash").startsWith(QLatin1String("0x")), qPrintable(str(data, "tx_hash")));
            m_yieldTxHashes.append(str(data, "tx_hash"));
        }
        qInfo("the worker's two yield.paid reached serve's socket %lld ms after the job was asked for", wallMs() - before);
        QVERIFY(m_yieldTxHashes[0] != m_yieldTxHashes[1]);
        const auto changed = s.take(QStringLiteral("portfolio.changed"), 5000, [](const QJsonObject &m) {
            return str(m.value(QLatin1String("data")).toObject(), "reason") == QLatin1String("yield_paid");
        });
        QVERIFY2(changed, qPrintable(s.describe()));
        // The job ran in the worker process, not in serve.
        QVERIFY2(waitUntil([&] { return jobState(job).startsWith(QLatin1String("done|")); }, 15000), qPrintable(jobState(job)));
        QVERIFY2(!jobState(job).section(u'|', 1, 1).isEmpty(), qPrintable(jobState(job)));
        QVERIFY2(m_worker->output().contains(QStringLiteral("job %1").arg(job)), qPrintable(m_worker->output().right(2000)));
        // Each payout is stored once as yield_paid and pushed once as a notification.
        QVERIFY2(s.waitFor([&] { return s.count(QStringLiteral("notification")) >= 2; }, 5000), qPrintable(s.describe()));
        QTest::qWait(300);
        int pushes = 0;
        const QHash<QString, QJsonObject> pushed = takeNotifications(s, &pushes);
        QCOMPARE(pushed.size(), 2);
        QCOMPARE(pushes, 2);
        QVERIFY2(s.count(QStringLiteral("yield.paid")) == 0, qPrintable(s.describe())); // each payout pushed once
        const QJsonArray stored = ofKind(notifications(m_alice), QStringLiteral("yield_paid"));
        QCOMPARE(stored.size(), 2);
        QSet<QString> hashes;
        for (const QJsonValue &v : stored) {
            const QJsonObject n = v.toObject();
            QVERIFY2(pushed.contains(str(n, "id")), qPrintable(QString::fromUtf8(compact(n))));
            QCOMPARE(pushed.value(str(n, "id")), n);
            hashes.insert(str(n.value(QLatin1String("data")).toObject(), "tx_hash"));
        }
        QCOMPARE(hashes, (QSet<QString>{m_yieldTxHashes[0], m_yieldTxHashes[1]}));
    }

    void aSocketAuthenticatedAfterAClockJumpStaysOpen()
    {
        // The test clock is 3 days ahead; tokens live on real time (docs/clock.md), so a socket
        // authenticated now with a 15-minute token is not "expired" by the host clock.
        WsClient header, message;
        QVERIFY2(header.open(m_a->port(), m_bob.token) && header.pingPong(), qPrintable(header.describe()));
        QVERIFY2(message.open(m_b->port()), qPrintable(message.describe()));
        message.send({{QStringLiteral("command"), QStringLiteral("auth")}, {QStringLiteral("token"), QString::fromLatin1(m_bob.token)}});
        const auto authenticated = message.take(QStringLiteral("authenticated"));
        QVERIFY2(authenticated, qPrintable(message.describe()));
        QTest::qWait(300);
        for (WsClient *s : {&header, &message})
            QVERIFY2(!s->isClosed() && s->pingPong(), qPrintable(s->describe()));
    }

    void thePortfolioCommandAnswersTheRestSummary()
    {
        WsClient &s = *m_aliceLive;
        const auto rest = call("GET", "/api/v1/portfolio/summary", {}, m_alice.token);
        QVERIFY2(rest && rest->status == 200, qPrintable(describe(rest)));
        s.send({{QStringLiteral("command"), QStringLiteral("portfolio")}});
        const auto summary = s.take(QStringLiteral("portfolio.summary"));
        QVERIFY2(summary, qPrintable(s.describe()));
        QCOMPARE(summary->json.keys(), (QStringList{QStringLiteral("data"), QStringLiteral("type")}));
        QJsonObject ws = summary->json.value(QLatin1String("data")).toObject();
        QJsonObject http = rest->json();
        // The same content; as_of is when each was made.
        QVERIFY2(!str(ws, "as_of").isEmpty() && !str(http, "as_of").isEmpty(), qPrintable(QString::fromUtf8(compact(ws))));
        ws.remove(QStringLiteral("as_of"));
        http.remove(QStringLiteral("as_of"));
        QCOMPARE(ws, http);
        QCOMPARE(str(ws, "total_invested"), QStringLiteral("1000.00"));
        QCOMPARE(str(ws, "total_yield_paid"), QStringLiteral("0.40"));
        QCOMPARE(ws.value(QLatin1String("positions")).toInt(), 1);
        // An explicit currency, and one that does not exist (a 422 in REST: bad_message).
        s.send({{QStringLiteral("command"), QStringLiteral("portfolio")}, {QStringLiteral("currency"), QStringLiteral("USD")}});
        const auto usd = s.take(QStringLiteral("portfolio.summary"));
        QVERIFY2(usd && str(usd->json.value(QLatin1String("data")).toObject(), "currency") == QLatin1String("USD"), qPrintable(s.describe()));
        s.send({{QStringLiteral("command"), QStringLiteral("portfolio")}, {QStringLiteral("currency"), QStringLiteral("QQQ")}});
        const auto unknown = s.take(QStringLiteral("error"));
        QVERIFY2(unknown && str(unknown->json, "code") == QLatin1String("bad_message"), qPrintable(s.describe()));
        CHECK(verifyProblem(call("GET", "/api/v1/portfolio/summary?currency=QQQ", {}, m_alice.token), 422));
        QVERIFY2(s.pingPong(), qPrintable(s.describe()));
    }

    void thePortfolioCommandSaysUnavailableWithoutInvestments()
    {
        // A serve process whose plugin set lacks investments (so no Portfolio service): a copy of
        // the host binary in its own tree, whose lib/yieldhost/plugins holds users and
        // notifications only (the host always searches ../lib/yieldhost/plugins of its binary).
        QTemporaryDir tree;
        QVERIFY(tree.isValid());
        const QString binary = qEnvironmentVariable("YIELDHOST_BINARY");
        const QString plugins = QFileInfo(binary).absoluteDir().absoluteFilePath(QStringLiteral("../lib/yieldhost/plugins"));
        QVERIFY(QDir(tree.path()).mkpath(QStringLiteral("bin")) && QDir(tree.path()).mkpath(QStringLiteral("lib/yieldhost/plugins")));
        const QString copy = tree.filePath(QStringLiteral("bin/yieldhost"));
        QVERIFY(QFile::copy(binary, copy));
        QVERIFY(QFile::setPermissions(copy, QFile::permissions(binary)));
        for (const char *id : {"users", "notifications"}) {
            const QString file = QStringLiteral("yieldhost-%1.so").arg(QLatin1String(id));
            QVERIFY2(QFile::link(QDir(plugins).absoluteFilePath(file), tree.filePath(QStringLiteral("lib/yieldhost/plugins/") + file)), id);
        }
        qputenv("YIELDHOST_BINARY", copy.toLocal8Bit());
        auto lone = m_cluster.start({QStringLiteral("serve")});
        qputenv("YIELDHOST_BINARY", binary.toLocal8Bit());
        QVERIFY(lone);
        QVERIFY2(lone->waitReady(60000), qPrintable(lone->output().right(2000)));
        QVERIFY2(lone->output().contains(QLatin1String("no Portfolio service")), qPrintable(lone->output().right(2000)));
        const auto s = socketOf(*lone, m_alice.token);
        QVERIFY(s);
        s->send({{QStringLiteral("command"), QStringLiteral("portfolio")}});
        const auto unavailable = s->take(QStringLiteral("error"));
        QVERIFY2(unavailable && str(unavailable->json, "code") == QLatin1String("unavailable"), qPrintable(s->describe()));
        QVERIFY2(str(unavailable->json, "detail").contains(QLatin1String("investments")), qPrintable(s->describe()));
        QVERIFY2(s->pingPong(), qPrintable(s->describe())); // the socket stays open
        QCOMPARE(lone->terminate(), 0);
    }

    // --- stored notifications ---

    void aStatementReadyNotificationIsStoredOnceAndPushed()
    {
        WsClient &s = *m_aliceLive;
        const auto clock = call("GET", "/api/v1/admin/clock", {}, m_staff);
        QVERIFY2(clock && clock->status == 200, qPrintable(describe(clock)));
        const QDate today = QDateTime::fromString(str(clock->json(), "now"), Qt::ISODateWithMs).toUTC().date();
        const QString period = today.addMonths(-1).toString(QStringLiteral("yyyy-MM"));
        const auto asked = call("POST", "/api/v1/statements", compact({{QStringLiteral("period"), period}}), m_alice.token);
        QVERIFY2(asked && asked->status == 202, qPrintable(describe(asked)));
        m_statement = str(asked->json(), "id");
        // The worker makes it; every process hears statement.ready; one notification is pushed.
        const auto pushed = s.take(QStringLiteral("notification"), 20000, [&](const QJsonObject &m) {
            return str(m.value(QLatin1String("data")).toObject(), "kind") == QLatin1String("statement_ready");
        });
        QVERIFY2(pushed, qPrintable(QString(s.describe() + u'\n' + logs())));
        const QJsonObject n = pushed->json.value(QLatin1String("data")).toObject();
        QCOMPARE(n.keys(), (QStringList{QStringLiteral("body"), QStringLiteral("created_at"), QStringLiteral("data"), QStringLiteral("id"), QStringLiteral("kind"),
                                        QStringLiteral("read"), QStringLiteral("title")}));
        QCOMPARE(str(n.value(QLatin1String("data")).toObject(), "statement_id"), m_statement);
        QCOMPARE(str(n.value(QLatin1String("data")).toObject(), "period"), period);
        QVERIFY(n.value(QLatin1String("read")) == QJsonValue(false));
        QVERIFY2(str(n, "body").contains(period), qPrintable(str(n, "body")));
        QVERIFY(!str(n, "title").isEmpty());
        QVERIFY(QDateTime::fromString(str(n, "created_at"), Qt::ISODateWithMs).isValid());
        const auto got = call("GET", QStringLiteral("/api/v1/statements/%1").arg(m_statement).toUtf8(), {}, m_alice.token);
        QVERIFY2(got && str(got->json(), "status") == QLatin1String("ready"), qPrintable(describe(got)));
        // Once: no second push, one stored.
        QTest::qWait(500);
        QVERIFY2(s.count(QStringLiteral("notification")) == 0, qPrintable(s.describe()));
        const QJsonArray stored = ofKind(notifications(m_alice), QStringLiteral("statement_ready"));
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored[0].toObject(), n);
    }

    void aLargeDepositIsNotifiedAndASmallOneIsNot()
    {
        WsClient &s = *m_aliceLive;
        s.clear(); // the payouts' wallet.updated and portfolio.changed
        // Just under the threshold first, then exactly at it: the store handles events in order,
        // so once the large one's notification is here the small one has been judged.
        const auto small = deposit(m_alice, QStringLiteral("9999.99"));
        QVERIFY2(small && small->status == 201, qPrintable(describe(small)));
        const auto large = deposit(m_alice, QStringLiteral("10000.00"));
        QVERIFY2(large && large->status == 201, qPrintable(describe(large)));
        const auto pushed = s.take(QStringLiteral("notification"), 5000, [](const QJsonObject &m) {
            return str(m.value(QLatin1String("data")).toObject(), "kind") == QLatin1String("large_deposit");
        });
        QVERIFY2(pushed, qPrintable(QString(s.describe() + u'\n' + logs())));
        const QJsonObject n = pushed->json.value(QLatin1String("data")).toObject();
        const QJsonObject data = n.value(QLatin1String("data")).toObject();
        QCOMPARE(str(data, "amount"), QStringLiteral("10000.00"));
        QCOMPARE(str(data, "currency"), QStringLiteral("USD"));
        QCOMPARE(str(data, "wallet_id"), m_alice.wallet);
        QTest::qWait(500);
        QVERIFY2(s.count(QStringLiteral("notification")) == 0, qPrintable(s.describe()));
        const QJsonArray stored = ofKind(notifications(m_alice), QStringLiteral("large_deposit"));
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored[0].toObject(), n);
        // Both deposits reached the socket as wallet.updated, in order.
        const auto first = s.take(QStringLiteral("wallet.updated"), 2000);
        const auto second = s.take(QStringLiteral("wallet.updated"), 2000);
        QVERIFY2(first && second, qPrintable(s.describe()));
        QCOMPARE(str(second->json.value(QLatin1String("data")).toObject(), "balance"), balance(m_alice));
    }

    void notificationsAreListedPagedAndMarkedRead()
    {
        // Alice's: large_deposit, statement_ready, two yield_paid; newest first.
        const auto all = call("GET", "/api/v1/notifications", {}, m_alice.token);
        QVERIFY2(all && all->status == 200, qPrintable(describe(all)));
        QCOMPARE(all->json().keys(), (QStringList{QStringLiteral("next"), QStringLiteral("results")}));
        QVERIFY(all->json().value(QLatin1String("next")).isNull());
        const QJsonArray list = all->json().value(QLatin1String("results")).toArray();
        QStringList kinds, ids;
        for (const QJsonValue &v : list) {
            kinds.append(str(v.toObject(), "kind"));
            ids.append(str(v.toObject(), "id"));
            QVERIFY(v.toObject().value(QLatin1String("read")) == QJsonValue(false));
        }
        QCOMPARE(kinds, (QStringList{QStringLiteral("large_deposit"), QStringLiteral("statement_ready"), QStringLiteral("yield_paid"), QStringLiteral("yield_paid")}));
        // Pages of one give the same list.
        QStringList paged;
        QString cursor;
        for (int page = 0; page < 10; ++page) {
            const auto r = call("GET", QStringLiteral("/api/v1/notifications?limit=1%1").arg(cursor.isEmpty() ? QString() : QStringLiteral("&cursor=") + cursor).toUtf8(), {}, m_alice.token);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            const QJsonArray results = r->json().value(QLatin1String("results")).toArray();
            QCOMPARE(results.size(), 1);
            paged.append(str(results[0].toObject(), "id"));
            const QJsonValue next = r->json().value(QLatin1String("next"));
            if (next.isNull())
                break;
            QVERIFY2(next.isString() && !next.toString().isEmpty(), qPrintable(describe(r)));
            cursor = QString::fromUtf8(QUrl::toPercentEncoding(next.toString()));
        }
        QCOMPARE(paged, ids);
        CHECK(verifyProblem(call("GET", "/api/v1/notifications?limit=0", {}, m_alice.token), 422));
        CHECK(verifyProblem(call("GET", "/api/v1/notifications?cursor=garbage", {}, m_alice.token), 422));
        CHECK(verifyProblem(call("GET", "/api/v1/notifications"), 401));

        // Marking one read: 200 with read true (again harmless); only that one changes.
        const QByteArray readPath = QStringLiteral("/api/v1/notifications/%1/read").arg(ids[1]).toUtf8();
        for (int i = 0; i < 2; ++i) {
            const auto r = call("POST", readPath, {}, m_alice.token);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            QCOMPARE(str(r->json(), "id"), ids[1]);
            QVERIFY(r->json().value(QLatin1String("read")) == QJsonValue(true));
        }
        const QJsonArray after = notifications(m_alice);
        QCOMPARE(after.size(), list.size());
        for (const QJsonValue &v : after)
            QCOMPARE(v.toObject().value(QLatin1String("read")).toBool(), str(v.toObject(), "id") == ids[1]);

        // Not Alice's, not a uuid, no such id: 404 (and Alice's stays as it was); no token: 401.
        CHECK(verifyProblem(call("POST", QStringLiteral("/api/v1/notifications/%1/read").arg(ids[0]).toUtf8(), {}, m_bob.token), 404));
        CHECK(verifyProblem(call("POST", "/api/v1/notifications/not-a-uuid/read", {}, m_alice.token), 404));
        CHECK(verifyProblem(call("POST", "/api/v1/notifications/1/read", {}, m_alice.token), 404));
        CHECK(verifyProblem(call("POST", QStringLiteral("/api/v1/notifications/%1/read").arg(newKey()).toUtf8(), {}, m_alice.token), 404));
        CHECK(verifyProblem(call("POST", readPath), 401));
        QCOMPARE(ofKind(notifications(m_alice), QStringLiteral("large_deposit"))[0].toObject().value(QLatin1String("read")).toBool(), false);
        // Bob has none (his deposits were small), and sees none of Alice's.
        const auto bob = call("GET", "/api/v1/notifications", {}, m_bob.token);
        QVERIFY2(bob && bob->status == 200, qPrintable(describe(bob)));
        QCOMPARE(bob->json(), (QJsonObject{{QStringLiteral("results"), QJsonArray()}, {QStringLiteral("next"), QJsonValue::Null}}));
    }

    void eachFactIsStoredOnceByEveryProcess()
    {
        // Three processes (two serve, one worker) heard every event and tried to store it: one
        // row per fact, and one `notification` event per row (only the inserting process pushes).
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM notifications_notification")), QStringLiteral("4"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'notification'")), QStringLiteral("4"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'yield.paid'")), QStringLiteral("2"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'statement.ready'")), QStringLiteral("1"));

        // The source events delivered again (re-inserted into the outbox: every process hears
        // them once more) store and push nothing new. The yield.paid copies do reach the socket
        // again, which shows they were delivered.
        WsClient &s = *m_aliceLive;
        sql(QStringLiteral("INSERT INTO host_outbox (topic, user_id, data) SELECT topic, user_id, data FROM host_outbox "
                           "WHERE topic IN ('yield.paid', 'statement.ready', 'wallet.deposited') ORDER BY id; NOTIFY yieldhost_outbox"));
        for (int i = 0; i < 2; ++i)
            QVERIFY2(s.take(QStringLiteral("yield.paid"), 5000), qPrintable(s.describe()));
        QTest::qWait(700);
        QVERIFY2(s.count(QStringLiteral("notification")) == 0, qPrintable(s.describe()));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM notifications_notification")), QStringLiteral("4"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'notification'")), QStringLiteral("4"));
        QCOMPARE(notifications(m_alice).size(), 4);
        for (HostProcess *p : {m_a.get(), m_b.get(), m_worker.get()})
            QVERIFY2(!p->output().contains(QLatin1String("could not store")), qPrintable(p->output().right(2000)));
    }

    // --- limits ---

    void thePerUserSocketLimit()
    {
        // B allows 2 sockets per user: Carol's third is closed with 1008 and a reason.
        auto c1 = socketOf(*m_b, m_carol.token);
        auto c2 = socketOf(*m_b, m_carol.token);
        QVERIFY(c1 && c2);
        WsClient c3;
        QVERIFY(c3.open(m_b->port(), {}, m_carol.token));
        QCOMPARE(c3.waitClosed(5000), ClosePolicyViolation);
        QVERIFY2(c3.closeReason().contains(QLatin1String("limit")), qPrintable(c3.closeReason()));
        // Per user (Bob is accepted on B) and per process (Carol is accepted on A).
        auto bob = socketOf(*m_b, m_bob.token);
        auto onA = socketOf(*m_a, m_carol.token);
        QVERIFY(bob && onA);
        for (WsClient *s : {c1.get(), c2.get()})
            QVERIFY2(!s->isClosed() && s->pingPong(), qPrintable(s->describe()));
        // One closes: a new one is accepted (the server releases the slot when its session ends;
        // tried again for at most 3 s).
        c1->close();
        QVERIFY(c1->waitFor([&] { return c1->isClosed(); }, 5000));
        std::unique_ptr<WsClient> c4;
        int attempts = 0;
        QDeadlineTimer deadline(3000);
        do {
            ++attempts;
            c4 = std::make_unique<WsClient>();
            if (c4->open(m_b->port(), {}, m_carol.token) && c4->pingPong(2000))
                break;
            QTest::qWait(100);
        } while (!deadline.hasExpired());
        QVERIFY2(!c4->isClosed(), qPrintable(c4->describe()));
        if (attempts > 1)
            qInfo("the freed slot was taken on attempt %d", attempts);
        // And the limit holds again.
        WsClient c5;
        QVERIFY(c5.open(m_b->port(), m_carol.token));
        QCOMPARE(c5.waitClosed(5000), ClosePolicyViolation);
        QVERIFY2(!c2->isClosed() && !c4->isClosed(), qPrintable(c2->describe()));
    }

    // --- last: it moves the clock on ---

    void aConfirmedSettlementIsStoredOnceAndPushed()
    {
        // The two yield payouts' settlements, confirmed by integrations' job once they are older
        // than settlement_confirm_seconds (30) of host time: one settlement_confirmed each.
        QCOMPARE(m_yieldTxHashes.size(), 2);
        std::unique_ptr<WsClient> live = socketOf(*m_a, m_alice.token);
        QVERIFY(live);
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM integrations_settlement WHERE status = 'submitted'")), QStringLiteral("2"));
        const auto moved = call("POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_seconds"), 60}}), m_staff);
        QVERIFY2(moved && moved->status == 200, qPrintable(describe(moved)));
        const QString job = runJob(QStringLiteral("integrations.confirm_settlements"), {});
        QVERIFY(!job.isEmpty());
        WsClient &s = *live;
        QSet<QString> hashes;
        for (int i = 0; i < 2; ++i) {
            const auto pushed = s.take(QStringLiteral("notification"), 15000, [](const QJsonObject &m) {
                return str(m.value(QLatin1String("data")).toObject(), "kind") == QLatin1String("settlement_confirmed");
            });
            QVERIFY2(pushed, qPrintable(QString(s.describe() + u'\n' + jobState(job) + u'\n' + logs())));
            const QJsonObject n = pushed->json.value(QLatin1String("data")).toObject();
            hashes.insert(str(n.value(QLatin1String("data")).toObject(), "tx_hash"));
            QVERIFY2(str(n, "body").contains(str(n.value(QLatin1String("data")).toObject(), "tx_hash")), qPrintable(str(n, "body")));
        }
        QCOMPARE(hashes, (QSet<QString>{m_yieldTxHashes[0], m_yieldTxHashes[1]}));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM integrations_settlement WHERE status = 'confirmed'")), QStringLiteral("2"));
        // Once: no further push, two stored.
        QTest::qWait(500);
        QVERIFY2(s.count(QStringLiteral("notification")) == 0, qPrintable(s.describe()));
        QCOMPARE(ofKind(notifications(m_alice), QStringLiteral("settlement_confirmed")).size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestNotifications)
#include "tst_notifications.moc"
