// Jwt.h — RFC 7519 access tokens signed with HS256, and nothing else.
//
// Verification accepts exactly {"alg":"HS256"}: "none", other algorithms and malformed parts are
// refused before any signature work, and the signature is compared in constant time.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>

#include <optional>

namespace yieldhost::users {

class Jwt
{
public:
    explicit Jwt(QByteArray secret) : m_secret(std::move(secret)) {}

    QByteArray sign(const QJsonObject &claims) const;
    // The claims of a token whose signature, algorithm, expiry and issuer are valid; else nullopt
    // and `why` (for the 401 detail, never a secret).
    std::optional<QJsonObject> verify(QByteArrayView token, const QDateTime &now, QString *why) const;

private:
    QByteArray m_secret;
};

} // namespace yieldhost::users
