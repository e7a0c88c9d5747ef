#include "PasswordHasher.h"

#include <QtCore/QRandomGenerator>

#include "yieldhost/RunOn.h"

#include <argon2.h>

namespace yieldhost::users {

PasswordHasher::PasswordHasher(Parameters parameters, int queueLimit)
    : m_parameters(parameters)
    , m_queueLimit(queueLimit > 0 ? queueLimit : 4 * std::max(1, QThread::idealThreadCount()))
{
    m_pool.setMaxThreadCount(std::max(1, QThread::idealThreadCount()));
    m_pool.setObjectName(QStringLiteral("argon2"));
    QByteArray random(24, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()), random.size() / 4);
    m_dummy = hashNow(QString::fromLatin1(random.toBase64()), m_parameters);
}

QString PasswordHasher::hashNow(const QString &password, const Parameters &p)
{
    const QByteArray pwd = password.toUtf8();
    QByteArray salt(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(salt.data()), salt.size() / 4);
    const size_t length = argon2_encodedlen(p.timeCost, p.memoryKiB, p.parallelism, uint32_t(salt.size()), 32, Argon2_id);
    QByteArray encoded(qsizetype(length), '\0');
    const int rc = argon2id_hash_encoded(p.timeCost, p.memoryKiB, p.parallelism, pwd.constData(), size_t(pwd.size()),
                                         salt.constData(), size_t(salt.size()), 32, encoded.data(), length);
    if (rc != ARGON2_OK)
        return {};
    return QString::fromLatin1(encoded.constData()); // NUL-terminated
}

bool PasswordHasher::verifyNow(const QString &encoded, const QString &password)
{
    const QByteArray e = encoded.toLatin1();
    const QByteArray pwd = password.toUtf8();
    return argon2id_verify(e.constData(), pwd.constData(), size_t(pwd.size())) == ARGON2_OK; // constant time
}

bool PasswordHasher::enter()
{
    if (m_queued.fetchAndAddRelaxed(1) >= m_queueLimit) {
        leave();
        return false;
    }
    return true;
}

QCoro::Task<PasswordHasher::Hashed> PasswordHasher::hash(QString password)
{
    if (!enter())
        co_return Hashed{QString(), true};
    const Parameters p = m_parameters;
    auto work = [password = std::move(password), p] { return hashNow(password, p); };
    const QString encoded = co_await runOn(&m_pool, std::move(work));
    leave();
    co_return Hashed{encoded, false};
}

QCoro::Task<PasswordHasher::Verdict> PasswordHasher::verify(QString encoded, QString password)
{
    if (!enter())
        co_return Verdict::Busy;
    const bool known = !encoded.isEmpty();
    const QString against = known ? encoded : m_dummy;
    auto work = [against, password = std::move(password)] { return verifyNow(against, password); };
    const bool ok = co_await runOn(&m_pool, std::move(work));
    leave();
    co_return known && ok ? Verdict::Match : Verdict::Mismatch;
}

} // namespace yieldhost::users
