#include "Jwt.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QMessageAuthenticationCode>

namespace yieldhost::users {

namespace {

constexpr auto Base64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray hs256(const QByteArray &data, const QByteArray &secret)
{
    return QMessageAuthenticationCode::hash(data, secret, QCryptographicHash::Sha256);
}

bool equalConstantTime(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::optional<QByteArray> decodePart(QByteArrayView part)
{
    const auto decoded = QByteArray::fromBase64Encoding(part.toByteArray(), Base64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return *decoded;
}

} // namespace

QByteArray Jwt::sign(const QJsonObject &claims) const
{
    static const QByteArray header = QByteArrayLiteral(R"({"alg":"HS256","typ":"JWT"})").toBase64(Base64Url);
    const QByteArray input = header + '.' + QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(Base64Url);
    return input + '.' + hs256(input, m_secret).toBase64(Base64Url);
}

std::optional<QJsonObject> Jwt::verify(QByteArrayView token, const QDateTime &now, QString *why) const
{
    const qsizetype first = token.indexOf('.');
    const qsizetype second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) >= 0 || token.size() > 8192) {
        *why = QStringLiteral("The token is not a JWT.");
        return std::nullopt;
    }
    const auto header = decodePart(token.first(first));
    if (!header) {
        *why = QStringLiteral("The token is not a JWT.");
        return std::nullopt;
    }
    const QJsonObject h = QJsonDocument::fromJson(*header).object();
    if (h.value(QLatin1String("alg")).toString() != QLatin1String("HS256")) {
        *why = QStringLiteral("The token's algorithm is not accepted.");
        return std::nullopt;
    }
    const auto signature = decodePart(token.sliced(second + 1));
    if (!signature || !equalConstantTime(*signature, hs256(token.first(second).toByteArray(), m_secret))) {
        *why = QStringLiteral("The token's signature is not valid.");
        return std::nullopt;
    }
    const auto payload = decodePart(token.sliced(first + 1, second - first - 1));
    QJsonParseError error;
    const QJsonDocument doc = payload ? QJsonDocument::fromJson(*payload, &error) : QJsonDocument();
    if (!payload || error.error != QJsonParseError::NoError || !doc.isObject()) {
        *why = QStringLiteral("The token's claims are not valid JSON.");
        return std::nullopt;
    }
    const QJsonObject claims = doc.object();
    const QJsonValue exp = claims.value(QLatin1String("exp"));
    if (!exp.isDouble() || qint64(exp.toDouble()) <= now.toSecsSinceEpoch()) {
        *why = QStringLiteral("The token has expired.");
        return std::nullopt;
    }
    if (claims.value(QLatin1String("iss")).toString() != QLatin1String("yieldhost")) {
        *why = QStringLiteral("The token was not issued by this service.");
        return std::nullopt;
    }
    return claims;
}

} // namespace yieldhost::users
