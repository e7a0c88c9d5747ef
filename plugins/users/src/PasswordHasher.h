// PasswordHasher.h — Argon2id (libargon2) password hashes, computed off the event loop.
//
// The parameters are stored in each encoded hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so
// they can be raised later without invalidating old hashes. Verification of an unknown account
// runs against a dummy hash with the same parameters, so "no such email" and "wrong password"
// cost the same time.
//
// The queue is bounded: Argon2 is deliberately expensive, so past `queueLimit` hashes waiting or
// running a request is refused at once (the caller answers 503 + Retry-After) instead of waiting
// behind a backlog that only grows — login and registration floods shed load, they do not time out.
#pragma once

#include <QtCore/QString>
#include <QtCore/QThreadPool>

#include <QCoro/QCoroTask>

#include <cstdint>

namespace yieldhost::users {

class PasswordHasher
{
public:
    struct Parameters
    {
        uint32_t timeCost = 2;          // iterations
        uint32_t memoryKiB = 19 * 1024; // OWASP's minimum for Argon2id: 19 MiB, t=2, p=1
        uint32_t parallelism = 1;
    };
    // One hash runs per core; `queueLimit` hashes run or wait at most, 0 for four per core: with
    // a hash at ~50 ms, an admitted request then waits a fraction of a second, never seconds.
    explicit PasswordHasher(Parameters parameters, int queueLimit = 0);
    int queueLimit() const { return m_queueLimit; }

    struct Hashed
    {
        QString encoded; // empty when busy or when libargon2 failed
        bool busy = false;
    };
    QCoro::Task<Hashed> hash(QString password);
    enum class Verdict { Match, Mismatch, Busy };
    // An empty `encoded` (unknown account) verifies against the dummy hash: Mismatch.
    QCoro::Task<Verdict> verify(QString encoded, QString password);

    const Parameters &parameters() const { return m_parameters; }

    // Synchronous forms, for the DB-thread-free paths and the benchmark.
    static QString hashNow(const QString &password, const Parameters &parameters);
    static bool verifyNow(const QString &encoded, const QString &password);

private:
    bool enter();
    void leave() { m_queued.fetchAndSubRelaxed(1); }

    Parameters m_parameters;
    int m_queueLimit;
    QAtomicInt m_queued;
    QThreadPool m_pool;
    QString m_dummy;
};

} // namespace yieldhost::users
