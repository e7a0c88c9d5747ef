// The investments plugin end to end: a `serve` and a `worker --queues yields,default` process of
// the real binary (in a time zone twelve hours behind UTC) against one real PostgreSQL, users
// registered and funded through the wallet routes. Covered: plans (any signed-in user lists them,
// staff add them, 422 per field); invest (every refusal with its status and field, the wallet
// debited once, an Idempotency-Key replay); other users' positions and wallets are 404; the list
// (newest first, paged, by status); redeem with the test clock (409 position-locked before
// unlocks_at, 200 after advancing past it, a replay, then 409 position-state; positions redeemed
// on day 5 keep the periods that had ended, and no more); the yield rule end to end: daily,
// weekly and monthly positions in EUR (2 decimals) and ETH (18), a tiny principal, redeemed
// positions, the clock advanced 31 days, investments.process_yield_payments run, and every
// position checked against an independent computation (Python's decimal at 200 digits): the
// periods' count, dates and amounts, the total within half a minor unit of P x apy x days / 365,
// the ledger (kind yield, balances = entries, every currency summing to zero), the settlements
// and the yield.paid events; a second run pays nothing; two worker processes on a book of 2,000
// positions pay each period once (both made to work at the same time by holding a lock until
// both wait); a worker killed with SIGKILL in the middle of a run over another 1,700 positions,
// its job rescued and rerun: every due period paid exactly once and the ledger reconciles.
#include "HostCluster.h"
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QUrl>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }
QString newKey() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }
QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }

// The yield rule of API.md computed independently of the plugin: Python's decimal at 200
// digits. Period k of a position opened on UTC date D (interval I) covers the days
// D+1+(k-1)I .. D+kI and ends at D+1+kI; it is due when that end is at or before as_of (and, for
// a redeemed position, at or before the redemption date); it pays round_half_even(P apy k I / 365)
// minus what the periods before it paid. For each case: the periods (unless "detail" is false),
// their count, the total paid, the exact total, and — given "reported", the total the plugin
// says it paid — whether that is within half a minor unit of the exact total.
const char *const kYieldRule = R"PY(
import json, sys
from datetime import date, timedelta
from decimal import Decimal, ROUND_HALF_EVEN, getcontext
getcontext().prec = 200
out = []
for c in json.load(sys.stdin):
    P, apy, I, dec = Decimal(c["principal"]), Decimal(c["apy"]), int(c["interval"]), int(c["decimals"])
    unit = Decimal(1).scaleb(-dec)
    opened = date.fromisoformat(c["opened"])
    last = date.fromisoformat(c["as_of"])
    if c.get("ends"):
        last = min(last, date.fromisoformat(c["ends"]))
    periods, paid, k = [], Decimal(0).quantize(unit), 1
    while opened + timedelta(days=1 + k * I) <= last:
        due = (P * apy * k * I / 365).quantize(unit, rounding=ROUND_HALF_EVEN)
        if c.get("detail", True):
            periods.append({"index": k, "start": (opened + timedelta(days=1 + (k - 1) * I)).isoformat(),
                            "end": (opened + timedelta(days=1 + k * I)).isoformat(), "amount": f"{due - paid:f}"})
        paid = due
        k += 1
    exact = P * apy * (k - 1) * I / 365
    r = {"periods": periods, "count": k - 1, "paid": f"{paid:f}", "exact": f"{exact:f}",
         "nonzero": sum(1 for p in periods if Decimal(p["amount"]) != 0)}
    if "reported" in c:
        r["within_half_unit"] = abs(Decimal(c["reported"]) - exact) * 2 <= unit
    out.append(r)
json.dump(out, sys.stdout)
)PY";

QJsonArray yieldRule(const QJsonArray &cases)
{
    QProcess p;
    p.start(QStringLiteral("python3"), {QStringLiteral("-c"), QString::fromLatin1(kYieldRule)});
    if (!p.waitForStarted(10000))
        return {};
    p.write(QJsonDocument(cases).toJson(QJsonDocument::Compact));
    p.closeWriteChannel();
    if (!p.waitForFinished(60000) || p.exitCode() != 0) {
        qWarning("the yield rule script: %s", p.readAllStandardError().constData());
        return {};
    }
    return QJsonDocument::fromJson(p.readAllStandardOutput()).array();
}

bool isTxHash(const QJsonValue &v)
{
    static const QRegularExpression hash(QStringLiteral("^0x[0-9a-f]{64}$"));
    return v.isString() && hash.match(v.toString()).hasMatch();
}

QDate utcDate(const QJsonValue &timestamp)
{
    return QDateTime::fromString(timestamp.toString(), Qt::ISODateWithMs).toUTC().date();
}

// An open position the yield rule is checked on.
struct Opened
{
    QString label;
    QString id;
    QString wallet;
    QString currency;
    QString principal; // as sent
    QString apy;       // the plan's, as the test defined it
    int interval = 1;
    int decimals = 2;
    QDate openedOn;
    QDate endsOn; // redeemed on
};

// A psql session of its own that holds a row lock until released: makes workers wait mid-batch.
class LockHolder
{
public:
    bool hold(const QString &url, const QString &lockStatement)
    {
        m_psql.setProcessChannelMode(QProcess::MergedChannels);
        m_psql.start(QStringLiteral("psql"), {url, QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1")});
        if (!m_psql.waitForStarted(10000))
            return false;
        m_psql.write("BEGIN;\n" + lockStatement.toUtf8() + ";\nSELECT 'locked';\n");
        return waitUntil([&] { return m_psql.readAll().contains("locked") || m_psql.state() != QProcess::Running; }, 20000)
               && m_psql.state() == QProcess::Running;
    }
    void release()
    {
        if (m_psql.state() != QProcess::Running)
            return;
        m_psql.write("ROLLBACK;\n\\q\n");
        m_psql.closeWriteChannel();
        m_psql.waitForFinished(10000);
    }
    ~LockHolder()
    {
        release();
        if (m_psql.state() != QProcess::NotRunning) {
            m_psql.kill();
            m_psql.waitForFinished(5000);
        }
    }

private:
    QProcess m_psql;
};

} // namespace

class TestInvestments : public QObject
{
    Q_OBJECT

    HostCluster m_cluster;
    std::unique_ptr<HostProcess> m_api;
    std::unique_ptr<HostProcess> m_worker;
    std::vector<std::unique_ptr<HostProcess>> m_extraWorkers;
    QByteArray m_staff;
    QByteArray m_alice, m_bob;
    QString m_aliceId, m_bobId;
    QString m_aliceEur, m_aliceEth, m_bobEur;
    QHash<QString, QString> m_plan; // label -> id
    QList<Opened> m_opened;         // the yield rule's positions
    QString m_lockedPosition, m_unlockedPosition;
    QStringList m_dayFive; // redeemed after the first 5 days
    QString m_redeemKey;
    QByteArray m_redeemReply;
    QDate m_asOf; // the first run's date
    QStringList m_bookWallets;
    QString m_lateWallet;
    int m_firstBookPeriods = 0;

    // --- HTTP ---

