// JwtSecret.h — the key access tokens are signed with.
//
// Production (sandbox off) takes YIELDHOST_JWT_SECRET and nothing else. In sandbox mode without
// one, a random secret is generated once per data directory (file `jwt-secret`, mode 0600) and
// reused, so tokens survive a restart and no two installations share a key. A secret compiled
// into the binary, as there once was, is public: anyone could sign a staff token with it. Every
// mode refuses a configured secret shorter than 32 bytes.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>

namespace yieldhost::users {

struct JwtSecret
{
    static constexpr int MinimumBytes = 32;
    static constexpr const char *FileName = "jwt-secret";

    QByteArray key;
    QString origin; // for the log: "YIELDHOST_JWT_SECRET", or the file it was read from or written to

    // The key, or nullopt with *error set to the sentence that stops the plugin.
    static std::optional<JwtSecret> resolve(const QByteArray &configured, bool sandbox, const QString &dataDir, QString *error);
};

} // namespace yieldhost::users
