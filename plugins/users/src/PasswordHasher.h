// PasswordHasher.h — Argon2id (libargon2) password hashes, computed off the event loop.
//
// The parameters are stored in each encoded hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so
// they can be raised later without invalidating old hashes. Verification of an unknown account
// runs against a dummy hash with the same parameters, so "no such email" and "wrong password"
// cost the same time.
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
    explicit PasswordHasher(Parameters parameters);

    QCoro::Task<QString> hash(QString password);
    // An empty `encoded` (unknown account) verifies against the dummy hash and returns false.
    QCoro::Task<bool> verify(QString encoded, QString password);

    const Parameters &parameters() const { return m_parameters; }

    // Synchronous forms, for the DB-thread-free paths and the benchmark.
    static QString hashNow(const QString &password, const Parameters &parameters);
    static bool verifyNow(const QString &encoded, const QString &password);

private:
    Parameters m_parameters;
    QThreadPool m_pool;
    QString m_dummy;
};

} // namespace yieldhost::users
