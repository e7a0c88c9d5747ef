// The async database API against a real PostgreSQL: exact NUMERIC, bound parameters, a pool
// shared by many coroutines, transactions that roll back or retry, and an outage survived.
#include "db/DbPool.h"
#include "db/PgExec.h"
#include "PgFixture.h"

#include "yieldhost/Http.h"

#include <QCoro/QCoroTask>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSize>
#include <QtCore/QTimer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

using namespace yieldhost;
using namespace yieldhost::test;

namespace {

// A TCP relay between the pool and PostgreSQL that, once armed, swallows the server's next reply
// and cuts both connections: the statement ran on the server, the client never hears of it.
class CuttingRelay : public QObject
{
public:
    explicit CuttingRelay(quint16 serverPort)
        : m_serverPort(serverPort)
    {
        m_listener.listen(QHostAddress::LocalHost);
        connect(&m_listener, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_listener.nextPendingConnection()) {
                auto *server = new QTcpSocket(client);
                server->connectToHost(QHostAddress::LocalHost, m_serverPort);
                connect(client, &QTcpSocket::readyRead, server, [client, server] { server->write(client->readAll()); });
                connect(server, &QTcpSocket::readyRead, client, [this, client, server] {
                    const QByteArray reply = server->readAll();
                    if (m_armed) {
                        m_armed = false;
                        ++m_cuts;
                        server->abort();
                        client->abort();
                        return;
                    }
                    client->write(reply);
                });
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
            }
        });
    }
    quint16 port() const { return m_listener.serverPort(); }
    void arm() { m_armed = true; }
    int cuts() const { return m_cuts; }

private:
    QTcpServer m_listener;
    quint16 m_serverPort;
    bool m_armed = false;
    int m_cuts = 0;
};

} // namespace

class TestDbPool : public QObject
{
    Q_OBJECT

    PgFixture m_pg;

    std::unique_ptr<DbPool> freshPool(int size = 4, QString *url = nullptr)
    {
        QString error;
        const QString u = m_pg.createDatabase(&error);
        if (u.isEmpty())
            qFatal("createDatabase: %s", qPrintable(error));
        if (url)
            *url = u;
        DbPool::Settings s;
        s.primary = *DatabaseUrl::parse(u, &error);
        s.poolSize = size;
        return std::make_unique<DbPool>(s);
    }

    static SqlResult run(DbPool &db, const QString &sql, const QVariantList &params = {})
    {
        return QCoro::waitFor(db.query(sql, params));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
    }

