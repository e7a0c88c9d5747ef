// Migrations against a real PostgreSQL: order, checksums, rollback of a failing file, a tampered
// file refused, and two hosts migrating at once applying each file exactly once.
#include "db/DbPool.h"
#include "db/Migrations.h"
#include "PgFixture.h"

#include <QtTest/QtTest>

using namespace yieldhost;
using namespace yieldhost::test;

class TestMigrations : public QObject
{
    Q_OBJECT

    PgFixture m_pg;

    std::unique_ptr<DbPool> pool(const QString &url)
    {
        QString error;
        DbPool::Settings s;
        s.primary = *DatabaseUrl::parse(url, &error);
        s.poolSize = 2;
        return std::make_unique<DbPool>(s);
    }
    QString freshDatabase()
    {
        QString error;
        const QString url = m_pg.createDatabase(&error);
        if (url.isEmpty())
            qFatal("%s", qPrintable(error));
        return url;
    }
    static Migration make(const QString &plugin, int version, const QString &name, const QByteArray &sql)
    {
        Migration m;
        m.plugin = plugin;
        m.version = version;
        m.name = name;
        m.sql = sql;
        m.checksum = QString::fromLatin1(QCryptographicHash::hash(sql, QCryptographicHash::Sha256).toHex());
        return m;
    }
    static QString dbName(const QString &url) { return url.section(u'/', -1); }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
    }

    void collectReadsNumberedFilesFromPluginResources()
    {
        QString error;
        const auto list = Migrations::collect({QStringLiteral("demo")}, &error);
        QVERIFY2(list, qPrintable(error));
        QCOMPARE(list->size(), 2);
        QCOMPARE(list->at(0).label(), QStringLiteral("demo/0001_create_account"));
        QCOMPARE(list->at(1).version, 2);
        QCOMPARE(list->at(1).checksum.size(), 64);
    }

    void misnamedFileIsRefused()
    {
        QString error;
        QVERIFY(!Migrations::collect({QStringLiteral("broken")}, &error));
        QVERIFY2(error.contains(QLatin1String("1_not_numbered_right.sql")) && error.contains(QLatin1String("misnamed")), qPrintable(error));
    }

    void appliesInOrderAndRecordsEach()
    {
        const QString url = freshDatabase();
        auto db = pool(url);
        QString error;
        const auto list = *Migrations::collect({QStringLiteral("demo")}, &error);
        QStringList lines;
        const auto outcome = QCoro::waitFor(Migrations::apply(*db, list, [&lines](const QString &l) { lines.append(l); }));
        QVERIFY2(outcome.status, qPrintable(outcome.status.error()));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT string_agg(plugin || '/' || version || ':' || name, ',' ORDER BY version) FROM yieldhost_migrations")),
                 QStringLiteral("demo/1:create_account,demo/2:add_balance"));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT count(*) FROM pg_indexes WHERE indexname = 'demo_account_balance'")), QStringLiteral("1"));
        QVERIFY(lines.first().startsWith(QLatin1String("[1/2] applied demo/0001_create_account")));
        QVERIFY(!QCoro::waitFor(Migrations::notReadyReason(*db, list)));
    }

    void secondRunAppliesNothing()
    {
        const QString url = freshDatabase();
        auto db = pool(url);
        QString error;
        const auto list = *Migrations::collect({QStringLiteral("demo")}, &error);
        QVERIFY(QCoro::waitFor(Migrations::apply(*db, list, {})).status);
        QStringList lines;
        const auto second = QCoro::waitFor(Migrations::apply(*db, list, [&lines](const QString &l) { lines.append(l); }));
        QVERIFY2(second.status, qPrintable(second.status.error()));
        QCOMPARE(lines, QStringList{QStringLiteral("database schema is up to date (2 migrations)")});
    }

    void pendingMigrationsMakeTheDatabaseNotReady()
    {
        const QString url = freshDatabase();
        auto db = pool(url);
        QList<Migration> list{make(QStringLiteral("p"), 1, QStringLiteral("a"), "CREATE TABLE p_a (id int)")};
        QCOMPARE(*QCoro::waitFor(Migrations::notReadyReason(*db, list)), QStringLiteral("migrations have not been applied"));
        QVERIFY(QCoro::waitFor(Migrations::apply(*db, list, {})).status);
        list.append(make(QStringLiteral("p"), 2, QStringLiteral("b"), "CREATE TABLE p_b (id int)"));
        QCOMPARE(*QCoro::waitFor(Migrations::notReadyReason(*db, list)), QStringLiteral("1 migration(s) are not applied"));
    }

    void failingMigrationIsRolledBackAndNotRecorded()
    {
        const QString url = freshDatabase();
        auto db = pool(url);
        const QList<Migration> list{make(QStringLiteral("p"), 1, QStringLiteral("good"), "CREATE TABLE p_good (id int)"),
                                    make(QStringLiteral("p"), 2, QStringLiteral("bad"), "CREATE TABLE p_half (id int); SELECT 1/0;")};
        const auto outcome = QCoro::waitFor(Migrations::apply(*db, list, {}));
        QVERIFY(!outcome.status);
        QVERIFY(!outcome.retryable);
        QVERIFY2(outcome.status.error().contains(QLatin1String("p/0002_bad failed and was rolled back")), qPrintable(outcome.status.error()));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT count(*) FROM yieldhost_migrations")), QStringLiteral("1"));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT to_regclass('p_half') IS NULL")), QStringLiteral("t"));
    }

    void tamperedMigrationIsRefusedByName()
    {
        const QString url = freshDatabase();
        auto db = pool(url);
        QList<Migration> list{make(QStringLiteral("p"), 1, QStringLiteral("a"), "CREATE TABLE p_a (id int)")};
        QVERIFY(QCoro::waitFor(Migrations::apply(*db, list, {})).status);
        list[0] = make(QStringLiteral("p"), 1, QStringLiteral("a"), "CREATE TABLE p_a (id bigint)");
        const auto outcome = QCoro::waitFor(Migrations::apply(*db, list, {}));
        QVERIFY(!outcome.status);
        QVERIFY(!outcome.retryable);
        QVERIFY2(outcome.status.error().contains(QLatin1String("migration p/0001_a was changed after it was applied")), qPrintable(outcome.status.error()));
    }

    void twoHostsMigratingAtOnceApplyEachOnce()
    {
        const QString url = freshDatabase();
        auto first = pool(url);  // two pools: two hosts, separate connections
        auto second = pool(url);
        const QList<Migration> list{make(QStringLiteral("p"), 1, QStringLiteral("slow"), "SELECT pg_sleep(0.5); CREATE TABLE p_once (id int)"),
                                    make(QStringLiteral("p"), 2, QStringLiteral("next"), "ALTER TABLE p_once ADD COLUMN v int")};
        auto a = Migrations::apply(*first, list, {});
        auto b = Migrations::apply(*second, list, {});
        const auto oa = QCoro::waitFor(a);
        const auto ob = QCoro::waitFor(b);
        QVERIFY2(oa.status, qPrintable(oa.status.error()));
        QVERIFY2(ob.status, qPrintable(ob.status.error()));
        QCOMPARE(m_pg.psql(dbName(url), QStringLiteral("SELECT count(*) FROM yieldhost_migrations")), QStringLiteral("2"));
    }

    void unreachableDatabaseIsRetryable()
    {
        DbPool::Settings s;
        QString error;
        s.primary = *DatabaseUrl::parse(QStringLiteral("postgres://nobody@127.0.0.1:1/none?connect_timeout=1"), &error);
        DbPool db(s);
        const auto outcome = QCoro::waitFor(Migrations::apply(db, {make(QStringLiteral("p"), 1, QStringLiteral("a"), "SELECT 1")}, {}));
        QVERIFY(!outcome.status);
        QVERIFY(outcome.retryable);
        QVERIFY(outcome.status.error().contains(QLatin1String("unavailable")));
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
