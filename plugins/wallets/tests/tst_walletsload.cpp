// The ledger under concurrent load, end to end: 32 client threads, each on its own keep-alive
// connection, post a mix of deposits, withdrawals and transfers among 6 users in two currencies
// (USD and EUR) to one `serve` process of the real binary, every request with its own
// Idempotency-Key, and now and then a deliberate repeat of an earlier request with its key.
// Afterwards, from the database: per currency the balances of all accounts (wallets and system
// accounts) sum to 0, no wallet is negative, every account's balance is the sum of its entries and
// its last entry's balance_after, every 201 names a ledger transaction that exists once, with the
// requested amount on the requested wallet, and the load created exactly as many transactions as
// it got distinct 201s (repeats were replayed with the first reply, not posted again); no reply
// was a 5xx. Then the same load again, with the serve process killed (SIGKILL) in the middle and a
// new one started on the same database: requests whose replies were lost are sent again with the
// same key, as a client would, and the same invariants hold.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QMutex>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QUrl>
#include <QtTest/QtTest>

#include <atomic>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

constexpr int Clients = 32;
constexpr int Users = 6;
const QStringList Currencies{QStringLiteral("USD"), QStringLiteral("EUR")};
constexpr int OpsPerClientFirst = 160;  // 5,120 operations
constexpr int OpsPerClientSecond = 100; // 3,200, with the kill after KillAfter of them
constexpr int KillAfter = 1000;
constexpr int RepeatEvery = 16; // about one request in 16 repeats an earlier one, key and body
const QString Funding = QStringLiteral("50.00"); // small enough that some withdrawals and transfers are refused

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

struct User
{
    QString email;
    QString id;
    QByteArray token;
    QHash<QString, QString> wallets; // currency -> wallet id
};

// One request of the load and what it should do.
struct Op
{
    QByteArray path;
    QByteArray body;
    QByteArray key;
    int user = 0;
    QString kind;    // the "transaction" kind of a 201: deposit, withdrawal, transfer_out
    QString wallet;  // the caller's wallet it moves
    QString signedAmount; // the amount of the caller's entry
};

struct Reply
{
    int status = 0; // 0: none
    QByteArray body;
    bool replayed = false;
};

// What one client thread did.
struct ClientLog
{
    QList<Op> ops;
    QList<Reply> replies; // the first definitive reply of each op
    int serverErrors = 0; // 5xx, fresh requests and repeats
    int unexpected = 0;   // statuses other than 201 and 409
    int repeats = 0;
    int repeatMismatches = 0;
    int resent = 0; // requests sent again (same key) after a lost reply
    int resentReplayed = 0; // ... whose answer was a replay: the first had committed, its reply was lost
    int abandoned = 0; // never got a reply before the deadline
    QStringList notes;
};

} // namespace