    std::optional<HttpReply> call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {}, const QByteArray &token = {},
                                  const QString &key = {})
    {
        Headers headers;
        if (!token.isEmpty())
            headers.append({QByteArrayLiteral("Authorization"), QByteArray("Bearer " + token)});
        if (!key.isEmpty())
            headers.append({QByteArrayLiteral("Idempotency-Key"), key.toUtf8()});
        return HttpClient::request(m_api->host(), m_api->port(), method, path, body, "application/json", headers);
    }
    QByteArray login(const QString &email, const QString &password)
    {
        const auto r = call("POST", "/api/v1/auth/token", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
        return r && r->status == 200 ? r->json().value(QLatin1String("access")).toString().toLatin1() : QByteArray();
    }
    // Registers and signs in; *id is the user's id.
    QByteArray signUp(const QString &email, QString *id)
    {
        const QString password = QStringLiteral("a long enough password 0123");
        const auto reg = call("POST", "/api/v1/auth/register", compact({{QStringLiteral("email"), email}, {QStringLiteral("password"), password}}));
        if (!reg || reg->status != 201) {
            qWarning("register %s: %s", qPrintable(email), qPrintable(describe(reg)));
            return {};
        }
        const QByteArray token = login(email, password);
        const auto me = call("GET", "/api/v1/users/me", {}, token);
        if (id)
            *id = me && me->status == 200 ? str(me->json(), "id") : QString();
        return token;
    }
    // A new wallet in `currency` holding `amount`; its id.
    QString fundedWallet(const QByteArray &token, const QString &currency, const QString &amount)
    {
        const auto w = call("POST", "/api/v1/wallets", compact({{QStringLiteral("currency"), currency}}), token);
        if (!w || w->status != 201) {
            qWarning("wallet: %s", qPrintable(describe(w)));
            return {};
        }
        const QString id = str(w->json(), "id");
        const auto d = call("POST", QStringLiteral("/api/v1/wallets/%1/deposit").arg(id).toUtf8(), compact({{QStringLiteral("amount"), amount}}), token, newKey());
        if (!d || d->status != 201) {
            qWarning("deposit: %s", qPrintable(describe(d)));
            return {};
        }
        return id;
    }
    QString balance(const QByteArray &token, const QString &wallet)
    {
        const auto r = call("GET", QStringLiteral("/api/v1/wallets/%1").arg(wallet).toUtf8(), {}, token);
        return r && r->status == 200 ? str(r->json(), "balance") : QStringLiteral("(%1)").arg(describe(r));
    }
    std::optional<HttpReply> invest(const QByteArray &token, const QString &plan, const QString &wallet, const QJsonValue &amount, const QString &key = newKey())
    {
        return call("POST", "/api/v1/investments",
                    compact({{QStringLiteral("plan_id"), plan}, {QStringLiteral("wallet_id"), wallet}, {QStringLiteral("amount"), amount}}), token, key);
    }
    std::optional<HttpReply> redeem(const QByteArray &token, const QString &position, const QString &key = newKey())
    {
        return call("POST", QStringLiteral("/api/v1/investments/%1/redeem").arg(position).toUtf8(), {}, token, key);
    }
    void advanceDays(int days)
    {
        const auto r = call("POST", "/api/v1/admin/clock", compact({{QStringLiteral("advance_days"), days}}), m_staff);
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        QTest::qWait(300); // the jump reaches the worker through NOTIFY
    }
    QDate hostToday() { return QDate::fromString(m_cluster.sql(QStringLiteral("SELECT (host_now() AT TIME ZONE 'UTC')::date")), Qt::ISODate); }
    QString sql(const QString &statement) { return m_cluster.sql(statement); }
    QString logs() const
    {
        QString out = QStringLiteral("--- serve:\n%1\n--- worker:\n%2").arg(m_api ? m_api->output().right(3000) : QString(), m_worker ? m_worker->output().right(3000) : QString());
        for (const auto &w : m_extraWorkers)
            if (w)
                out += QStringLiteral("\n--- worker %1:\n%2").arg(w->process().processId()).arg(w->output().right(2000));
        return out;
    }

    // --- jobs ---

    QString enqueue(const QJsonObject &args, const QString &queue = {})
    {
        QJsonObject body{{QStringLiteral("task"), QStringLiteral("investments.process_yield_payments")}, {QStringLiteral("args"), args}};
        if (!queue.isEmpty())
            body.insert(QStringLiteral("queue"), queue);
        const auto r = call("POST", "/api/v1/admin/jobs", compact(body), m_staff);
        if (!r || r->status != 202) {
            qWarning("enqueue: %s", qPrintable(describe(r)));
            return {};
        }
        const QJsonValue id = r->json().value(QLatin1String("id"));
        return id.isString() ? id.toString() : QString::number(id.toInteger());
    }
    // "state|attempts|last_error" of job `id`.
    QString job(const QString &id)
    {
        return sql(QStringLiteral("SELECT state || '|' || attempts || '|' || coalesce(last_error, '') FROM host_job WHERE id = %1").arg(id.toLongLong()));
    }
    bool waitDone(const QString &id, int timeoutMs = 90000)
    {
        return waitUntil([&] {
            const QString s = job(id);
            return s.startsWith(QLatin1String("done|")) || s.startsWith(QLatin1String("failed|"));
        }, timeoutMs) && job(id).startsWith(QLatin1String("done|"));
    }
    // The periods a worker's run of job `id` says it paid ("paid N periods"), -1 if not logged.
    static int periodsPaidBy(const HostProcess &worker, const QString &id)
    {
        const QRegularExpression line(QStringLiteral("job %1 \\(investments\\.process_yield_payments\\): as of \\S+: paid (\\d+) periods").arg(id));
        const QRegularExpressionMatch m = line.match(worker.output());
        return m.hasMatch() ? m.captured(1).toInt() : -1;
    }

    // --- the plugin's records ---

    // Every yield row against the ledger, the settlements and the outbox, and the ledger's own
    // invariants: run after every payout.
    void verifyBooksReconcile()
    {
        // Balances equal the sum of their entries and the last balance_after; each currency sums to zero.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_account a WHERE a.balance <> coalesce((SELECT sum(amount) FROM wallets_entry e WHERE e.account_id = a.id), 0)")),
                 QStringLiteral("0"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_account a WHERE a.balance <> coalesce((SELECT balance_after FROM wallets_entry e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1), 0)")),
                 QStringLiteral("0"));
        QCOMPARE(sql(QStringLiteral("SELECT coalesce(string_agg(currency || ' ' || total, ', '), '') FROM (SELECT currency, sum(balance) AS total FROM wallets_account GROUP BY currency HAVING sum(balance) <> 0) t")),
                 QString());
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_account WHERE user_id IS NOT NULL AND balance < 0")), QStringLiteral("0"));
        // The yield pool paid out exactly what the yield rows say, per currency.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM (SELECT currency, sum(amount) AS s FROM investments_yield GROUP BY currency) y "
                                    "FULL JOIN (SELECT currency, -balance AS b FROM wallets_account WHERE system_name = 'yield_pool') p USING (currency) "
                                    "WHERE coalesce(s, 0) <> coalesce(b, 0)")),
                 QStringLiteral("0"));
        // The investments account holds exactly the active principals.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM (SELECT currency, sum(amount_invested) AS s FROM investments_position WHERE status = 'active' GROUP BY currency) a "
                                    "FULL JOIN (SELECT currency, balance AS b FROM wallets_account WHERE system_name = 'investments') h USING (currency) "
                                    "WHERE coalesce(s, 0) <> coalesce(b, 0)")),
                 QStringLiteral("0"));
        // A position's progress is its yield rows: contiguous periods 1..n, their sum.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position p LEFT JOIN (SELECT position_id, count(*) AS n, sum(amount) AS s, min(period_index) AS lo, max(period_index) AS hi "
                                    "FROM investments_yield GROUP BY position_id) y ON y.position_id = p.id "
                                    "WHERE p.yield_paid <> coalesce(y.s, 0) OR p.last_period <> coalesce(y.n, 0) OR coalesce(y.hi, 0) <> coalesce(y.n, 0) OR coalesce(y.lo, 1) <> 1")),
                 QStringLiteral("0"));
        // Each non-zero yield row: one ledger transaction of kind yield (pool -> the position's
        // wallet, its reference), one settlement with its tx hash; a zero one has neither.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield y JOIN investments_position p ON p.id = y.position_id "
                                    "LEFT JOIN wallets_transaction t ON t.id = y.ledger_transaction AND t.kind = 'yield' AND t.reference = 'yield:' || y.position_id || ':' || y.period_index "
                                    "LEFT JOIN wallets_entry w ON w.transaction_id = t.id AND w.account_id = p.wallet_id AND w.amount = y.amount AND w.kind = 'yield' "
                                    "LEFT JOIN wallets_entry o ON o.transaction_id = t.id AND o.amount = -y.amount AND o.account_id = "
                                    "  (SELECT id FROM wallets_account WHERE system_name = 'yield_pool' AND currency = y.currency) "
                                    "LEFT JOIN integrations_settlement s ON s.tx_hash = y.tx_hash AND s.reference = 'yield:' || y.position_id || ':' || y.period_index "
                                    "  AND s.amount = y.amount AND s.user_id = p.user_id AND s.currency = y.currency "
                                    "WHERE y.amount > 0 AND (w.id IS NULL OR o.id IS NULL OR s.tx_hash IS NULL)")),
                 QStringLiteral("0"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield WHERE amount = 0 AND (tx_hash IS NOT NULL OR ledger_transaction IS NOT NULL)")), QStringLiteral("0"));
        // Nothing paid twice behind the yield rows' back: one ledger transaction, one settlement
        // and one yield.paid event per non-zero row, each reference once.
        const QString paid = sql(QStringLiteral("SELECT count(*) FROM investments_yield WHERE amount > 0"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) || ' ' || count(DISTINCT reference) FROM wallets_transaction WHERE kind = 'yield'")), QString(paid + u' ' + paid));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) || ' ' || count(DISTINCT reference) FROM integrations_settlement WHERE reference LIKE 'yield:%'")), QString(paid + u' ' + paid));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'yield.paid'")), paid);
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield y JOIN investments_position p ON p.id = y.position_id "
                                    "WHERE y.amount > 0 AND NOT EXISTS (SELECT 1 FROM host_outbox o WHERE o.topic = 'yield.paid' AND o.user_id = p.user_id::text "
                                    "AND o.data->>'investment_id' = y.position_id::text AND o.data->>'tx_hash' = y.tx_hash AND (o.data->>'amount')::numeric = y.amount "
                                    "AND o.data->>'currency' = y.currency)")),
                 QStringLiteral("0"));
    }

    // Book positions (EUR, in `wallets`), inserted with SQL as the invest route would leave them:
    // each wallet's principals moved to the investments account by one balanced ledger
    // transaction of kind investment (balances and balance_after kept), next_due_on the end of
    // the first period. `back` is the SQL for how many days ago position g (interval i) opened.
    void seedBook(const QStringList &wallets, int count, const QString &back, const QList<int> &intervals)
    {
        QStringList ids;
        for (const QString &w : wallets)
            ids.append(u'\'' + w + u'\'');
        QStringList list;
        for (int i : intervals)
            list.append(QString::number(i));
        const QString script = QStringLiteral(
            "CREATE TEMP TABLE seed AS "
            "WITH g AS (SELECT g, (ARRAY[%1])[1 + g % %2] AS i FROM generate_series(1, %3) g) "
            "SELECT gen_random_uuid() AS id, w.id AS wallet_id, w.user_id, g.i, p.id AS plan_id, p.apy, "
            "       round(100 + ((g.g * 7919) % 90000) / 100.0, 2) AS amount, "
            "       host_now() - make_interval(days => (%4)::integer) AS opened_at "
            "FROM g JOIN wallets_account w ON w.id = (ARRAY[%5]::uuid[])[1 + g.g % %6] "
            "JOIN investments_plan p ON p.id = CASE g.i WHEN 1 THEN '%7'::uuid WHEN 7 THEN '%8'::uuid ELSE '%9'::uuid END; "
            "INSERT INTO investments_position (id, user_id, plan_id, wallet_id, currency, amount_invested, apy, interval_days, decimals, opened_at, unlocks_at, next_due_on) "
            "SELECT id, user_id, plan_id, wallet_id, 'EUR', amount, apy, i, 2, opened_at, opened_at, (opened_at AT TIME ZONE 'UTC')::date + 1 + i FROM seed; "
            "DO $$ DECLARE r record; t uuid; held uuid; BEGIN "
            "  SELECT id INTO STRICT held FROM wallets_account WHERE system_name = 'investments' AND currency = 'EUR'; "
            "  FOR r IN SELECT wallet_id, sum(amount) AS total FROM seed GROUP BY wallet_id ORDER BY wallet_id LOOP "
            "    t := gen_random_uuid(); "
            "    INSERT INTO wallets_transaction (id, kind, reference) VALUES (t, 'investment', 'test book'); "
            "    UPDATE wallets_account SET balance = balance - r.total WHERE id = r.wallet_id; "
            "    UPDATE wallets_account SET balance = balance + r.total WHERE id = held; "
            "    INSERT INTO wallets_entry (transaction_id, account_id, currency, kind, amount, balance_after) "
            "      SELECT t, id, 'EUR', 'investment', CASE WHEN id = held THEN r.total ELSE -r.total END, balance "
            "      FROM wallets_account WHERE id IN (r.wallet_id, held) ORDER BY id = held; " // both legs in one statement
            "  END LOOP; "
            "END $$; "
            "SELECT count(*) FROM seed")
                                   .arg(list.join(u','))
                                   .arg(intervals.size())
                                   .arg(count)
                                   .arg(back, ids.join(u','))
                                   .arg(wallets.size())
                                   .arg(m_plan.value(QStringLiteral("book daily")), m_plan.value(QStringLiteral("book weekly")), m_plan.value(QStringLiteral("book monthly")));
        QString error;
        const QString out = m_cluster.postgres().psql(m_cluster.databaseUrl().section(u'/', -1), script, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(out.section(u'\n', -1), QString::number(count));
    }

    // The book positions in `wallets`, each against the rule as of `asOf`: its periods' count,
    // the indexes 1..n, the total paid. Returns the periods the rule says are due in all.
    int verifyBookAgainstTheRule(const QStringList &wallets, const QDate &asOf)
    {
        const QString rows = sql(QStringLiteral(
            "SELECT p.id, p.amount_invested, p.apy, p.interval_days, p.decimals, (p.opened_at AT TIME ZONE 'UTC')::date, round(p.yield_paid, 2), p.last_period, "
            "       coalesce(y.n, 0), round(coalesce(y.s, 0), 2), coalesce(y.lo, 0), coalesce(y.hi, 0) "
            "FROM investments_position p LEFT JOIN (SELECT position_id, count(*) AS n, sum(amount) AS s, min(period_index) AS lo, max(period_index) AS hi "
            "  FROM investments_yield GROUP BY position_id) y ON y.position_id = p.id "
            "WHERE p.wallet_id = ANY('{%1}'::uuid[]) ORDER BY p.id").arg(wallets.join(u',')));
        const QStringList lines = rows.split(u'\n', Qt::SkipEmptyParts);
        QJsonArray cases;
        for (const QString &line : lines) {
            const QStringList f = line.split(u'|');
            if (f.size() != 12) {
                qWarning("unexpected row %s", qPrintable(line));
                return -1;
            }
            cases.append(QJsonObject{{QStringLiteral("principal"), f[1]}, {QStringLiteral("apy"), f[2]}, {QStringLiteral("interval"), f[3].toInt()},
                                     {QStringLiteral("decimals"), f[4].toInt()}, {QStringLiteral("opened"), f[5]}, {QStringLiteral("as_of"), asOf.toString(Qt::ISODate)},
                                     {QStringLiteral("detail"), false}, {QStringLiteral("reported"), f[9]}});
        }
        const QJsonArray expected = yieldRule(cases);
        if (expected.size() != cases.size()) {
            qWarning("the rule gave %lld answers for %lld positions", qlonglong(expected.size()), qlonglong(cases.size()));
            return -1;
        }
        int due = 0, wrong = 0;
        for (qsizetype i = 0; i < lines.size(); ++i) {
            const QStringList f = lines[i].split(u'|');
            const QJsonObject want = expected[i].toObject();
            const int n = want.value(QLatin1String("count")).toInt();
            due += n;
            const QString expectedRow = QStringLiteral("%1 periods (1..%1), %2 paid").arg(n).arg(str(want, "paid"));
            const QString gotRow = QStringLiteral("%1 periods (%2..%3), %4 paid (yield_paid %5, last_period %6)").arg(f[8], f[10], f[11], f[9], f[6], f[7]);
            const bool ok = f[8].toInt() == n && f[11].toInt() == n && f[10].toInt() == (n > 0 ? 1 : 0) && f[9] == str(want, "paid") && f[6] == str(want, "paid")
                            && f[7].toInt() == n && want.value(QLatin1String("within_half_unit")).toBool();
            if (!ok && ++wrong <= 5)
                qWarning("position %s: expected %s, got %s", qPrintable(f[0]), qPrintable(expectedRow), qPrintable(gotRow));
        }
        if (wrong) {
            qWarning("%d of %lld book positions differ from the rule", wrong, qlonglong(lines.size()));
            return -1;
        }
        return due;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cluster.open(&error), qPrintable(error));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));
        // A worker killed with SIGKILL is found out within seconds and its job rescued.
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__HEARTBEAT_INTERVAL_MS"), QStringLiteral("500"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_JOBS__WORKER_TIMEOUT_MS"), QStringLiteral("6000"));
        m_cluster.setShared(QStringLiteral("YIELDHOST_USERS__REGISTRATIONS_PER_ADDRESS_PER_HOUR"), QStringLiteral("1000"));
        // Dates are UTC dates whatever the servers' local time zone: run them twelve hours behind.
        m_cluster.setShared(QStringLiteral("TZ"), QStringLiteral("Etc/GMT+12"));
        m_api = m_cluster.start({QStringLiteral("serve")});
        QVERIFY(m_api);
        QVERIFY2(m_api->waitReady(60000), qPrintable(m_api->output().right(2000)));
        m_worker = m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("yields,default")});
        QVERIFY(m_worker);

        const QString password = QStringLiteral("staff password 0123");
        QString out;
        const int created = HostProcess::runCommand(m_cluster.environment(), {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                                               QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, password.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));
        m_staff = login(QStringLiteral("ops@example.com"), password);
        QVERIFY(!m_staff.isEmpty());
        m_alice = signUp(QStringLiteral("alice@example.com"), &m_aliceId);
        m_bob = signUp(QStringLiteral("bob@example.com"), &m_bobId);
        QVERIFY(!m_alice.isEmpty() && !m_aliceId.isEmpty() && !m_bob.isEmpty() && !m_bobId.isEmpty());
        m_aliceEur = fundedWallet(m_alice, QStringLiteral("EUR"), QStringLiteral("100000.00"));
        m_aliceEth = fundedWallet(m_alice, QStringLiteral("ETH"), QStringLiteral("10"));
        m_bobEur = fundedWallet(m_bob, QStringLiteral("EUR"), QStringLiteral("500.00"));
        QVERIFY(!m_aliceEur.isEmpty() && !m_aliceEth.isEmpty() && !m_bobEur.isEmpty());
    }

    void cleanupTestCase()
    {
        for (auto &w : m_extraWorkers)
            if (w && w->process().state() == QProcess::Running)
                w->terminate();
        for (auto *p : {&m_worker, &m_api})
            if (*p)
                QVERIFY2((*p)->terminate() == 0, qPrintable((*p)->output().right(3000)));
    }

    // --- plans ---

    void plansAreAddedByStaffAndListedToUsers()
    {
        verifyProblem(call("GET", "/api/v1/plans"), 401);
        const QJsonObject plan{{QStringLiteral("name"), QStringLiteral("EUR daily")}, {QStringLiteral("currency"), QStringLiteral("EUR")},
                               {QStringLiteral("apy"), QStringLiteral("0.05")}, {QStringLiteral("payout_interval"), QStringLiteral("daily")},
                               {QStringLiteral("min_amount"), QStringLiteral("10.00")}, {QStringLiteral("lock_days"), 0}};
        verifyProblem(call("POST", "/api/v1/plans", compact(plan)), 401);
        verifyProblem(call("POST", "/api/v1/plans", compact(plan), m_alice), 403);
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_plan")), QStringLiteral("0"));

        struct Spec
        {
            const char *label, *currency, *apy, *interval, *min;
            int lock;
            const char *apyShown, *minShown;
        };
        const Spec specs[] = {
            {"EUR daily", "EUR", "0.05", "daily", "10.00", 0, "0.0500", "10.00"},
            {"EUR weekly", "EUR", "0.0725", "weekly", "10", 0, "0.0725", "10.00"},
            {"EUR monthly", "EUR", "0.1234", "monthly", "10.00", 0, "0.1234", "10.00"},
            {"EUR tiny", "EUR", "0.01", "daily", "1.00", 0, "0.0100", "1.00"},
            {"EUR locked", "EUR", "0.045", "daily", "50.00", 10, "0.0450", "50.00"},
            {"ETH daily", "ETH", "0.0333", "daily", "0.01", 0, "0.0333", "0.010000000000000000"},
            {"ETH weekly", "ETH", "0.05", "weekly", "0.01", 0, "0.0500", "0.010000000000000000"},
            {"ETH monthly", "ETH", "0.07", "monthly", "0.01", 0, "0.0700", "0.010000000000000000"},
            {"book daily", "EUR", "0.0475", "daily", "10.00", 0, "0.0475", "10.00"},
            {"book weekly", "EUR", "0.061", "weekly", "10.00", 0, "0.0610", "10.00"},
            {"book monthly", "EUR", "0.08125", "monthly", "10.00", 0, "0.08125", "10.00"},
        };
        for (const Spec &s : specs) {
            const QJsonObject body{{QStringLiteral("name"), QLatin1String(s.label)}, {QStringLiteral("currency"), QLatin1String(s.currency)},
                                   {QStringLiteral("apy"), QLatin1String(s.apy)}, {QStringLiteral("payout_interval"), QLatin1String(s.interval)},
                                   {QStringLiteral("min_amount"), QLatin1String(s.min)}, {QStringLiteral("lock_days"), s.lock}};
            const auto r = call("POST", "/api/v1/plans", compact(body), m_staff);
            QVERIFY2(r && r->status == 201, qPrintable(QString(QLatin1String(s.label) + u' ' + describe(r))));
            const QJsonObject p = r->json();
            QVERIFY(!str(p, "id").isEmpty());
            QCOMPARE(str(p, "name"), QLatin1String(s.label));
            QCOMPARE(str(p, "currency"), QLatin1String(s.currency));
            QCOMPARE(str(p, "apy"), QLatin1String(s.apyShown));
            QCOMPARE(str(p, "payout_interval"), QLatin1String(s.interval));
            QCOMPARE(str(p, "min_amount"), QLatin1String(s.minShown));
            QCOMPARE(p.value(QLatin1String("lock_days")).toInt(), s.lock);
            m_plan.insert(QLatin1String(s.label), str(p, "id"));
        }

        // Any signed-in user lists them; pages of 4 give each plan once.
        QSet<QString> seen;
        QString cursor;
        for (int page = 0; page < 10; ++page) {
            const auto r = call("GET", QStringLiteral("/api/v1/plans?limit=4%1").arg(cursor.isEmpty() ? QString() : QString(QStringLiteral("&cursor=") + cursor)).toUtf8(), {}, m_bob);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            for (const QJsonValue &v : r->json().value(QLatin1String("results")).toArray()) {
                const QJsonObject p = v.toObject();
                QVERIFY2(!seen.contains(str(p, "id")), qPrintable(str(p, "id")));
                seen.insert(str(p, "id"));
                QCOMPARE(m_plan.value(str(p, "name")), str(p, "id"));
                for (const char *field : {"id", "name", "currency", "apy", "payout_interval", "min_amount", "lock_days"})
                    QVERIFY2(p.contains(QLatin1String(field)), field);
            }
            const QJsonValue next = r->json().value(QLatin1String("next"));
            if (next.isNull())
                break;
            cursor = QString::fromUtf8(QUrl::toPercentEncoding(next.toString()));
        }
        QCOMPARE(seen.size(), qsizetype(std::size(specs)));
    }

    void planFieldsAreChecked_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value"); // Undefined: left out
        QTest::newRow("name empty") << "name" << QJsonValue(QStringLiteral("  "));
        QTest::newRow("name too long") << "name" << QJsonValue(QString(101, u'n'));
        QTest::newRow("name missing") << "name" << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("currency unknown") << "currency" << QJsonValue(QStringLiteral("XXX"));
        QTest::newRow("currency a number") << "currency" << QJsonValue(5);
        QTest::newRow("currency missing") << "currency" << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("apy a JSON number") << "apy" << QJsonValue(0.05);
        QTest::newRow("apy negative") << "apy" << QJsonValue(QStringLiteral("-0.01"));
        QTest::newRow("apy above 10") << "apy" << QJsonValue(QStringLiteral("10.5"));
        QTest::newRow("apy not a number") << "apy" << QJsonValue(QStringLiteral("five"));
        QTest::newRow("apy exponent") << "apy" << QJsonValue(QStringLiteral("5e-2"));
        QTest::newRow("apy missing") << "apy" << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("interval yearly") << "payout_interval" << QJsonValue(QStringLiteral("yearly"));
        QTest::newRow("interval upper case") << "payout_interval" << QJsonValue(QStringLiteral("DAILY"));
        QTest::newRow("interval missing") << "payout_interval" << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("min zero") << "min_amount" << QJsonValue(QStringLiteral("0"));
        QTest::newRow("min negative") << "min_amount" << QJsonValue(QStringLiteral("-1.00"));
        QTest::newRow("min too precise") << "min_amount" << QJsonValue(QStringLiteral("10.001"));
        QTest::newRow("min a JSON number") << "min_amount" << QJsonValue(10);
        QTest::newRow("min missing") << "min_amount" << QJsonValue(QJsonValue::Undefined);
        QTest::newRow("lock negative") << "lock_days" << QJsonValue(-1);
        QTest::newRow("lock fraction") << "lock_days" << QJsonValue(1.5);
        QTest::newRow("lock a string") << "lock_days" << QJsonValue(QStringLiteral("3"));
        QTest::newRow("lock too long") << "lock_days" << QJsonValue(3651);
        QTest::newRow("lock missing") << "lock_days" << QJsonValue(QJsonValue::Undefined);
    }
    void planFieldsAreChecked()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QJsonObject body{{QStringLiteral("name"), QStringLiteral("Bad plan")}, {QStringLiteral("currency"), QStringLiteral("EUR")},
                         {QStringLiteral("apy"), QStringLiteral("0.05")}, {QStringLiteral("payout_interval"), QStringLiteral("daily")},
                         {QStringLiteral("min_amount"), QStringLiteral("10.00")}, {QStringLiteral("lock_days"), 0}};
        if (value.isUndefined())
            body.remove(field);
        else
            body.insert(field, value);
        const auto r = call("POST", "/api/v1/plans", compact(body), m_staff);
        CHECK(verifyProblem(r, 422));
        const QJsonObject errors = r->json().value(QLatin1String("errors")).toObject();
        QVERIFY2(errors.contains(field) && errors.size() == 1, r->body.constData());
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_plan WHERE name = 'Bad plan'")), QStringLiteral("0"));
        // Not JSON, or not an object: 400.
        if (qstrcmp(QTest::currentDataTag(), "name empty") == 0) {
            verifyProblem(call("POST", "/api/v1/plans", "[1]", m_staff), 400);
            verifyProblem(call("POST", "/api/v1/plans", "{\"name\": ", m_staff), 400);
        }
    }

    // --- invest ---

    void investRefusesBadInput_data()
    {
        QTest::addColumn<QString>("plan");   // a label of m_plan, or a literal id
        QTest::addColumn<QString>("wallet"); // "eur", "eth", "bob", or a literal id
        QTest::addColumn<QJsonValue>("amount");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("field"); // errors.<field> of a 422, or the problem type's last part
        const QString unknown = QUuid::createUuid().toString(QUuid::WithoutBraces);
        QTest::newRow("unknown plan") << unknown << "eur" << QJsonValue(QStringLiteral("20.00")) << 422 << "plan_id";
        QTest::newRow("plan not a uuid") << "plan-1" << "eur" << QJsonValue(QStringLiteral("20.00")) << 422 << "plan_id";
        QTest::newRow("plan missing") << "" << "eur" << QJsonValue(QStringLiteral("20.00")) << 422 << "plan_id";
        QTest::newRow("wallet missing") << "EUR daily" << "" << QJsonValue(QStringLiteral("20.00")) << 422 << "wallet_id";
        QTest::newRow("another user's wallet") << "EUR daily" << "bob" << QJsonValue(QStringLiteral("20.00")) << 404 << "";
        QTest::newRow("unknown wallet") << "EUR daily" << unknown << QJsonValue(QStringLiteral("20.00")) << 404 << "";
        QTest::newRow("wallet not a uuid") << "EUR daily" << "w-1" << QJsonValue(QStringLiteral("20.00")) << 404 << "";
        QTest::newRow("currency differs") << "EUR daily" << "eth" << QJsonValue(QStringLiteral("20")) << 422 << "wallet_id";
        QTest::newRow("currency differs (ETH plan)") << "ETH daily" << "eur" << QJsonValue(QStringLiteral("1.00")) << 422 << "wallet_id";
        QTest::newRow("below the minimum") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("9.99")) << 422 << "amount";
        QTest::newRow("below the ETH minimum") << "ETH daily" << "eth" << QJsonValue(QStringLiteral("0.009999999999999999")) << 422 << "amount";
        QTest::newRow("more decimals than EUR") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("20.001")) << 422 << "amount";
        QTest::newRow("more decimals than ETH") << "ETH daily" << "eth" << QJsonValue(QStringLiteral("0.1000000000000000001")) << 422 << "amount";
        QTest::newRow("amount zero") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("0")) << 422 << "amount";
        QTest::newRow("amount negative") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("-20.00")) << 422 << "amount";
        QTest::newRow("amount not a number") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("twenty")) << 422 << "amount";
        QTest::newRow("amount exponent") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("2e1")) << 422 << "amount";
        QTest::newRow("amount a JSON number") << "EUR daily" << "eur" << QJsonValue(20) << 422 << "amount";
        QTest::newRow("amount null") << "EUR daily" << "eur" << QJsonValue(QJsonValue::Null) << 422 << "amount";
        QTest::newRow("amount empty") << "EUR daily" << "eur" << QJsonValue(QString()) << 422 << "amount";
        QTest::newRow("amount 40 digits") << "EUR daily" << "eur" << QJsonValue(QString(40, u'9')) << 422 << "amount";
        QTest::newRow("amount missing") << "EUR daily" << "eur" << QJsonValue(QJsonValue::Undefined) << 422 << "amount";
        QTest::newRow("insufficient funds") << "EUR daily" << "eur" << QJsonValue(QStringLiteral("100000.01")) << 409 << "insufficient-funds";
        QTest::newRow("insufficient ETH") << "ETH daily" << "eth" << QJsonValue(QStringLiteral("10.000000000000000001")) << 409 << "insufficient-funds";
    }
    void investRefusesBadInput()
    {
        QFETCH(QString, plan);
        QFETCH(QString, wallet);
        QFETCH(QJsonValue, amount);
        QFETCH(int, status);
        QFETCH(QString, field);
        const QString planId = m_plan.value(plan, plan);
        const QString walletId = wallet == QLatin1String("eur") ? m_aliceEur : wallet == QLatin1String("eth") ? m_aliceEth : wallet == QLatin1String("bob") ? m_bobEur : wallet;
        QJsonObject body;
        if (!planId.isEmpty())
            body.insert(QStringLiteral("plan_id"), planId);
        if (!walletId.isEmpty())
            body.insert(QStringLiteral("wallet_id"), walletId);
        if (!amount.isUndefined())
            body.insert(QStringLiteral("amount"), amount);
        const auto r = call("POST", "/api/v1/investments", compact(body), m_alice, newKey());
        CHECK(verifyProblem(r, status));
        if (status == 422) {
            const QJsonObject errors = r->json().value(QLatin1String("errors")).toObject();
            QVERIFY2(errors.contains(field), r->body.constData());
        } else if (!field.isEmpty()) {
            QVERIFY2(str(r->json(), "type").endsWith(u'/' + field), r->body.constData());
        }
        // Nothing moved, nothing opened.
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("100000.00"));
        QCOMPARE(balance(m_alice, m_aliceEth), QStringLiteral("10.000000000000000000"));
        QCOMPARE(balance(m_bob, m_bobEur), QStringLiteral("500.00"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position")), QStringLiteral("0"));
    }

    void investNeedsAnIdempotencyKeyAndAnObject()
    {
        const QByteArray body = compact({{QStringLiteral("plan_id"), m_plan.value(QStringLiteral("EUR daily"))}, {QStringLiteral("wallet_id"), m_aliceEur},
                                         {QStringLiteral("amount"), QStringLiteral("20.00")}});
        verifyProblem(call("POST", "/api/v1/investments", body), 401);
        verifyProblem(call("POST", "/api/v1/investments", body, m_alice), 400); // no Idempotency-Key
        verifyProblem(call("POST", "/api/v1/investments", "[]", m_alice, newKey()), 400);
        verifyProblem(call("POST", "/api/v1/investments", "{\"plan_id\":", m_alice, newKey()), 400);
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position")), QStringLiteral("0"));
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("100000.00"));
    }

    // Opens the positions the yield rule is checked on (before any clock jump); the first one
    // twice with the same key.
    void investDebitsTheWalletOnceAndReplays()
    {
        const QString key = newKey();
        const auto first = invest(m_alice, m_plan.value(QStringLiteral("EUR daily")), m_aliceEur, QStringLiteral("1000.00"), key);
        QVERIFY2(first && first->status == 201, qPrintable(describe(first)));
        const QJsonObject p = first->json();
        QVERIFY(!str(p, "id").isEmpty());
        QCOMPARE(str(p, "plan_id"), m_plan.value(QStringLiteral("EUR daily")));
        QCOMPARE(str(p, "wallet_id"), m_aliceEur);
        QCOMPARE(str(p, "currency"), QStringLiteral("EUR"));
        QCOMPARE(str(p, "amount_invested"), QStringLiteral("1000.00"));
        QCOMPARE(str(p, "yield_paid"), QStringLiteral("0.00"));
        QCOMPARE(str(p, "status"), QStringLiteral("active"));
        QVERIFY(p.value(QLatin1String("redeemed_at")).isNull());
        const QDateTime opened = QDateTime::fromString(str(p, "opened_at"), Qt::ISODateWithMs);
        QVERIFY2(opened.isValid() && std::abs(opened.secsTo(QDateTime::currentDateTimeUtc())) < 60, qPrintable(str(p, "opened_at")));
        QCOMPARE(str(p, "unlocks_at"), str(p, "opened_at")); // lock_days 0
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("99000.00"));

        // The same key and body: the first reply again, no second debit, no second position.
        const auto again = invest(m_alice, m_plan.value(QStringLiteral("EUR daily")), m_aliceEur, QStringLiteral("1000.00"), key);
        QVERIFY2(again && again->status == 201, qPrintable(describe(again)));
        QCOMPARE(again->body, first->body);
        QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
        // The same key with another body: 422.
        const auto reused = invest(m_alice, m_plan.value(QStringLiteral("EUR daily")), m_aliceEur, QStringLiteral("999.00"), key);
        CHECK(verifyProblem(reused, 422));
        QVERIFY2(str(reused->json(), "type").endsWith(QLatin1String("idempotency-key-reused")), reused->body.constData());
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("99000.00"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position")), QStringLiteral("1"));
        // The debit is one ledger movement of kind investment.
        const auto history = call("GET", QStringLiteral("/api/v1/wallets/%1/transactions").arg(m_aliceEur).toUtf8(), {}, m_alice);
        QVERIFY2(history && history->status == 200, qPrintable(describe(history)));
        const QJsonArray moves = history->json().value(QLatin1String("results")).toArray();
        QCOMPARE(moves.size(), 2);
        QCOMPARE(str(moves[0].toObject(), "kind"), QStringLiteral("investment"));
        QCOMPARE(str(moves[0].toObject(), "amount"), QStringLiteral("-1000.00"));
        QCOMPARE(str(moves[0].toObject(), "balance_after"), QStringLiteral("99000.00"));
        m_opened.append({QStringLiteral("EUR daily"), str(p, "id"), m_aliceEur, QStringLiteral("EUR"), QStringLiteral("1000.00"), QStringLiteral("0.05"), 1, 2, utcDate(p.value(QLatin1String("opened_at"))), {}});

        struct Spec
        {
            const char *plan, *wallet, *amount, *apy;
            int interval, decimals;
        };
        const Spec specs[] = {
            {"EUR weekly", "EUR", "2500.55", "0.0725", 7, 2},
            {"EUR monthly", "EUR", "777.77", "0.1234", 30, 2},
            {"EUR tiny", "EUR", "10.00", "0.01", 1, 2},
            {"ETH daily", "ETH", "1.5", "0.0333", 1, 18},
            {"ETH weekly", "ETH", "0.123456789012345678", "0.05", 7, 18},
            {"ETH monthly", "ETH", "2.000000000000000001", "0.07", 30, 18},
            {"EUR locked", "EUR", "500.00", "0.045", 1, 2},
            {"EUR daily", "EUR", "200.00", "0.05", 1, 2},   // redeemed on day 5: its 4 periods are still paid
            {"EUR weekly", "EUR", "300.00", "0.0725", 7, 2}, // redeemed on day 5: before its first period ends
            {"EUR daily", "EUR", "100.00", "0.05", 1, 2},   // redeemed at once
        };
        for (const Spec &s : specs) {
            const bool eur = QLatin1String(s.wallet) == QLatin1String("EUR");
            const auto r = invest(m_alice, m_plan.value(QLatin1String(s.plan)), eur ? m_aliceEur : m_aliceEth, QLatin1String(s.amount));
            QVERIFY2(r && r->status == 201, qPrintable(QString(QLatin1String(s.plan) + u' ' + describe(r))));
            const QJsonObject o = r->json();
            m_opened.append({QLatin1String(s.plan), str(o, "id"), eur ? m_aliceEur : m_aliceEth, QLatin1String(s.wallet), QLatin1String(s.amount), QLatin1String(s.apy),
                             s.interval, s.decimals, utcDate(o.value(QLatin1String("opened_at"))), {}});
            if (QLatin1String(s.plan) == QLatin1String("EUR locked")) {
                m_lockedPosition = str(o, "id");
                const QDateTime opened = QDateTime::fromString(str(o, "opened_at"), Qt::ISODateWithMs);
                QCOMPARE(QDateTime::fromString(str(o, "unlocks_at"), Qt::ISODateWithMs), opened.addDays(10));
            }
        }
        m_unlockedPosition = m_opened.last().id;
        m_dayFive = {m_opened[m_opened.size() - 3].id, m_opened[m_opened.size() - 2].id};
        // A second position of the same plan, with a principal of fewer decimals than ETH has.
        const auto second = invest(m_alice, m_plan.value(QStringLiteral("ETH weekly")), m_aliceEth, QStringLiteral("0.5"));
        QVERIFY2(second && second->status == 201, qPrintable(describe(second)));
        QCOMPARE(str(second->json(), "amount_invested"), QStringLiteral("0.500000000000000000"));
        m_opened.append({QStringLiteral("ETH weekly (2)"), str(second->json(), "id"), m_aliceEth, QStringLiteral("ETH"), QStringLiteral("0.5"), QStringLiteral("0.05"), 7, 18,
                         utcDate(second->json().value(QLatin1String("opened_at"))), {}});
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("94611.68")); // 100000 - 1000 - 2500.55 - 777.77 - 10 - 500 - 200 - 300 - 100
        QCOMPARE(balance(m_alice, m_aliceEth), QStringLiteral("5.876543210987654321")); // 10 - 1.5 - 0.123456789012345678 - 2.000000000000000001 - 0.5
        // Fresh positions have no yield yet.
        const auto yields = call("GET", QStringLiteral("/api/v1/investments/%1/yields").arg(m_opened.first().id).toUtf8(), {}, m_alice);
        QVERIFY2(yields && yields->status == 200, qPrintable(describe(yields)));
        QCOMPARE(yields->json().value(QLatin1String("results")).toArray().size(), 0);
        CHECK(verifyBooksReconcile());
    }

    void otherUsersPositionsAre404()
    {
        const QString mine = m_opened.first().id;
        verifyProblem(call("GET", QStringLiteral("/api/v1/investments/%1").arg(mine).toUtf8(), {}, m_bob), 404);
        verifyProblem(call("GET", QStringLiteral("/api/v1/investments/%1/yields").arg(mine).toUtf8(), {}, m_bob), 404);
        verifyProblem(redeem(m_bob, mine), 404);
        verifyProblem(call("GET", "/api/v1/investments/not-a-uuid", {}, m_alice), 404);
        verifyProblem(call("GET", QStringLiteral("/api/v1/investments/%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces)).toUtf8(), {}, m_alice), 404);
        verifyProblem(redeem(m_alice, QStringLiteral("not-a-uuid")), 404);
        verifyProblem(call("GET", QStringLiteral("/api/v1/investments/%1").arg(mine).toUtf8()), 401);
        // Bob's list is empty; the same 404 body for another's position and a missing one.
        const auto list = call("GET", "/api/v1/investments", {}, m_bob);
        QVERIFY2(list && list->status == 200, qPrintable(describe(list)));
        QCOMPARE(list->json().value(QLatin1String("results")).toArray().size(), 0);
        const auto other = call("GET", QStringLiteral("/api/v1/investments/%1").arg(mine).toUtf8(), {}, m_bob);
        const auto missing = call("GET", QStringLiteral("/api/v1/investments/%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces)).toUtf8(), {}, m_bob);
        QVERIFY(other && missing);
        QCOMPARE(str(other->json(), "detail"), str(missing->json(), "detail"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position WHERE status <> 'active'")), QStringLiteral("0"));
    }

    void theListIsNewestFirstAndPaged()
    {
        QStringList paged;
        QString cursor;
        QDateTime previous;
        for (int page = 0; page < 10; ++page) {
            const auto r = call("GET", QStringLiteral("/api/v1/investments?limit=3%1").arg(cursor.isEmpty() ? QString() : QString(QStringLiteral("&cursor=") + cursor)).toUtf8(), {}, m_alice);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            for (const QJsonValue &v : r->json().value(QLatin1String("results")).toArray()) {
                const QJsonObject p = v.toObject();
                const QDateTime at = QDateTime::fromString(str(p, "opened_at"), Qt::ISODateWithMs);
                QVERIFY2(!previous.isValid() || at <= previous, qPrintable(str(p, "opened_at")));
                previous = at;
                paged.append(str(p, "id"));
            }
            const QJsonValue next = r->json().value(QLatin1String("next"));
            if (next.isNull())
                break;
            cursor = QString::fromUtf8(QUrl::toPercentEncoding(next.toString()));
            QVERIFY2(!cursor.isEmpty(), qPrintable(next.toString()));
        }
        QStringList expected;
        for (const Opened &o : std::as_const(m_opened))
            expected.prepend(o.id);
        QCOMPARE(paged, expected);
        verifyProblem(call("GET", "/api/v1/investments?status=closed", {}, m_alice), 422);
        const auto redeemed = call("GET", "/api/v1/investments?status=redeemed", {}, m_alice);
        QVERIFY2(redeemed && redeemed->status == 200, qPrintable(describe(redeemed)));
        QCOMPARE(redeemed->json().value(QLatin1String("results")).toArray().size(), 0);
    }

    // --- redeem, with the test clock ---

    void redeemIsRefusedWhileLocked()
    {
        // lock_days 0: redeemable at once; the principal goes back as kind redemption.
        const auto r = redeem(m_alice, m_unlockedPosition);
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        QCOMPARE(str(r->json(), "status"), QStringLiteral("redeemed"));
        QVERIFY(!str(r->json(), "redeemed_at").isEmpty());
        for (Opened &o : m_opened)
            if (o.id == m_unlockedPosition)
                o.endsOn = utcDate(r->json().value(QLatin1String("redeemed_at")));
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("94711.68"));

        // lock_days 10: 409 now, and still 409 five days later.
        auto locked = redeem(m_alice, m_lockedPosition);
        CHECK(verifyProblem(locked, 409));
        QVERIFY2(str(locked->json(), "type").endsWith(QLatin1String("/position-locked")), locked->body.constData());
        CHECK(advanceDays(5));
        locked = redeem(m_alice, m_lockedPosition);
        CHECK(verifyProblem(locked, 409));
        QVERIFY2(str(locked->json(), "type").endsWith(QLatin1String("/position-locked")), locked->body.constData());
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("94711.68"));
        const auto got = call("GET", QStringLiteral("/api/v1/investments/%1").arg(m_lockedPosition).toUtf8(), {}, m_alice);
        QVERIFY2(got && got->status == 200, qPrintable(describe(got)));
        QCOMPARE(str(got->json(), "status"), QStringLiteral("active"));

        // Two positions redeemed on day 5: a daily one with 4 periods ended and not yet paid (the
        // next run pays them), a weekly one whose first period had not ended (it never earns).
        for (const QString &id : std::as_const(m_dayFive)) {
            const auto out = redeem(m_alice, id);
            QVERIFY2(out && out->status == 200, qPrintable(describe(out)));
            for (Opened &o : m_opened)
                if (o.id == id)
                    o.endsOn = utcDate(out->json().value(QLatin1String("redeemed_at")));
        }
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("95211.68"));
    }

    void redeemAfterTheLockPaysThePrincipalBackOnce()
    {
        CHECK(advanceDays(26)); // 31 days in all
        m_redeemKey = newKey();
        const auto r = redeem(m_alice, m_lockedPosition, m_redeemKey);
        QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
        const QJsonObject p = r->json();
        QCOMPARE(str(p, "status"), QStringLiteral("redeemed"));
        QCOMPARE(str(p, "amount_invested"), QStringLiteral("500.00"));
        const QDate redeemedOn = utcDate(p.value(QLatin1String("redeemed_at")));
        QCOMPARE(redeemedOn, hostToday());
        for (Opened &o : m_opened)
            if (o.id == m_lockedPosition)
                o.endsOn = redeemedOn;
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("95711.68"));
        // A replay answers the same and pays nothing again; a new key is 409 position-state.
        const auto again = redeem(m_alice, m_lockedPosition, m_redeemKey);
        QVERIFY2(again && again->status == 200, qPrintable(describe(again)));
        QCOMPARE(again->body, r->body);
        QCOMPARE(again->header("idempotent-replayed"), QByteArray("true"));
        const auto twice = redeem(m_alice, m_lockedPosition);
        CHECK(verifyProblem(twice, 409));
        QVERIFY2(str(twice->json(), "type").endsWith(QLatin1String("/position-state")), twice->body.constData());
        QCOMPARE(balance(m_alice, m_aliceEur), QStringLiteral("95711.68"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_entry WHERE account_id = '%1' AND kind = 'redemption'").arg(m_aliceEur)), QStringLiteral("4"));
        // Lists by status.
        const auto redeemed = call("GET", "/api/v1/investments?status=redeemed", {}, m_alice);
        QVERIFY2(redeemed && redeemed->status == 200, qPrintable(describe(redeemed)));
        QSet<QString> ids;
        for (const QJsonValue &v : redeemed->json().value(QLatin1String("results")).toArray()) {
            QCOMPARE(str(v.toObject(), "status"), QStringLiteral("redeemed"));
            ids.insert(str(v.toObject(), "id"));
        }
        QCOMPARE(ids, (QSet<QString>{m_lockedPosition, m_unlockedPosition, m_dayFive[0], m_dayFive[1]}));
        const auto active = call("GET", "/api/v1/investments?status=active", {}, m_alice);
        QVERIFY2(active && active->status == 200, qPrintable(describe(active)));
        QCOMPARE(active->json().value(QLatin1String("results")).toArray().size(), m_opened.size() - 4);
        CHECK(verifyBooksReconcile());
    }

    // --- the yield rule, end to end ---

    void theYieldRuleEndToEnd()
    {
        const QDate before = hostToday();
        const QString id = enqueue({}); // as_of: the host clock's date
        QVERIFY(!id.isEmpty());
        QVERIFY2(waitDone(id), qPrintable(QString(job(id) + u'\n' + logs())));
        m_asOf = hostToday();
        if (m_asOf != before)
            QSKIP("the run crossed midnight UTC: the expected periods depend on which side it ran");
        QCOMPARE(m_asOf, m_opened.first().openedOn.addDays(31));

        QJsonArray cases;
        QList<QJsonObject> positions;
        for (const Opened &o : std::as_const(m_opened)) {
            const auto r = call("GET", QStringLiteral("/api/v1/investments/%1").arg(o.id).toUtf8(), {}, m_alice);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            positions.append(r->json());
            QJsonObject c{{QStringLiteral("principal"), o.principal}, {QStringLiteral("apy"), o.apy}, {QStringLiteral("interval"), o.interval},
                          {QStringLiteral("decimals"), o.decimals}, {QStringLiteral("opened"), o.openedOn.toString(Qt::ISODate)},
                          {QStringLiteral("as_of"), m_asOf.toString(Qt::ISODate)}, {QStringLiteral("reported"), str(r->json(), "yield_paid")}};
            if (o.endsOn.isValid())
                c.insert(QStringLiteral("ends"), o.endsOn.toString(Qt::ISODate));
            cases.append(c);
        }
        const QJsonArray expected = yieldRule(cases);
        QCOMPARE(expected.size(), cases.size());

        int allPeriods = 0;
        for (qsizetype i = 0; i < m_opened.size(); ++i) {
            const Opened &o = m_opened[i];
            const QJsonObject want = expected[i].toObject();
            const QJsonArray periods = want.value(QLatin1String("periods")).toArray();
            allPeriods += periods.size();
            const QString what = QStringLiteral("%1 (%2 %3 at %4, opened %5)").arg(o.label, o.principal, o.currency, o.apy, o.openedOn.toString(Qt::ISODate));
            // The count the rule gives for 31 days: 30 daily, 4 weekly, 1 monthly; none after a
            // redemption on the opening day.
            const QDate last = o.endsOn.isValid() ? std::min(o.endsOn, m_asOf) : m_asOf;
            const int count = int(std::max<qint64>(0, (o.openedOn.daysTo(last) - 1) / o.interval));
            QVERIFY2(o.endsOn.isValid() || count == (o.interval == 1 ? 30 : o.interval == 7 ? 4 : 1), qPrintable(what));
            QVERIFY2(periods.size() == count, qPrintable(what));

            const auto r = call("GET", QStringLiteral("/api/v1/investments/%1/yields?limit=100").arg(o.id).toUtf8(), {}, m_alice);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            const QJsonArray got = r->json().value(QLatin1String("results")).toArray();
            QVERIFY2(got.size() == periods.size(), qPrintable(QStringLiteral("%1: %2 periods paid, the rule gives %3").arg(what).arg(got.size()).arg(periods.size())));
            for (qsizetype k = 0; k < got.size(); ++k) {
                const QJsonObject y = got[k].toObject();
                const QJsonObject p = periods[periods.size() - 1 - k].toObject(); // newest first
                const QString at = QStringLiteral("%1, period %2: got %3").arg(what).arg(p.value(QLatin1String("index")).toInt()).arg(QString::fromUtf8(QJsonDocument(y).toJson(QJsonDocument::Compact)));
                QVERIFY2(str(y, "period_start") == str(p, "start"), qPrintable(QString(at + QStringLiteral(", expected start ") + str(p, "start"))));
                QVERIFY2(str(y, "period_end") == str(p, "end"), qPrintable(QString(at + QStringLiteral(", expected end ") + str(p, "end"))));
                QVERIFY2(str(y, "amount") == str(p, "amount"), qPrintable(QString(at + QStringLiteral(", expected amount ") + str(p, "amount"))));
                QVERIFY2(str(y, "currency") == o.currency && str(y, "status") == QLatin1String("paid") && !str(y, "id").isEmpty(), qPrintable(at));
                const bool zero = str(p, "amount").remove(u'0').remove(u'.').isEmpty();
                QVERIFY2(zero ? y.value(QLatin1String("tx_hash")).isNull() : isTxHash(y.value(QLatin1String("tx_hash"))), qPrintable(at));
            }
            // The total: exactly the rule's, within half a minor unit of P x apy x days / 365.
            QVERIFY2(str(positions[i], "yield_paid") == str(want, "paid"),
                     qPrintable(QStringLiteral("%1: yield_paid %2, the rule gives %3").arg(what, str(positions[i], "yield_paid"), str(want, "paid"))));
            QVERIFY2(want.value(QLatin1String("within_half_unit")).toBool(),
                     qPrintable(QStringLiteral("%1: paid %2, exact %3").arg(what, str(positions[i], "yield_paid"), str(want, "exact"))));
            // Its ledger side: one yield transaction per non-zero period, to its wallet, summing to yield_paid.
            const int nonzero = want.value(QLatin1String("nonzero")).toInt();
            QCOMPARE(sql(QStringLiteral("SELECT count(*) || ' ' || (coalesce(sum(e.amount), 0) = %3::numeric) FROM wallets_transaction t JOIN wallets_entry e ON e.transaction_id = t.id "
                                        "WHERE t.kind = 'yield' AND t.reference LIKE 'yield:%1:%%' AND e.account_id = '%2'")
                             .arg(o.id, o.wallet, str(want, "paid"))),
                     QStringLiteral("%1 true").arg(nonzero));
            QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'yield.paid' AND data->>'investment_id' = '%1'").arg(o.id)), QString::number(nonzero));
        }
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield")), QString::number(allPeriods));
        // Pages of 7 give the daily position's 30 periods once each, newest first.
        QList<QDate> ends;
        QString cursor;
        for (int page = 0; page < 10; ++page) {
            const auto r = call("GET", QStringLiteral("/api/v1/investments/%1/yields?limit=7%2").arg(m_opened.first().id, cursor.isEmpty() ? QString() : QString(QStringLiteral("&cursor=") + cursor)).toUtf8(), {}, m_alice);
            QVERIFY2(r && r->status == 200, qPrintable(describe(r)));
            for (const QJsonValue &v : r->json().value(QLatin1String("results")).toArray())
                ends.append(QDate::fromString(str(v.toObject(), "period_end"), Qt::ISODate));
            const QJsonValue next = r->json().value(QLatin1String("next"));
            if (next.isNull())
                break;
            cursor = QString::fromUtf8(QUrl::toPercentEncoding(next.toString()));
        }
        QCOMPARE(ends.size(), 30);
        for (qsizetype k = 0; k < ends.size(); ++k)
            QCOMPARE(ends[k], m_asOf.addDays(-k));
        // Redeemed on day 5: the daily position's 4 ended periods were paid after; the weekly none.
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield WHERE position_id = '%1'").arg(m_dayFive[0])), QStringLiteral("4"));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield WHERE position_id = '%1'").arg(m_dayFive[1])), QStringLiteral("0"));
        // The tiny principal: 18 periods of 0.00 (no tx hash), then 0.01, then zeros.
        QCOMPARE(sql(QStringLiteral("SELECT string_agg(period_index::text, ',') FROM investments_yield WHERE position_id = '%1' AND amount > 0").arg(m_opened[3].id)), QStringLiteral("19"));
        // The wallets: each history shows the yields, and the balance is the sum of the entries.
        for (const QString &wallet : {m_aliceEur, m_aliceEth}) {
            const auto h = call("GET", QStringLiteral("/api/v1/wallets/%1/transactions?limit=500").arg(wallet).toUtf8(), {}, m_alice);
            QVERIFY2(h && h->status == 200, qPrintable(describe(h)));
            int yields = 0;
            for (const QJsonValue &v : h->json().value(QLatin1String("results")).toArray())
                yields += str(v.toObject(), "kind") == QLatin1String("yield");
            QCOMPARE(QString::number(yields), sql(QStringLiteral("SELECT count(*) FROM investments_yield y JOIN investments_position p ON p.id = y.position_id WHERE p.wallet_id = '%1' AND y.amount > 0").arg(wallet)));
            QCOMPARE(sql(QStringLiteral("SELECT sum(amount) = (SELECT balance FROM wallets_account WHERE id = '%1') FROM wallets_entry WHERE account_id = '%1'").arg(wallet)), QStringLiteral("t"));
            QCOMPARE(sql(QStringLiteral("SELECT '%2'::numeric = (SELECT balance FROM wallets_account WHERE id = '%1')").arg(wallet, balance(m_alice, wallet))), QStringLiteral("t"));
        }
        // The expected balance, computed here: deposits - principals + principals redeemed + yields.
        QCOMPARE(sql(QStringLiteral("SELECT balance = 100000.00 - 1000.00 - 2500.55 - 777.77 - 10.00 - 500.00 - 200.00 - 300.00 - 100.00 + 100.00 + 200.00 + 300.00 + 500.00 + "
                                    "(SELECT sum(amount) FROM investments_yield y JOIN investments_position p ON p.id = y.position_id WHERE p.wallet_id = '%1') "
                                    "FROM wallets_account WHERE id = '%1'").arg(m_aliceEur)),
                 QStringLiteral("t"));
        // portfolio.changed for the owner, once per batch.
        QVERIFY(sql(QStringLiteral("SELECT count(*) FROM host_outbox WHERE topic = 'portfolio.changed' AND user_id = '%1' AND data->>'reason' = 'yield_paid'").arg(m_aliceId)).toInt() >= 1);
        CHECK(verifyBooksReconcile());
    }

    void runningAgainPaysNothingNew()
    {
        const QString rows = sql(QStringLiteral("SELECT count(*) || ' ' || sum(amount) FROM investments_yield"));
        const QString ledger = sql(QStringLiteral("SELECT count(*) FROM wallets_entry"));
        // As of the same date (explicitly), and again by default.
        for (const QJsonObject &args : {QJsonObject{{QStringLiteral("as_of"), m_asOf.toString(Qt::ISODate)}}, QJsonObject{}}) {
            const QString id = enqueue(args);
            QVERIFY(!id.isEmpty());
            QVERIFY2(waitDone(id), qPrintable(QString(job(id) + u'\n' + logs())));
            QVERIFY2(periodsPaidBy(*m_worker, id) == 0, qPrintable(m_worker->output().right(2000)));
        }
        QCOMPARE(sql(QStringLiteral("SELECT count(*) || ' ' || sum(amount) FROM investments_yield")), rows);
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_entry")), ledger);
        // A bad as_of is a failed run that pays nothing.
        const QString bad = enqueue({{QStringLiteral("as_of"), QStringLiteral("yesterday")}});
        QVERIFY(!bad.isEmpty());
        QVERIFY2(waitUntil([&] { return job(bad).section(u'|', 2).contains(QLatin1String("as_of")); }, 30000), qPrintable(job(bad)));
        call("POST", QStringLiteral("/api/v1/admin/jobs/%1/cancel").arg(bad).toUtf8(), {}, m_staff); // no retries (409 if it already gave up)
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM wallets_entry")), ledger);
        CHECK(verifyBooksReconcile());
    }

    // --- many positions, several workers, a crash ---

    void twoWorkersPayEachPeriodOnce()
    {
        // The book's owners: registered and funded through the API.
        for (int i = 0; i < 4; ++i) {
            QString id;
            const QByteArray token = signUp(QStringLiteral("book%1@example.com").arg(i), &id);
            QVERIFY(!token.isEmpty());
            const QString wallet = fundedWallet(token, QStringLiteral("EUR"), QStringLiteral("10000000.00"));
            QVERIFY(!wallet.isEmpty());
            m_bookWallets.append(wallet);
        }
        QElapsedTimer timer;
        timer.start();
        // 2,000 positions: daily ones 1-6 periods behind, weekly 1-3, monthly 1.
        CHECK(seedBook(m_bookWallets, 2000,
                       QStringLiteral("CASE g.i WHEN 1 THEN 2 + g.g / 3 % 6 WHEN 7 THEN 8 + g.g / 3 % 15 ELSE 31 + g.g / 3 % 10 END"), {1, 7, 30}));
        qInfo("seeded 2,000 positions in %lld ms", timer.elapsed());
        CHECK(verifyBooksReconcile());
        const QDate asOf = hostToday();

        QProcessEnvironment small;
        small.insert(QStringLiteral("YIELDHOST_INVESTMENTS__YIELD_BATCH_SIZE"), QStringLiteral("50"));
        std::vector<HostProcess *> workers;
        for (int i = 0; i < 2; ++i) {
            m_extraWorkers.push_back(m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("book"), QStringLiteral("--concurrency"), QStringLiteral("1")}, small));
            QVERIFY(m_extraWorkers.back());
            workers.push_back(m_extraWorkers.back().get());
        }
        QVERIFY(waitUntil([&] { return sql(QStringLiteral("SELECT count(*) FROM host_worker WHERE 'book' = ANY(queues)")) == QLatin1String("2"); }, 30000));
        // Both runs are made to overlap: the yield pool is held until each worker waits on it
        // with a batch of its own claimed.
        LockHolder pool;
        QVERIFY(pool.hold(m_cluster.databaseUrl(), QStringLiteral("SELECT id FROM wallets_account WHERE system_name = 'yield_pool' AND currency = 'EUR' FOR UPDATE")));
        const QJsonObject args{{QStringLiteral("as_of"), asOf.toString(Qt::ISODate)}};
        const QString a = enqueue(args, QStringLiteral("book"));
        const QString b = enqueue(args, QStringLiteral("book"));
        QVERIFY(!a.isEmpty() && !b.isEmpty());
        const bool bothWait = waitUntil([&] {
            return sql(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).toInt() >= 2;
        }, 30000);
        pool.release();
        QVERIFY2(bothWait, qPrintable(logs()));
        timer.restart();
        QVERIFY2(waitDone(a) && waitDone(b), qPrintable(QString(job(a) + u'\n' + job(b) + u'\n' + logs())));
        qInfo("two workers paid the book in %lld ms", timer.elapsed());
        // One attempt each, on two different workers, each of which paid part of the book.
        QCOMPARE(sql(QStringLiteral("SELECT count(DISTINCT worker) || ' ' || max(attempts) FROM host_job WHERE id IN (%1, %2)").arg(a, b)), QStringLiteral("2 1"));
        int paidByA = -1, paidByB = -1;
        for (HostProcess *w : workers) {
            paidByA = std::max(paidByA, periodsPaidBy(*w, a));
            paidByB = std::max(paidByB, periodsPaidBy(*w, b));
        }
        QVERIFY2(paidByA > 0 && paidByB > 0, qPrintable(logs()));

        const int due = verifyBookAgainstTheRule(m_bookWallets, asOf);
        QVERIFY2(due > 0, "the book differs from the rule (see the warnings)");
        QCOMPARE(paidByA + paidByB, due);
        m_firstBookPeriods = due;
        qInfo("%d periods: %d by one worker, %d by the other", due, paidByA, paidByB);
        CHECK(verifyBooksReconcile());
    }

    void yieldRowsNamePositionsThatStay()
    {
        // Checked once per INSERT statement (investments migration 0005), not per row; a position
        // cannot be removed or given another id.
        const QString position = sql(QStringLiteral("SELECT min(id::text) FROM investments_position"));
        QVERIFY(!position.isEmpty());
        QString error = m_cluster.sqlError(QStringLiteral(
            "INSERT INTO investments_yield (position_id, period_index, period_start, period_end, amount, currency) VALUES "
            "('%1', 10000, '2026-01-01', '2026-01-02', 0, 'EUR'), (gen_random_uuid(), 1, '2026-01-01', '2026-01-02', 0, 'EUR')").arg(position));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("investments_yield_position_id_fkey")), qPrintable(error));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield WHERE period_index = 10000")), QStringLiteral("0"));
        error = m_cluster.sqlError(QStringLiteral("UPDATE investments_yield SET position_id = gen_random_uuid() WHERE id = (SELECT min(id::text)::uuid FROM investments_yield)"));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("investments_yield_position_id_fkey")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("DELETE FROM investments_position WHERE id = '%1'").arg(position));
        QVERIFY2(error.contains(QLatin1String("23503")) && error.contains(QLatin1String("investments_yield_position_id_fkey")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("UPDATE investments_position SET id = gen_random_uuid() WHERE id = '%1'").arg(position));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        error = m_cluster.sqlError(QStringLiteral("TRUNCATE investments_position CASCADE"));
        QVERIFY2(error.contains(QLatin1String("23503")), qPrintable(error));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_position WHERE id = '%1'").arg(position)), QStringLiteral("1"));
    }

    void aWorkerKilledMidRunLeavesEveryPeriodPaidOnce()
    {
        // Another 1,500 daily positions 2-7 days behind, plus 200 in a wallet of their own that
        // fall due last (opened 2 days ago): holding that wallet's row stops the run in the
        // middle of a batch, after earlier batches have committed, with four batches to go.
        QString lateUser;
        const QByteArray token = signUp(QStringLiteral("late@example.com"), &lateUser);
        QVERIFY(!token.isEmpty());
        m_lateWallet = fundedWallet(token, QStringLiteral("EUR"), QStringLiteral("1000000.00"));
        QVERIFY(!m_lateWallet.isEmpty());
        CHECK(seedBook(m_bookWallets, 1500, QStringLiteral("3 + g.g % 6"), {1}));
        CHECK(seedBook({m_lateWallet}, 200, QStringLiteral("2"), {1}));
        const QDate asOf = hostToday();
        const int before = sql(QStringLiteral("SELECT count(*) FROM investments_yield")).toInt();

        QProcessEnvironment small;
        small.insert(QStringLiteral("YIELDHOST_INVESTMENTS__YIELD_BATCH_SIZE"), QStringLiteral("50"));
        small.insert(QStringLiteral("YIELDHOST_INVESTMENTS__YIELD_LANES"), QStringLiteral("2"));
        m_extraWorkers.push_back(m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("crash"), QStringLiteral("--concurrency"), QStringLiteral("1")}, small));
        QVERIFY(m_extraWorkers.back());
        HostProcess &doomed = *m_extraWorkers.back();
        QVERIFY(waitUntil([&] { return sql(QStringLiteral("SELECT count(*) FROM host_worker WHERE 'crash' = ANY(queues)")) == QLatin1String("1"); }, 30000));

        LockHolder late;
        QVERIFY(late.hold(m_cluster.databaseUrl(), QStringLiteral("SELECT id FROM wallets_account WHERE id = '%1' FOR UPDATE").arg(m_lateWallet)));
        const QString id = enqueue({{QStringLiteral("as_of"), asOf.toString(Qt::ISODate)}}, QStringLiteral("crash"));
        QVERIFY(!id.isEmpty());
        // A row lock wait (transactionid/tuple), not the brief commit-time lock of NOTIFY
        // (object) that other processes' outbox commits take: both lanes' batches blocked, on
        // the wallet or behind the one that holds the yield pool, so nothing commits any more.
        const bool stuck = waitUntil([&] {
            return sql(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                                      "AND wait_event IN ('transactionid', 'tuple') AND query LIKE '%wallets_account%'")).toInt() >= 2;
        }, 60000);
        const int committed = sql(QStringLiteral("SELECT count(*) FROM investments_yield")).toInt() - before;
        doomed.process().kill(); // SIGKILL, in the middle of a batch
        QVERIFY(doomed.process().waitForFinished(10000));
        late.release();
        QVERIFY2(stuck, qPrintable(QString(job(id) + u'\n' + logs())));
        // The killed batch left nothing; the earlier ones stay, and everything reconciles.
        QVERIFY(waitUntil([&] { return sql(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) == QLatin1String("0"); }, 20000));
        QTest::qWait(500);
        const int afterKill = sql(QStringLiteral("SELECT count(*) FROM investments_yield")).toInt() - before;
        QVERIFY2(committed > 0 && afterKill == committed, qPrintable(QStringLiteral("%1 periods paid when killed, %2 after").arg(committed).arg(afterKill)));
        const QString killed = job(id).section(u'|', 0, 1); // running, or already rescued (pending)
        QVERIFY2(killed == QLatin1String("running|1") || killed == QLatin1String("pending|1"), qPrintable(killed));
        CHECK(verifyBooksReconcile());

        // A new worker on the queue: the dead one's job is rescued and runs again.
        m_extraWorkers.push_back(m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("crash")}));
        QVERIFY(m_extraWorkers.back());
        QElapsedTimer timer;
        timer.start();
        QVERIFY2(waitDone(id, 90000), qPrintable(QString(job(id) + u'\n' + logs())));
        QCOMPARE(job(id).section(u'|', 0, 1), QStringLiteral("done|2"));
        qInfo("%d periods paid before the kill; the rescued run finished %lld ms after the new worker started", committed, timer.elapsed());
        const int rerun = periodsPaidBy(*m_extraWorkers.back(), id);

        QStringList all = m_bookWallets;
        all.append(m_lateWallet);
        const int due = verifyBookAgainstTheRule(all, asOf) - m_firstBookPeriods; // the same wallets hold the first book
        QVERIFY2(due > 0, "the book differs from the rule (see the warnings)");
        QVERIFY2(committed < due && rerun == due - committed, qPrintable(QStringLiteral("due %1, paid %2 before the kill and %3 after").arg(due).arg(committed).arg(rerun)));
        QCOMPARE(sql(QStringLiteral("SELECT count(*) FROM investments_yield")).toInt() - before, due);
        CHECK(verifyBooksReconcile());
    }

    void oneRunPaysSeveralBatchesAtOnce()
    {
        // Three owners of their own, 100 daily positions each, all opened three days ago, batches
        // of 20 in three lanes. Claims go by user, so the first owner's positions come first.
        QStringList wallets;
        for (int i = 0; i < 3; ++i) {
            QString id;
            const QByteArray token = signUp(QStringLiteral("lanes%1@example.com").arg(i), &id);
            QVERIFY(!token.isEmpty());
            wallets.append(fundedWallet(token, QStringLiteral("EUR"), QStringLiteral("100000.00")));
            QVERIFY(!wallets.last().isEmpty());
        }
        std::sort(wallets.begin(), wallets.end(), [this](const QString &a, const QString &b) {
            return sql(QStringLiteral("SELECT (SELECT user_id FROM wallets_account WHERE id = '%1') < (SELECT user_id FROM wallets_account WHERE id = '%2')").arg(a, b)) == QLatin1String("t");
        });
        CHECK(seedBook(wallets, 300, QStringLiteral("3"), {1}));
        const QDate asOf = hostToday();
        const QString paidIn = QStringLiteral("SELECT count(*) FROM investments_yield y JOIN investments_position p ON p.id = y.position_id WHERE p.wallet_id IN ('%1')");

        QProcessEnvironment lanes;
        lanes.insert(QStringLiteral("YIELDHOST_INVESTMENTS__YIELD_BATCH_SIZE"), QStringLiteral("20"));
        lanes.insert(QStringLiteral("YIELDHOST_INVESTMENTS__YIELD_LANES"), QStringLiteral("3"));
        m_extraWorkers.push_back(m_cluster.start({QStringLiteral("worker"), QStringLiteral("--queues"), QStringLiteral("lanes"), QStringLiteral("--concurrency"), QStringLiteral("1")}, lanes));
        QVERIFY(m_extraWorkers.back());
        HostProcess &worker = *m_extraWorkers.back();
        QVERIFY(waitUntil([&] { return sql(QStringLiteral("SELECT count(*) FROM host_worker WHERE 'lanes' = ANY(queues)")) == QLatin1String("1"); }, 30000));
        // The second and third owners' wallets held: the first batch (it runs alone) goes
        // through, then the lanes take the rest until each stops at a batch it cannot post —
        // three batches waiting at once, all from one run of one job.
        LockHolder held;
        QVERIFY(held.hold(m_cluster.databaseUrl(), QStringLiteral("SELECT id FROM wallets_account WHERE id IN ('%1', '%2') FOR UPDATE").arg(wallets[1], wallets[2])));
        const QString id = enqueue({{QStringLiteral("as_of"), asOf.toString(Qt::ISODate)}}, QStringLiteral("lanes"));
        QVERIFY(!id.isEmpty());
        const bool threeWait = waitUntil([&] {
            return sql(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                                      "AND wait_event IN ('transactionid', 'tuple') AND query LIKE '%wallets_account%'")).toInt() >= 3;
        }, 30000);
        const int firstOwner = sql(paidIn.arg(wallets[0])).toInt();
        const int others = sql(paidIn.arg(wallets.mid(1).join(QStringLiteral("', '")))).toInt();
        held.release();
        QVERIFY2(threeWait, qPrintable(QString(job(id) + u'\n' + logs())));
        // At least the first batch (it commits before the lanes start); the rest of the first
        // owner's may wait behind a lane that holds the yield pool while it waits for a held wallet.
        QVERIFY2(firstOwner > 0, qPrintable(QString::number(firstOwner)));
        QCOMPARE(others, 0);
        QVERIFY2(waitDone(id), qPrintable(QString(job(id) + u'\n' + logs())));
        const int due = verifyBookAgainstTheRule(wallets, asOf);
        QVERIFY2(due > 0, "the book differs from the rule (see the warnings)");
        QCOMPARE(periodsPaidBy(worker, id), due);
        CHECK(verifyBooksReconcile());
    }
};

QTEST_GUILESS_MAIN(TestInvestments)
#include "tst_investments.moc"