    void numericComesBackAsExactText()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v numeric(38, 18))")).error());
        const QString value = QStringLiteral("12345678901234567890.123456789012345678");
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {value}).error());
        const SqlResult r = run(*db, QStringLiteral("SELECT v FROM t"));
        QVERIFY(!r.error());
        QCOMPARE(r.string(0, QStringLiteral("v")), value);
        QCOMPARE(r.decimal(0, QStringLiteral("v"))->toString(), value);
    }

    void decimalArithmeticAgreesWithPostgresNumeric()
    {
        auto db = freshPool();
        QRandomGenerator rng(20261125);
        auto randomDecimal = [&rng] {
            const int scale = int(rng.bounded(9));
            const qint64 coeff = qint64(rng.bounded(Q_INT64_C(2000000000000))) - Q_INT64_C(1000000000000);
            QString digits = QString::number(std::llabs(coeff)).rightJustified(scale + 1, u'0');
            if (scale > 0)
                digits.insert(digits.size() - scale, u'.');
            return *Decimal::fromString(QString((coeff < 0 ? QStringLiteral("-") : QString()) + digits));
        };
        for (int i = 0; i < 200; ++i) {
            const Decimal a = randomDecimal();
            const Decimal b = randomDecimal();
            const SqlResult r = run(*db, QStringLiteral("SELECT (?::numeric + ?::numeric)::text AS s, (?::numeric * ?::numeric)::text AS p, "
                                                        "round(?::numeric / NULLIF(?::numeric, 0), 6)::text AS q"),
                                    {a.toString(), b.toString(), a.toString(), b.toString(), a.toString(), b.toString()});
            QVERIFY2(!r.error(), qPrintable(r.error().message));
            QCOMPARE(a.add(b)->toString(), r.string(0, QStringLiteral("s")));
            QCOMPARE(a.mul(b)->toString(), r.string(0, QStringLiteral("p")));
            if (!b.isZero()) {
                // PostgreSQL rounds half away from zero; compare only where that agrees with half-even.
                const Decimal q = *a.div(b, 6);
                const Decimal wide = *a.div(b, 12);
                const QString tail = wide.toString().right(6);
                if (tail != QLatin1String("500000"))
                    QCOMPARE(q.toString(), r.string(0, QStringLiteral("q")));
            }
        }
    }

    void parametersAreBoundNeverSpliced()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (name text)")).error());
        const QString hostile = QStringLiteral("x'); DROP TABLE t; --");
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {hostile}).error());
        const SqlResult r = run(*db, QStringLiteral("SELECT name FROM t"));
        QCOMPARE(r.size(), 1);
        QCOMPARE(r.string(0, QStringLiteral("name")), hostile);
    }

    void aNumericADecimalCannotHoldIsRefusedWithAReason()
    {
        auto db = freshPool();
        const SqlResult r = run(*db, QStringLiteral("SELECT 1::numeric / 3 AS third, 'NaN'::numeric AS nan, 1e-5::float8 AS f, "
                                                    "round(1::numeric / 3, 8) AS rounded, NULL::numeric AS missing"));
        QVERIFY(!r.error());
        QString why;
        QVERIFY(!r.decimal(0, QStringLiteral("third"), &why)); // 20 decimals
        QVERIFY2(why.contains(QLatin1String("third")) && why.contains(QLatin1String("0.333")), qPrintable(why));
        QVERIFY(!r.decimal(0, QStringLiteral("nan"), &why));
        QVERIFY2(why.contains(QLatin1String("NaN")), qPrintable(why));
        QVERIFY(!r.decimal(0, QStringLiteral("f"), &why));
        QVERIFY(!r.decimal(0, QStringLiteral("missing"), &why));
        QVERIFY2(why.contains(QLatin1String("NULL")), qPrintable(why));
        const std::optional<Decimal> rounded = r.decimal(0, QStringLiteral("rounded"), &why);
        QVERIFY(rounded);
        QCOMPARE(rounded->toString(), QStringLiteral("0.33333333"));
    }

    void textWithANulIsRefusedNotTruncated()
    {
        // libpq sends text as C strings: without the check "x\0yz" would be stored as "x".
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (name text)")).error());
        const QString withNul = QStringLiteral("x") + QChar(0) + QStringLiteral("yz");
        const SqlResult pipelined = run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {withNul});
        QCOMPARE(pipelined.error().kind, DbError::Kind::InvalidValue);
        QCOMPARE(problemFor(pipelined.error()).status, 400);
        SqlResult inTransaction;
        const TransactionOutcome t = QCoro::waitFor(db->transaction([&](SqlTransaction &tx) -> Status {
            inTransaction = tx.exec(QStringLiteral("INSERT INTO t VALUES (?)"), {withNul});
            return inTransaction.error() ? Status::failure(inTransaction.error().message) : Status{};
        }));
        QVERIFY(!t.committed);
        QCOMPARE(inTransaction.error().kind, DbError::Kind::InvalidValue);
        // Inside an array too, whether the list is of strings or of variants.
        const SqlResult inStrings = run(*db, QStringLiteral("INSERT INTO t SELECT unnest(?::text[])"), {QStringList{QStringLiteral("fine"), withNul}});
        QCOMPARE(inStrings.error().kind, DbError::Kind::InvalidValue);
        QVERIFY2(inStrings.error().message.contains(QLatin1String("element 2")), qPrintable(inStrings.error().message));
        const SqlResult inVariants = run(*db, QStringLiteral("INSERT INTO t SELECT unnest(?::text[])"), {QVariantList{QStringLiteral("fine"), withNul}});
        QCOMPARE(inVariants.error().kind, DbError::Kind::InvalidValue);
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
    }

    void uniqueViolationIsReportedAsSuch()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (email text UNIQUE)")).error());
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {QStringLiteral("a@x")}).error());
        const SqlResult r = run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {QStringLiteral("a@x")});
        QCOMPARE(r.error().kind, DbError::Kind::UniqueViolation);
        QCOMPARE(problemFor(r.error()).status, 409);
    }

    void aViolatedConstraintIsNamed()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE w (owner text, currency text, CONSTRAINT w_owner_currency_key UNIQUE (owner, currency))")).error());
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO w VALUES (?, ?)"), {QStringLiteral("a"), QStringLiteral("EUR")}).error());
        const SqlResult pipelined = run(*db, QStringLiteral("INSERT INTO w VALUES (?, ?)"), {QStringLiteral("a"), QStringLiteral("EUR")});
        QCOMPARE(pipelined.error().kind, DbError::Kind::UniqueViolation);
        QCOMPARE(pipelined.error().sqlState, QStringLiteral("23505"));
        QCOMPARE(pipelined.constraint(), QStringLiteral("w_owner_currency_key"));
        SqlResult inTransaction;
        auto work = [&](SqlTransaction &tx) -> Status {
            inTransaction = tx.exec(QStringLiteral("INSERT INTO w VALUES (?, ?)"), {QStringLiteral("a"), QStringLiteral("EUR")});
            return {};
        };
        QCoro::waitFor(db->transaction(work));
        QCOMPARE(inTransaction.constraint(), QStringLiteral("w_owner_currency_key"));
        QVERIFY(run(*db, QStringLiteral("SELECT 1")).constraint().isEmpty());
    }

    void listsBindAsArraysForSetBasedStatements()
    {
        auto db = freshPool();
        // Every awkward element survives: commas, quotes, backslashes, braces, "NULL" as text, empty.
        const QStringList texts{QStringLiteral("a,b"), QStringLiteral("say \"hi\""), QStringLiteral("back\\slash"),
                                QStringLiteral("{x}"), QStringLiteral("NULL"), QStringLiteral(""), QStringLiteral("żółw")};
        const SqlResult r = run(*db, QStringLiteral("SELECT x, x IS NULL AS missing FROM unnest(?::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i"), {texts});
        QVERIFY2(!r.error(), qPrintable(r.error().message));
        QCOMPARE(r.size(), texts.size());
        for (qsizetype i = 0; i < texts.size(); ++i)
            QCOMPARE(r.string(i, QStringLiteral("x")), texts.at(i));
        // A real SQL NULL element, decimals and uuids, unnested side by side.
        const QVariantList amounts{QVariant::fromValue(*Decimal::fromString(u"0.000000000000000001")), QStringLiteral("12.50"), QVariant()};
        const QVariantList ids{QStringLiteral("6f1c1c2e-0a3b-4a55-9a43-0c1e4f1d2a01"), QStringLiteral("6f1c1c2e-0a3b-4a55-9a43-0c1e4f1d2a02"),
                               QStringLiteral("6f1c1c2e-0a3b-4a55-9a43-0c1e4f1d2a03")};
        const SqlResult pairs = run(*db, QStringLiteral("SELECT a::text AS a, b::text AS b FROM unnest(?::numeric[], ?::uuid[]) AS t(a, b)"), {amounts, ids});
        QVERIFY2(!pairs.error(), qPrintable(pairs.error().message));
        QCOMPARE(pairs.size(), 3);
        QCOMPARE(pairs.string(0, QStringLiteral("a")), QStringLiteral("0.000000000000000001"));
        QCOMPARE(pairs.string(1, QStringLiteral("a")), QStringLiteral("12.50"));
        QVERIFY(pairs.isNull(2, QStringLiteral("a")));
        QCOMPARE(pairs.string(2, QStringLiteral("b")), ids.at(2).toString());
        const SqlResult any = run(*db, QStringLiteral("SELECT 3 = ANY(?::bigint[]) AS hit, 4 = ANY(?::bigint[]) AS miss"),
                                  {QVariantList{1, 2, 3}, QVariantList{1, 2, 3}});
        QCOMPARE(any.value(0, QStringLiteral("hit")).toBool(), true);
        QCOMPARE(any.value(0, QStringLiteral("miss")).toBool(), false);
        QCOMPARE(run(*db, QStringLiteral("SELECT cardinality(?::text[]) AS n"), {QStringList{}}).integer(0, QStringLiteral("n")), 0);
        // A null QString in a string list is an SQL NULL; an empty one is ''.
        const SqlResult nulls = run(*db, QStringLiteral("SELECT x IS NULL AS missing FROM unnest(?::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i"),
                                    {QStringList{QString(), QStringLiteral(""), QStringLiteral("x")}});
        QVERIFY2(!nulls.error(), qPrintable(nulls.error().message));
        QCOMPARE(nulls.size(), 3);
        QCOMPARE(nulls.value(0, QStringLiteral("missing")).toBool(), true);
        QCOMPARE(nulls.value(1, QStringLiteral("missing")).toBool(), false);
        QCOMPARE(nulls.value(2, QStringLiteral("missing")).toBool(), false);
    }

    void aDecimalBindsAsItsExactText()
    {
        auto db = freshPool();
        const Decimal d = *Decimal::fromString(u"12345678901234567890.123456789012345678");
        const SqlResult r = run(*db, QStringLiteral("SELECT ?::numeric::text AS v"), {QVariant::fromValue(d)});
        QVERIFY2(!r.error(), qPrintable(r.error().message));
        QCOMPARE(r.string(0, QStringLiteral("v")), d.toString());
    }

    void aValueOfAnUnknownTypeFailsLoudlyAndSendsNothing()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (name text)")).error());
        const SqlResult r = run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {QVariant(QSize(1, 2))});
        QCOMPARE(r.error().kind, DbError::Kind::Query);
        QVERIFY2(r.error().message.contains(QLatin1String("QSize")), qPrintable(r.error().message));
        QCOMPARE(problemFor(r.error()).status, 500);
        const SqlResult nested = run(*db, QStringLiteral("INSERT INTO t SELECT unnest(?::text[])"), QVariantList{QVariant(QVariantList{QStringLiteral("ok"), QVariant(QSize(1, 2))})});
        QVERIFY2(nested.error().message.contains(QLatin1String("element 2")), qPrintable(nested.error().message));
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
    }

    void syntaxErrorIsAQueryErrorNotACrash()
    {
        auto db = freshPool();
        const SqlResult r = run(*db, QStringLiteral("SELEC nonsense"));
        QCOMPARE(r.error().kind, DbError::Kind::Query);
        QCOMPARE(r.error().sqlState, QStringLiteral("42601"));
    }

    void manyCoroutinesShareFewerConnections()
    {
        auto db = freshPool(3);
        constexpr int n = 60;
        std::vector<QCoro::Task<SqlResult>> tasks;
        for (int i = 0; i < n; ++i)
            tasks.push_back(db->query(QStringLiteral("SELECT pg_backend_pid() AS pid, ?::int AS i, pg_sleep(0.01)"), {i}));
        QSet<qint64> pids;
        for (int i = 0; i < n; ++i) {
            const SqlResult r = QCoro::waitFor(tasks[i]);
            QVERIFY2(!r.error(), qPrintable(r.error().message));
            QCOMPARE(r.integer(0, QStringLiteral("i")), i);
            pids.insert(r.integer(0, QStringLiteral("pid")));
        }
        QVERIFY2(pids.size() <= 3, qPrintable(QString::number(pids.size())));
        QVERIFY(pids.size() >= 2); // they really ran in parallel threads
    }

    // Plain queries from a thread with an event loop share pipelined connections: a failing
    // statement must fail alone, and statements prepared mid-pipeline must work at once.
    void pipelinedStatementsFailAlone()
    {
        auto db = freshPool(2);
        constexpr int n = 48;
        std::vector<QCoro::Task<SqlResult>> tasks;
        for (int i = 0; i < n; ++i) {
            const QString sql = i % 3 == 0 ? QStringLiteral("SELECT 100 / ?::int AS q, ?::int AS i")
                                           : QStringLiteral("SELECT 100 / ?::int AS q, ?::int AS i, %1 AS variant").arg(i % 3);
            tasks.push_back(db->query(sql, {i % 4 == 0 ? 0 : 4, i}));
        }
        for (int i = 0; i < n; ++i) {
            const SqlResult r = QCoro::waitFor(tasks[i]);
            if (i % 4 == 0) {
                QCOMPARE(r.error().kind, DbError::Kind::Query);
                QCOMPARE(r.error().sqlState, QStringLiteral("22012")); // division by zero
            } else {
                QVERIFY2(!r.error(), qPrintable(r.error().message));
                QCOMPARE(r.integer(0, QStringLiteral("q")), 25);
                QCOMPARE(r.integer(0, QStringLiteral("i")), i);
            }
        }
        QCOMPARE(run(*db, QStringLiteral("SELECT ?::int + 1 AS n"), {41}).integer(0, QStringLiteral("n")), 42); // still healthy
    }

    void theEventLoopKeepsRunningWhileQueriesWait()
    {
        auto db = freshPool();
        int ticks = 0;
        QTimer timer;
        QObject::connect(&timer, &QTimer::timeout, [&ticks] { ++ticks; });
        timer.start(10);
        const SqlResult r = QCoro::waitFor(db->query(QStringLiteral("SELECT pg_sleep(0.5)")));
        QVERIFY(!r.error());
        QVERIFY2(ticks >= 10, qPrintable(QStringLiteral("only %1 timer ticks during a 500 ms query").arg(ticks)));
    }

    void transactionCommitsAllOrNothing()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int)")).error());
        TransactionOutcome ok = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("INSERT INTO t VALUES (1)"));
            tx.exec(QStringLiteral("INSERT INTO t VALUES (2)"));
            return {};
        }));
        QVERIFY(ok.committed);
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t WHERE v > ?"), {0}).integer(0, QStringLiteral("n")), 2);
    }

    void failedStatusRollsBack()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int)")).error());
        const TransactionOutcome o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("INSERT INTO t VALUES (1)"));
            return Status::failure(QStringLiteral("insufficient funds"));
        }));
        QVERIFY(!o.committed);
        QCOMPARE(o.failure, QStringLiteral("insufficient funds"));
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
    }

    void failedStatementRollsBackEvenIfIgnored()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int NOT NULL)")).error());
        const TransactionOutcome o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("INSERT INTO t VALUES (1)"));
            tx.exec(QStringLiteral("INSERT INTO t VALUES (NULL)")); // fails; the function ignores it
            return {};
        }));
        QVERIFY(!o.committed);
        QCOMPARE(o.error.kind, DbError::Kind::CheckViolation);
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
    }

    void exceptionRollsBack()
    {
        auto db = freshPool();
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int)")).error());
        const TransactionOutcome o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("INSERT INTO t VALUES (1)"));
            throw std::runtime_error("boom");
        }));
        QVERIFY(!o.committed);
        QVERIFY(o.failure.contains(QLatin1String("boom")));
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
        // The connection is usable afterwards (no transaction left open on it).
        QVERIFY(QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
                    return tx.exec(QStringLiteral("INSERT INTO t VALUES (2)")).error() ? Status::failure(QStringLiteral("x")) : Status();
                })).committed);
    }

    void deferredStatementsRunInOrderWithTheNextOne()
    {
        auto db = freshPool(1);
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int PRIMARY KEY)")).error());
        QVERIFY(QCoro::waitFor(db->transaction([](SqlTransaction &) -> Status { return {}; })).committed); // BEGIN and COMMIT alone
        QString seen;
        const TransactionOutcome o = QCoro::waitFor(db->transaction([&seen](SqlTransaction &tx) -> Status {
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {1});
            tx.defer(QStringLiteral("SAVEPOINT s"));
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {2});
            tx.defer(QStringLiteral("ROLLBACK TO SAVEPOINT s"));
            const SqlResult r = tx.exec(QStringLiteral("SELECT array_agg(v ORDER BY v)::text AS vs FROM t"));
            seen = r.string(0, QStringLiteral("vs"));
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {3}); // goes with the COMMIT
            return {};
        }));
        QVERIFY(o.committed);
        QCOMPARE(seen, QStringLiteral("{1}"));
        QCOMPARE(run(*db, QStringLiteral("SELECT array_agg(v ORDER BY v)::text AS vs FROM t")).string(0, QStringLiteral("vs")), QStringLiteral("{1,3}"));
    }

    void aFailedDeferredStatementFailsTheTransaction()
    {
        auto db = freshPool(1); // one connection: what one transaction leaves behind, the next one meets
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int PRIMARY KEY)")).error());
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO t VALUES (1)")).error());
        DbError seen;
        TransactionOutcome o = QCoro::waitFor(db->transaction([&seen](SqlTransaction &tx) -> Status {
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {5});
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {1}); // a duplicate
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {6});
            seen = tx.exec(QStringLiteral("SELECT 1 AS one")).error();
            return {};
        }));
        QVERIFY(!o.committed);
        QCOMPARE(seen.kind, DbError::Kind::UniqueViolation);
        QCOMPARE(o.error.kind, DbError::Kind::UniqueViolation);
        // The duplicate as the last statement, sent with the COMMIT, which the server then skips.
        o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("INSERT INTO t VALUES (?)"), {7});
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {1});
            return {};
        }));
        QVERIFY(!o.committed);
        QCOMPARE(o.error.kind, DbError::Kind::UniqueViolation);
        // A statement that does not parse, deferred, is not remembered as prepared.
        o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.defer(QStringLiteral("INSERT INTO nowhere VALUES (?)"), {1});
            return {};
        }));
        QVERIFY(!o.committed);
        QCOMPARE(o.error.kind, DbError::Kind::Query);
        QCOMPARE(run(*db, QStringLiteral("SELECT array_agg(v ORDER BY v)::text AS vs FROM t")).string(0, QStringLiteral("vs")), QStringLiteral("{1}"));
        // The connection was left with no transaction open: the next one commits.
        o = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {8});
            return tx.exec(QStringLiteral("INSERT INTO nowhere VALUES (?)"), {1}).error().kind == DbError::Kind::Query ? Status::failure(QStringLiteral("undo")) : Status();
        }));
        QVERIFY(!o.committed);
        QVERIFY(QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
                    tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {9});
                    return {};
                })).committed);
        QCOMPARE(run(*db, QStringLiteral("SELECT array_agg(v ORDER BY v)::text AS vs FROM t")).string(0, QStringLiteral("vs")), QStringLiteral("{1,9}"));
    }

    void aDeferredStatementThatCannotBeBoundIsRefusedAndSendsNothing()
    {
        auto db = freshPool(1);
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int)")).error());
        DbError next;
        const TransactionOutcome o = QCoro::waitFor(db->transaction([&next](SqlTransaction &tx) -> Status {
            tx.defer(QStringLiteral("INSERT INTO t VALUES (?)"), {1, 2}); // two values for one placeholder
            next = tx.exec(QStringLiteral("INSERT INTO t VALUES (?)"), {2}).error(); // reports the refusal
            tx.exec(QStringLiteral("INSERT INTO t VALUES (?)"), {3});
            return {};
        }));
        QVERIFY(!o.committed);
        QCOMPARE(o.error.kind, DbError::Kind::Query);
        QCOMPARE(next.kind, DbError::Kind::Query);
        QVERIFY2(next.message.contains(QLatin1String("placeholder")), qPrintable(next.message));
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t")).integer(0, QStringLiteral("n")), 0);
    }

    void serializationFailuresAreRetried()
    {
        auto db = freshPool(2);
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE counter (n int)")).error());
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO counter VALUES (0)")).error());
        TransactionOptions serializable;
        serializable.isolation = TransactionOptions::Isolation::Serializable;
        auto increment = [&db, serializable] {
            return db->transaction([](SqlTransaction &tx) -> Status {
                const SqlResult r = tx.exec(QStringLiteral("SELECT n FROM counter"));
                if (r.error())
                    return Status::failure(QStringLiteral("read failed"));
                tx.exec(QStringLiteral("SELECT pg_sleep(0.2)")); // both read before either writes
                tx.exec(QStringLiteral("UPDATE counter SET n = ?"), {r.integer(0, QStringLiteral("n")) + 1});
                return {};
            }, serializable);
        };
        auto a = increment();
        auto b = increment();
        const TransactionOutcome oa = QCoro::waitFor(a);
        const TransactionOutcome ob = QCoro::waitFor(b);
        QVERIFY(oa.committed && ob.committed);
        QVERIFY2(oa.attempts + ob.attempts >= 3, "no serialization failure was retried");
        QCOMPARE(run(*db, QStringLiteral("SELECT n FROM counter")).integer(0, QStringLiteral("n")), 2); // no lost update
    }

    void replicaQueriesGoToTheReplica()
    {
        QString error;
        QString primaryUrl;
        auto plain = freshPool(1, &primaryUrl);
        const QString replicaUrl = m_pg.createDatabase(&error);
        QVERIFY(!replicaUrl.isEmpty());
        DbPool::Settings s;
        s.primary = *DatabaseUrl::parse(primaryUrl, &error);
        s.replica = *DatabaseUrl::parse(replicaUrl, &error);
        DbPool db(s);
        QVERIFY(db.hasReplica());
        const SqlResult p = QCoro::waitFor(db.query(QStringLiteral("SELECT current_database() AS d")));
        const SqlResult r = QCoro::waitFor(db.query(QStringLiteral("SELECT current_database() AS d"), {}, DbTarget::Replica));
        QCOMPARE(p.string(0, QStringLiteral("d")), s.primary.database);
        QCOMPARE(r.string(0, QStringLiteral("d")), s.replica->database);
        // Without a replica, Replica means the primary.
        QCOMPARE(QCoro::waitFor(plain->query(QStringLiteral("SELECT current_database() AS d"), {}, DbTarget::Replica)).string(0, QStringLiteral("d")),
                 s.primary.database);
    }

    // Last: it stops the shared server.
    void aStatementThatMayHaveRunIsNeverSentAgain()
    {
        // The server executes and commits the INSERT; the connection breaks before the reply
        // arrives. Sending it again on a fresh connection would insert the row twice.
        QString url;
        auto setup = freshPool(1, &url);
        QVERIFY(!run(*setup, QStringLiteral("CREATE TABLE payouts (id serial, amount numeric)")).error());
        CuttingRelay relay(m_pg.port());
        QString error;
        const QString viaRelay = QString(url).replace(QStringLiteral(":%1/").arg(m_pg.port()), QStringLiteral(":%1/").arg(relay.port()));
        QVERIFY(viaRelay != url);
        DbPool::Settings s;
        s.primary = *DatabaseUrl::parse(viaRelay, &error);
        s.poolSize = 1;
        DbPool db(s);
        QVERIFY(!run(db, QStringLiteral("SELECT ?::int"), {1}).error()); // the pipelined connection is open and idle
        QTest::qWait(2500); // idle long enough that the pool once called it stale and sent it again
        relay.arm();
        const SqlResult cut = run(db, QStringLiteral("INSERT INTO payouts (amount) VALUES (?)"), {QStringLiteral("10.00")});
        QCOMPARE(relay.cuts(), 1);
        QCOMPARE(cut.error().kind, DbError::Kind::Unavailable);
        QCOMPARE(run(*setup, QStringLiteral("SELECT count(*) AS n FROM payouts")).integer(0, QStringLiteral("n")), 1);
        // The pool recovers on a fresh connection.
        QVERIFY(!run(db, QStringLiteral("SELECT ?::int"), {2}).error());
    }

    void aConnectionClosedWhileIdleIsReplacedBeforeSending()
    {
        // A server restart closes every pooled session; the next statement must not fail for it.
        // The close is made and waited for without running the event loop, so the socket
        // notifier cannot notice it first: the check before sending has to.
        QString url;
        auto db = freshPool(1, &url);
        QVERIFY(!run(*db, QStringLiteral("CREATE TABLE t (v int)")).error());
        QVERIFY(!run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {1}).error());
        QString error;
        PGconn *killer = PgExec::connect(*DatabaseUrl::parse(url, &error), "killer", &error);
        QVERIFY2(killer, qPrintable(error));
        PGresult *killed = PQexec(killer, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND pid <> pg_backend_pid()) k");
        const bool ok = PQresultStatus(killed) == PGRES_TUPLES_OK && QByteArray(PQgetvalue(killed, 0, 0)).toInt() > 0;
        PQclear(killed);
        PQfinish(killer);
        QVERIFY2(ok, "no session was terminated");
        QThread::msleep(1300); // the sessions end, and the pooled one passes the idle check's threshold
        const SqlResult r = run(*db, QStringLiteral("INSERT INTO t VALUES (?)"), {2});
        QVERIFY2(!r.error(), qPrintable(r.error().message));
        QCOMPARE(run(*db, QStringLiteral("SELECT count(*) AS n FROM t WHERE v > ?"), {0}).integer(0, QStringLiteral("n")), 2);
    }

    void outageIsReportedThenRecoveredFrom()
    {
        auto db = freshPool(2);
        QVERIFY(!run(*db, QStringLiteral("SELECT 1")).error());
        m_pg.stopServer();
        const SqlResult down = run(*db, QStringLiteral("SELECT 1"));
        QCOMPARE(down.error().kind, DbError::Kind::Unavailable);
        const Problem p = problemFor(down.error());
        QCOMPARE(p.status, 503);
        QVERIFY(p.retryAfterSeconds > 0);
        const TransactionOutcome t = QCoro::waitFor(db->transaction([](SqlTransaction &tx) -> Status {
            tx.exec(QStringLiteral("SELECT 1"));
            return {};
        }));
        QVERIFY(!t.committed);
        QCOMPARE(t.error.kind, DbError::Kind::Unavailable);

        QString error;
        QVERIFY2(m_pg.restartServer(&error), qPrintable(error));
        // Reconnects by itself: within a couple of tries every pooled connection is back.
        bool recovered = false;
        for (int i = 0; i < 10 && !recovered; ++i) {
            recovered = !run(*db, QStringLiteral("SELECT 1")).error() && !run(*db, QStringLiteral("SELECT 1")).error();
            if (!recovered)
                QTest::qWait(200);
        }
        QVERIFY(recovered);
    }
};

QTEST_GUILESS_MAIN(TestDbPool)
#include "tst_dbpool.moc"
