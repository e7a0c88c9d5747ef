// LoginThrottle.h — limits password guessing, in PostgreSQL so the limits hold across every host
// process. Three counters over a sliding window:
//   - the (account, address) pair, hard: a few failures and that address may not try that account;
//   - the address alone (one client spraying many accounts);
//   - the account alone, with a higher threshold and a delay that doubles with every failure past
//     it — applied only to addresses that have themselves failed on the account, so knowing an
//     email is not enough to lock its owner out: a correct password from an address that has not
//     been failing is never refused.
// An attempt is *reserved* before the password is checked (count and insert in one transaction
// under advisory locks on the account and the address), so a burst of parallel requests cannot
// all pass the check before any failure is recorded: attempts in flight count as failures until
// they are decided. Success releases the attempt and clears that address's failures on the account.
//
// Registrations are counted the same way, per address over an hour: each one runs Argon2 and
// creates a row, so an unlimited stream of them is both a flood and a way to fill the table.
#pragma once

#include "yieldhost/Database.h"

#include <QtCore/QDateTime>
#include <QtNetwork/QHostAddress>

#include <QCoro/QCoroTask>

#include <functional>

namespace yieldhost::users {

class LoginThrottle
{
public:
    struct Limits
    {
        int perPair = 5;
        int perAddress = 20;
        int perAccount = 20;
        qint64 accountDelaySeconds = 30; // past perAccount: 30 s, 60 s, 120 s ... up to the window
        qint64 windowSeconds = 900;
        int registrationsPerAddress = 10;
        qint64 registrationWindowSeconds = 3600;
    };
    struct Reservation
    {
        QString attempt;         // set when the attempt may go ahead
        qint64 retryAfter = 0;   // > 0 when refused: seconds until it may
        bool unavailable = false; // the database could not decide
    };

    LoginThrottle(Database &db, Limits limits) : m_db(db), m_limits(limits) {}

    // The key a client address is counted under: IPv4 as is (also when mapped into IPv6), IPv6
    // by its /64 — one subscriber usually holds a whole /64, so single IPv6 addresses are free.
    static QString addressKey(const QHostAddress &address);

    // `account` is the canonical email (canonicalEmail()), `address` the client's address key.
    QCoro::Task<Reservation> reserve(QString account, QString address, QDateTime now);
    // The password was wrong: the reserved attempt stays, as a failure.
    QCoro::Task<> fail(QString attempt);
    // The password was right: the attempt is released and this address's failures on the account
    // are cleared (the account's failures from other addresses and the address's failures on other
    // accounts stay until they leave the window).
    QCoro::Task<> succeed(QString attempt, QString account, QString address);
    // The attempt was never decided (the hasher was busy): it does not count.
    QCoro::Task<> release(QString attempt);
    // One registration from `address`, counted before the password is hashed; retryAfter > 0 when
    // the address has used up its registrations for the hour.
    QCoro::Task<Reservation> reserveRegistration(QString address, QDateTime now);
    // host.cleanup: attempts older than the window no longer count.
    QCoro::Task<SqlResult> purgeOld(QDateTime now);

    // The decision alone, for the unit test: counts within the window, oldest and newest failure.
    struct Counts
    {
        qint64 pair = 0, address = 0, account = 0;
        QDateTime oldestPair, oldestAddress, newestAccount;
    };
    static qint64 retryAfter(const Counts &counts, const Limits &limits, const QDateTime &now);

private:
    // Runs `decide` in a transaction; a transaction that does not commit makes the reservation
    // unavailable (503), never an allowed attempt.
    QCoro::Task<Reservation> decideIn(std::function<Status(SqlTransaction &, Reservation &)> decide);

    Database &m_db;
    Limits m_limits;
};

} // namespace yieldhost::users