class TestWalletsLoad : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_host;
    std::unique_ptr<HostProcess> m_killed;
    QList<User> m_users;
    std::atomic<int> m_port{0}; // 0 while no host is ready
    std::atomic<int> m_done{0}; // operations completed in the running phase

    // --- setup over HTTP (main thread) ---

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body, const QByteArray &token = {},
                                  const QByteArray &key = {})
    {
        Headers headers;
        if (!token.isEmpty())
            headers.append({QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)});
        if (!key.isEmpty())
            headers.append({QByteArrayLiteral("Idempotency-Key"), key});
        return HttpClient::request(m_host->host(), m_host->port(), method, path, body, "application/json", headers);
    }

    // --- SQL ---

    // A script through psql's stdin (no length limit, unlike one -c argument); its output.
    QString psql(const QString &script)
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PGPASSWORD"), m_cluster.postgres().server().password());
        p.setProcessEnvironment(env);
        p.start(QStringLiteral("psql"), {QStringLiteral("-X"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                                         QString::number(m_cluster.postgres().port()), QStringLiteral("-U"), QStringLiteral("yieldhost"), QStringLiteral("-d"),
                                         QUrl(m_cluster.databaseUrl()).path().mid(1), QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-Atq")});
        if (!p.waitForStarted(10000))
            return QStringLiteral("<psql did not start>");
        p.write(script.toUtf8());
        p.closeWriteChannel();
        if (!p.waitForFinished(60000) || p.exitCode() != 0)
            qWarning("psql: %s", p.readAllStandardError().constData());
        return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    }
    qint64 ledgerTransactions() { return m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_transaction")).toLongLong(); }

    // The invariants that hold whatever happened: balanced currencies, no negative wallet, balances
    // that are the sum of their entries and the last balance_after.
    void verifyLedgerInvariants()
    {
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT coalesce(string_agg(currency || '=' || total, ','), '') FROM "
                                              "(SELECT currency, sum(balance) AS total FROM wallets_account GROUP BY currency HAVING sum(balance) <> 0) s")),
                 QString());
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_account WHERE user_id IS NOT NULL AND balance < 0")), QStringLiteral("0"));
        QCOMPARE(m_cluster.sql(QStringLiteral(
                     "SELECT coalesce(string_agg(a.id::text || ':' || a.balance || '/' || s.total || '/' || coalesce(l.balance_after::text, '-'), ','), '') "
                     "FROM wallets_account a "
                     "CROSS JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM wallets_entry e WHERE e.account_id = a.id) s "
                     "LEFT JOIN LATERAL (SELECT balance_after FROM wallets_entry e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1) l ON true "
                     "WHERE a.balance <> s.total OR a.balance <> coalesce(l.balance_after, 0)")),
                 QString());
        // Every transaction's entries balance per currency (the trigger's promise, read back).
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM (SELECT transaction_id FROM wallets_entry GROUP BY transaction_id, currency HAVING sum(amount) <> 0) s")),
                 QStringLiteral("0"));
        QCOMPARE(m_cluster.sql(QStringLiteral("SELECT count(*) FROM wallets_transaction t WHERE NOT EXISTS (SELECT 1 FROM wallets_entry e WHERE e.transaction_id = t.id)")),
                 QStringLiteral("0"));
    }

    // --- the load ---

    // The operations of client `client` in phase `phase`: deposits (30 %), withdrawals (20 %) and
    // transfers (50 %) by random users in a random currency, 0.01 to 40.00.
    QList<Op> plan(int phase, int client, int count) const
    {
        QRandomGenerator random(quint32(phase * 1000 + client));
        QList<Op> ops;
        for (int i = 0; i < count; ++i) {
            Op op;
            op.user = int(random.bounded(Users));
            const User &u = m_users[op.user];
            const QString currency = Currencies[int(random.bounded(int(Currencies.size())))];
            op.wallet = u.wallets.value(currency);
            const qint64 cents = 1 + random.bounded(4000);
            const QString amount = QStringLiteral("%1.%2").arg(cents / 100).arg(cents % 100, 2, 10, QLatin1Char('0'));
            op.key = QStringLiteral("load%1-c%2-op%3").arg(phase).arg(client).arg(i).toLatin1();
            const int what = int(random.bounded(10));
            if (what < 3) {
                op.kind = QStringLiteral("deposit");
                op.path = QStringLiteral("/api/v1/wallets/%1/deposit").arg(op.wallet).toLatin1();
                op.body = compact({{QStringLiteral("amount"), amount}, {QStringLiteral("reference"), QString::fromLatin1(op.key)}});
                op.signedAmount = amount;
            } else if (what < 5) {
                op.kind = QStringLiteral("withdrawal");
                op.path = QStringLiteral("/api/v1/wallets/%1/withdraw").arg(op.wallet).toLatin1();
                op.body = compact({{QStringLiteral("amount"), amount}, {QStringLiteral("destination"), QStringLiteral("bank %1").arg(op.user)}});
                op.signedAmount = u'-' + amount;
            } else {
                const int to = (op.user + 1 + int(random.bounded(Users - 1))) % Users;
                op.kind = QStringLiteral("transfer_out");
                op.path = "/api/v1/transfers";
                op.body = compact({{QStringLiteral("from_wallet"), op.wallet}, {QStringLiteral("to_email"), m_users[to].email}, {QStringLiteral("amount"), amount}});
                op.signedAmount = u'-' + amount;
            }
            ops.append(op);
        }
        return ops;
    }

    // One client thread: its ops in order on one keep-alive connection; a lost reply (the host
    // died) is asked again with the same key once a host is up, until `deadline`.
    void runClient(ClientLog *log, int phase, int client, const QDeadlineTimer &deadline)
    {
        QRandomGenerator random(quint32(phase * 7919 + client));
        std::unique_ptr<HttpClient> http;
        quint16 connectedTo = 0;
        auto exchange = [&](const Op &op) -> Reply {
            bool sent = false;
            const int resentBefore = log->resent;
            while (!deadline.hasExpired()) {
                const quint16 port = quint16(m_port.load());
                if (port == 0) {
                    QThread::msleep(20);
                    continue;
                }
                if (!http || connectedTo != port || http->socket().state() != QAbstractSocket::ConnectedState) {
                    http = std::make_unique<HttpClient>(QStringLiteral("127.0.0.1"), port);
                    connectedTo = port;
                    if (!http->open(2000)) {
                        http.reset();
                        QThread::msleep(20);
                        continue;
                    }
                }
                if (sent)
                    ++log->resent;
                sent = true;
                const Headers headers{{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_users[op.user].token)},
                                      {QByteArrayLiteral("Idempotency-Key"), op.key}};
                http->send(HttpClient::format(QStringLiteral("127.0.0.1"), "POST", op.path, op.body, "application/json", headers));
                const std::optional<HttpReply> r = http->read(30000);
                if (!r) {
                    http.reset(); // lost in flight: ask again with the same key
                    continue;
                }
                if (r->header("connection").toLower() == "close")
                    http.reset();
                const bool replayed = r->header("idempotent-replayed") == "true";
                if (sent && replayed && resentBefore != log->resent)
                    ++log->resentReplayed;
                return Reply{r->status, r->body, replayed};
            }
            return Reply{};
        };
        for (qsizetype i = 0; i < log->ops.size(); ++i) {
            // Now and then, first a repeat of an earlier request: the first reply again, replayed.
            if (i > 0 && random.bounded(RepeatEvery) == 0) {
                const qsizetype earlier = qsizetype(random.bounded(int(i)));
                if (log->replies[earlier].status != 0) {
                    const Reply again = exchange(log->ops[earlier]);
                    ++log->repeats;
                    if (again.status >= 500)
                        ++log->serverErrors;
                    if (again.status != log->replies[earlier].status || again.body != log->replies[earlier].body || !again.replayed) {
                        ++log->repeatMismatches;
                        if (log->notes.size() < 5)
                            log->notes.append(QStringLiteral("repeat of %1: %2 %3 (replayed: %4), first %5 %6")
                                                  .arg(QString::fromLatin1(log->ops[earlier].key)).arg(again.status).arg(QString::fromUtf8(again.body.left(200)))
                                                  .arg(again.replayed).arg(log->replies[earlier].status).arg(QString::fromUtf8(log->replies[earlier].body.left(200))));
                    }
                }
            }
            const Reply reply = exchange(log->ops[i]);
            log->replies[i] = reply;
            if (reply.status == 0)
                ++log->abandoned;
            else if (reply.status >= 500)
                ++log->serverErrors;
            else if (reply.status != 201 && reply.status != 409)
                ++log->unexpected;
            if ((reply.status >= 500 || (reply.status != 0 && reply.status != 201 && reply.status != 409)) && log->notes.size() < 5)
                log->notes.append(QStringLiteral("%1 %2: %3 %4").arg(QString::fromLatin1(log->ops[i].path), QString::fromLatin1(log->ops[i].key))
                                      .arg(reply.status).arg(QString::fromUtf8(reply.body.left(300))));
            m_done.fetch_add(1);
        }
    }

    // Runs one phase: `perClient` operations on each of the 32 clients. With `killAfter` > 0 the
    // serve process is killed once that many are done, and a new one started.
    void runPhase(int phase, int perClient, int killAfter)
    {
        const qint64 before = ledgerTransactions();
        QList<ClientLog> logs(Clients);
        for (int c = 0; c < Clients; ++c) {
            logs[c].ops = plan(phase, c, perClient);
            logs[c].replies.resize(perClient);
        }
        m_done = 0;
        const QDeadlineTimer deadline(240000);
        QList<QThread *> threads;
        QElapsedTimer timer;
        timer.start();
        for (int c = 0; c < Clients; ++c) {
            threads.append(QThread::create([this, &logs, c, phase, deadline] { runClient(&logs[c], phase, c, deadline); }));
            threads.last()->start();
        }
        qint64 killedAt = -1, upAgainAt = -1;
        int doneAtKill = 0;
        auto running = [&] {
            for (QThread *t : std::as_const(threads))
                if (!t->isFinished())
                    return true;
            return false;
        };
        while (running()) {
            if (killAfter > 0 && killedAt < 0 && m_done.load() >= killAfter) {
                m_port = 0;
                m_host->process().kill(); // SIGKILL: no shutdown, requests die mid-flight
                m_host->process().waitForFinished(10000);
                killedAt = timer.elapsed();
                doneAtKill = m_done.load();
                m_killed = std::move(m_host);
                m_host = m_cluster.start({QStringLiteral("serve")});
                if (m_host && m_host->waitReady(60000)) {
                    m_port = m_host->port();
                    upAgainAt = timer.elapsed();
                } else {
                    qWarning("the second serve process did not start: %s", m_host ? qPrintable(m_host->output().right(2000)) : "");
                }
            }
            if (m_host)
                m_host->output(); // keep its pipe drained
            QThread::msleep(20);
        }
        for (QThread *t : std::as_const(threads)) {
            t->wait();
            delete t;
        }
        const qint64 ms = timer.elapsed();
        QVERIFY2(m_host, "no host after the restart");

        // What the clients saw.
        int total = 0, created = 0, refused = 0, serverErrors = 0, unexpected = 0, repeats = 0, repeatMismatches = 0, resent = 0, resentReplayed = 0, abandoned = 0;
        QStringList notes;
        QSet<QString> ids;
        QStringList rows; // (transaction id, wallet id, signed amount, kind) of every 201
        QString replyProblem;
        for (const ClientLog &log : std::as_const(logs)) {
            serverErrors += log.serverErrors;
            unexpected += log.unexpected;
            repeats += log.repeats;
            repeatMismatches += log.repeatMismatches;
            resent += log.resent;
            resentReplayed += log.resentReplayed;
            abandoned += log.abandoned;
            notes += log.notes;
            for (qsizetype i = 0; i < log.ops.size(); ++i) {
                ++total;
                const Reply &r = log.replies[i];
                if (r.status == 409)
                    ++refused;
                if (r.status != 201)
                    continue;
                ++created;
                const QJsonObject body = QJsonDocument::fromJson(r.body).object();
                const QJsonObject tx = body.value(QLatin1String("transaction")).toObject();
                const QString id = tx.value(QLatin1String("id")).toString();
                const Op &op = log.ops[i];
                if (replyProblem.isEmpty()
                    && (id.isEmpty() || tx.value(QLatin1String("kind")).toString() != op.kind || tx.value(QLatin1String("amount")).toString() != op.signedAmount
                        || body.value(QLatin1String("wallet")).toObject().value(QLatin1String("id")).toString() != op.wallet))
                    replyProblem = QStringLiteral("%1 %2 -> %3").arg(QString::fromLatin1(op.path), QString::fromLatin1(op.body), QString::fromUtf8(r.body));
                ids.insert(id);
                rows.append(QStringLiteral("('%1','%2',%3,'%4')").arg(id, op.wallet, op.signedAmount, op.kind));
            }
        }
        qInfo("phase %d: %d operations (+%d repeats) by %d clients in %.1f s (%.0f/s): %d created, %d refused (409), %d sent again after a lost reply (%d of them replayed: committed before the kill)%s",
              phase, total, repeats, Clients, ms / 1000.0, (total + repeats) * 1000.0 / double(std::max<qint64>(ms, 1)), created, refused, resent, resentReplayed,
              killedAt < 0 ? "" : qPrintable(QStringLiteral("; killed at %1 s after %2 operations, new host ready %3 s later").arg(killedAt / 1000.0).arg(doneAtKill).arg((upAgainAt - killedAt) / 1000.0)));
        for (const QString &n : std::as_const(notes))
            qInfo("  %s", qPrintable(n));

        QCOMPARE(serverErrors, 0);
        QCOMPARE(unexpected, 0);
        QCOMPARE(abandoned, 0);
        QCOMPARE(repeatMismatches, 0);
        QVERIFY2(replyProblem.isEmpty(), qPrintable(replyProblem));
        if (killAfter <= 0)
            QCOMPARE(resent, 0);
        else
            QVERIFY(killedAt >= 0 && upAgainAt >= 0);
        QVERIFY2(created > total / 3, qPrintable(QStringLiteral("only %1 of %2 succeeded").arg(created).arg(total)));
        QVERIFY(refused > 0 || created == total);

        // Every 201 is its own ledger transaction: distinct ids, each existing once, with the
        // requested amount on the requested wallet and the kind that was asked for; and the load
        // made no transaction that no 201 reports.
        QCOMPARE(ids.size(), created);
        QCOMPARE(ledgerTransactions() - before, qint64(created));
        const QString matched = psql(QStringLiteral("CREATE TEMP TABLE r (t uuid, a uuid, m numeric, k text);\n"
                                                    "INSERT INTO r VALUES %1;\n"
                                                    "SELECT (SELECT count(*) FROM r JOIN wallets_transaction t ON t.id = r.t) || '|' || "
                                                    "(SELECT count(*) FROM r JOIN wallets_entry e ON e.transaction_id = r.t AND e.account_id = r.a AND e.amount = r.m AND e.kind = r.k);\n")
                                         .arg(rows.join(u',')));
        QCOMPARE(matched, QStringLiteral("%1|%1").arg(created));
        CHECK(verifyLedgerInvariants());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_host = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_host);
        QVERIFY2(m_host->waitReady(60000), qPrintable(m_host->output().right(2000)));
        // 6 users, each with a USD and a EUR wallet holding 50.00.
        for (int i = 0; i < Users; ++i) {
            User u;
            u.email = QStringLiteral("load%1@example.com").arg(i);
            const QByteArray credentials = compact({{QStringLiteral("email"), u.email}, {QStringLiteral("password"), QStringLiteral("correct horse battery")}});
            const auto reg = call("POST", "/api/v1/auth/register", credentials);
            QVERIFY2(reg && reg->status == 201, qPrintable(describe(reg)));
            u.id = reg->json().value(QLatin1String("id")).toString();
            const auto token = call("POST", "/api/v1/auth/token", credentials);
            QVERIFY2(token && token->status == 200, qPrintable(describe(token)));
            u.token = token->json().value(QLatin1String("access")).toString().toLatin1();
            for (const QString &currency : Currencies) {
                const auto w = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), currency}}), u.token);
                QVERIFY2(w && w->status == 201, qPrintable(describe(w)));
                const QString id = w->json().value(QLatin1String("id")).toString();
                u.wallets.insert(currency, id);
                const auto d = call("POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(id).toLatin1(), compact({{QStringLiteral("amount"), Funding}}),
                                    u.token, "funding-" + currency.toLatin1());
                QVERIFY2(d && d->status == 201, qPrintable(describe(d)));
            }
            m_users.append(u);
        }
        m_port = m_host->port();
        CHECK(verifyLedgerInvariants());
    }

    void cleanupTestCase()
    {
        if (m_host)
            QVERIFY2(m_host->terminate() == 0, qPrintable(m_host->output().right(3000)));
    }

    void mixedLoadKeepsTheLedgerExact() { runPhase(1, OpsPerClientFirst, 0); }

    void killingTheHostMidLoadLosesNoMoney() { runPhase(2, OpsPerClientSecond, KillAfter); }
};

QTEST_GUILESS_MAIN(TestWalletsLoad)
#include "tst_walletsload.moc"
