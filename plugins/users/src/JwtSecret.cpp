#include "JwtSecret.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QThread>

namespace yieldhost::users {

namespace {

constexpr QFileDevice::Permissions OwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

// Reads the sandbox secret of `path`, creating it first when there is none. Two processes
// starting together on one data directory agree: the file is created exclusively, and the one
// that loses the race reads what the winner wrote.
std::optional<QByteArray> sandboxSecret(const QString &path, QString *error)
{
    QFile created(path);
    if (created.open(QIODevice::WriteOnly | QIODevice::NewOnly, OwnerOnly)) {
        QByteArray random(48, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()), random.size() / 4);
        const QByteArray encoded = random.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
        if (created.write(encoded) != encoded.size() || !created.flush()) {
            *error = QStringLiteral("cannot write the sandbox signing secret %1: %2").arg(path, created.errorString());
            created.remove();
            return std::nullopt;
        }
        return encoded;
    }
    for (int attempt = 0; attempt < 40; ++attempt) {
        QFile existing(path);
        if (!existing.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read the sandbox signing secret %1: %2").arg(path, existing.errorString());
            return std::nullopt;
        }
        if (existing.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther))
            existing.setPermissions(OwnerOnly);
        const QByteArray key = existing.readAll().trimmed();
        if (key.size() >= JwtSecret::MinimumBytes)
            return key;
        QThread::msleep(50); // another process is writing it
    }
    *error = QStringLiteral("the sandbox signing secret %1 is shorter than %2 bytes; delete it to have a new one generated")
                 .arg(path)
                 .arg(JwtSecret::MinimumBytes);
    return std::nullopt;
}

} // namespace

std::optional<JwtSecret> JwtSecret::resolve(const QByteArray &configured, bool sandbox, const QString &dataDir, QString *error)
{
    if (!configured.isEmpty()) {
        if (configured.size() < MinimumBytes) {
            *error = QStringLiteral("YIELDHOST_JWT_SECRET is shorter than %1 bytes").arg(MinimumBytes);
            return std::nullopt;
        }
        return JwtSecret{configured, QStringLiteral("YIELDHOST_JWT_SECRET")};
    }
    if (!sandbox) {
        *error = QStringLiteral("YIELDHOST_JWT_SECRET must be set to a secret of at least %1 bytes outside sandbox mode").arg(MinimumBytes);
        return std::nullopt;
    }
    if (dataDir.isEmpty() || !QDir().mkpath(dataDir)) {
        *error = QStringLiteral("sandbox mode without YIELDHOST_JWT_SECRET needs a writable data directory (YIELDHOST_DATA_DIR) for its generated secret");
        return std::nullopt;
    }
    const QString path = QDir(dataDir).filePath(QLatin1String(FileName));
    const std::optional<QByteArray> key = sandboxSecret(path, error);
    if (!key)
        return std::nullopt;
    return JwtSecret{*key, path};
}

} // namespace yieldhost::users
