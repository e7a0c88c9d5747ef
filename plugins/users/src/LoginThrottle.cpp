#include "LoginThrottle.h"

#include <QtCore/QUuid>

namespace yieldhost::users {

namespace {
QString pairKey(const QString &account, const QString &address) { return account + u'\n' + address; }

// One decision at a time per key, the locks always taken in the order given (so two decisions
// cannot deadlock). A flood on one key must not hold every DB thread waiting: give up after a
// second, which the caller reports as unavailable (503).
Status lockKeys(SqlTransaction &tx, const QStringList &keys)
{
    const SqlResult timeout = tx.exec(QStringLiteral("SET LOCAL lock_timeout = '1s'"));
    if (timeout.error())
        return Status::failure(timeout.error().message);
    for (const QString &key : keys) {
        const SqlResult locked = tx.exec(QStringLiteral("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))"), {key});
        if (locked.error())
            return Status::failure(locked.error().message);
    }
    return {};
}
} // namespace

QCoro::Task<LoginThrottle::Reservation> LoginThrottle::decideIn(std::function<Status(SqlTransaction &, Reservation &)> decide)
{
    Reservation reservation;
    auto work = [&](SqlTransaction &tx) -> Status { return decide(tx, reservation); };
    const TransactionOutcome outcome = co_await m_db.transaction(std::move(work));
    if (!outcome.committed) {
        reservation = Reservation{};
        reservation.unavailable = true;
    }
    co_return reservation;
}

QString LoginThrottle::addressKey(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        return QHostAddress(v4).toString();
    Q_IPV6ADDR bytes = address.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

qint64 LoginThrottle::retryAfter(const Counts &c, const Limits &limits, const QDateTime &now)
{
    qint64 wait = 0;
    auto until = [&](const QDateTime &when) { wait = std::max(wait, std::max<qint64>(1, now.secsTo(when))); };
    if (c.pair >= limits.perPair)
        until(c.oldestPair.addSecs(limits.windowSeconds));
    if (c.address >= limits.perAddress)
        until(c.oldestAddress.addSecs(limits.windowSeconds));
    if (c.account >= limits.perAccount && c.pair > 0) {
        const qint64 doublings = std::min<qint64>(c.account - limits.perAccount, 30);
        const qint64 delay = std::min(limits.windowSeconds, limits.accountDelaySeconds << doublings);
        const QDateTime allowed = c.newestAccount.addSecs(delay);
        if (allowed > now)
            until(allowed);
    }
    return wait;
}

QCoro::Task<LoginThrottle::Reservation> LoginThrottle::reserve(QString account, QString address, QDateTime now)
{
    const Limits limits = m_limits;
    auto decide = [=](SqlTransaction &tx, Reservation &reservation) -> Status {
        const QStringList keys{QString(QStringLiteral("users.login.account:") + account), QString(QStringLiteral("users.login.address:") + address)};
        if (Status locked = lockKeys(tx, keys); !locked)
            return locked;
        const SqlResult r = tx.exec(QStringLiteral(
            "SELECT scope, count(*) AS n, min(failed_at) AS oldest, max(failed_at) AS newest FROM users_login_failure "
            "WHERE ((scope = 'account' AND key = ?) OR (scope = 'address' AND key = ?) OR (scope = 'pair' AND key = ?)) "
            "  AND failed_at > ? GROUP BY scope"),
            {account, address, pairKey(account, address), now.addSecs(-limits.windowSeconds)});
        if (r.error())
            return Status::failure(r.error().message);
        Counts counts;
        for (qsizetype i = 0; i < r.size(); ++i) {
            const QString scope = r.string(i, QStringLiteral("scope"));
            const qint64 n = r.integer(i, QStringLiteral("n"));
            if (scope == QLatin1String("pair")) {
                counts.pair = n;
                counts.oldestPair = r.value(i, QStringLiteral("oldest")).toDateTime();
            } else if (scope == QLatin1String("address")) {
                counts.address = n;
                counts.oldestAddress = r.value(i, QStringLiteral("oldest")).toDateTime();
            } else {
                counts.account = n;
                counts.newestAccount = r.value(i, QStringLiteral("newest")).toDateTime();
            }
        }
        reservation.retryAfter = retryAfter(counts, limits, now);
        if (reservation.retryAfter > 0)
            return {}; // refused: nothing recorded, the transaction commits nothing
        const QString attempt = QUuid::createUuid().toString(QUuid::WithoutBraces);
        const SqlResult inserted = tx.exec(QStringLiteral(
            "INSERT INTO users_login_failure (scope, key, failed_at, attempt, pending) "
            "VALUES ('account', ?, ?, ?::uuid, true), ('address', ?, ?, ?::uuid, true), ('pair', ?, ?, ?::uuid, true)"),
            {account, now, attempt, address, now, attempt, pairKey(account, address), now, attempt});
        if (inserted.error())
            return Status::failure(inserted.error().message);
        reservation.attempt = attempt;
        return {};
    };
    co_return co_await decideIn(std::move(decide));
}

QCoro::Task<> LoginThrottle::fail(QString attempt)
{
    const QVariantList params{attempt};
    co_await m_db.query(QStringLiteral("UPDATE users_login_failure SET pending = false WHERE attempt = ?::uuid"), params);
}

QCoro::Task<> LoginThrottle::succeed(QString attempt, QString account, QString address)
{
    // Only this attempt and this address's failures on the account: the owner logging in must not
    // wipe out what other addresses have been trying (they age out of the window instead).
    Q_UNUSED(account);
    const QVariantList params{attempt, pairKey(account, address)};
    co_await m_db.query(QStringLiteral("DELETE FROM users_login_failure WHERE attempt = ?::uuid OR (scope = 'pair' AND key = ?)"), params);
}

QCoro::Task<> LoginThrottle::release(QString attempt)
{
    const QVariantList params{attempt};
    co_await m_db.query(QStringLiteral("DELETE FROM users_login_failure WHERE attempt = ?::uuid"), params);
}

QCoro::Task<LoginThrottle::Reservation> LoginThrottle::reserveRegistration(QString address, QDateTime now)
{
    const Limits limits = m_limits;
    auto decide = [=](SqlTransaction &tx, Reservation &reservation) -> Status {
        if (Status locked = lockKeys(tx, {QString(QStringLiteral("users.register.address:") + address)}); !locked)
            return locked;
        const SqlResult r = tx.exec(QStringLiteral("SELECT count(*) AS n, min(failed_at) AS oldest FROM users_login_failure "
                                                   "WHERE scope = 'register' AND key = ? AND failed_at > ?"),
                                    {address, now.addSecs(-limits.registrationWindowSeconds)});
        if (r.error())
            return Status::failure(r.error().message);
        if (r.integer(0, QStringLiteral("n")) >= limits.registrationsPerAddress) {
            const QDateTime oldest = r.value(0, QStringLiteral("oldest")).toDateTime();
            reservation.retryAfter = std::max<qint64>(1, now.secsTo(oldest.addSecs(limits.registrationWindowSeconds)));
            return {};
        }
        const QString attempt = QUuid::createUuid().toString(QUuid::WithoutBraces);
        const SqlResult inserted = tx.exec(QStringLiteral("INSERT INTO users_login_failure (scope, key, failed_at, attempt) VALUES ('register', ?, ?, ?::uuid)"),
                                           {address, now, attempt});
        if (inserted.error())
            return Status::failure(inserted.error().message);
        reservation.attempt = attempt;
        return {};
    };
    co_return co_await decideIn(std::move(decide));
}

QCoro::Task<SqlResult> LoginThrottle::purgeOld(QDateTime now)
{
    const QVariantList params{now.addSecs(-std::max(m_limits.windowSeconds, m_limits.registrationWindowSeconds))};
    co_return co_await m_db.query(QStringLiteral("DELETE FROM users_login_failure WHERE failed_at < ?"), params);
}

} // namespace yieldhost::users
