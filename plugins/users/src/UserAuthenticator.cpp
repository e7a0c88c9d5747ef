#include "UserAuthenticator.h"

#include "yieldhost/Ids.h"

namespace yieldhost::users {

QCoro::Task<Authenticator::Outcome> UserAuthenticator::authenticate(QByteArray credentials)
{
    Outcome outcome;
    QByteArray token = credentials.trimmed();
    // "Bearer <jwt>"; "JWT <jwt>" is the django-graphql-jwt habit. A bare token (WebSocket
    // ?token=) is prefixed with "Bearer " by its caller, so a header without a scheme is refused.
    const qsizetype space = token.indexOf(' ');
    const QByteArray scheme = space < 0 ? QByteArray() : token.left(space).toLower();
    if (scheme != "bearer" && scheme != "jwt") {
        outcome.reason = QStringLiteral("Use an Authorization: Bearer <access token> header.");
        co_return outcome;
    }
    token = token.mid(space + 1).trimmed();
    // Token lifetimes are real time, not the sandbox clock (docs/users.md).
    const QDateTime now = Clock::wallNow();
    const qint64 nowMs = now.toMSecsSinceEpoch();
    if (std::optional<AuthCache::SignIn> known = m_cache.find(token, nowMs)) {
        outcome.user = AuthenticatedUser{known->userId, known->email, known->isStaff, std::move(known->claims)};
        co_return outcome;
    }
    QString why;
    const auto claims = m_jwt.verify(token, now, &why);
    if (!claims) {
        outcome.reason = why;
        co_return outcome;
    }
    if (claims->value(QLatin1String("typ")).toString() != QLatin1String("access")) {
        outcome.reason = QStringLiteral("This is not an access token.");
        co_return outcome;
    }
    const QString sessionId = claims->value(QLatin1String("sid")).toString();
    const QJsonValue version = claims->value(QLatin1String("ver"));
    if (!isUuid(sessionId) || !version.isDouble()) {
        outcome.reason = QStringLiteral("The token names no sign-in; refresh it or log in again.");
        co_return outcome;
    }
    const AccountStore::WithSession found = co_await m_accounts.withSession(claims->value(QLatin1String("sub")).toString(), sessionId);
    if (found.error.kind == DbError::Kind::Unavailable) {
        outcome.unavailable = true;
        co_return outcome;
    }
    if (!found.account || !found.account->isActive) {
        outcome.reason = QStringLiteral("The account does not exist or is disabled.");
        co_return outcome;
    }
    if (!found.sessionLive || version.toInteger(-1) != found.account->tokenVersion) {
        outcome.reason = QStringLiteral("The token's sign-in has ended (logout, or signed out everywhere); log in again.");
        co_return outcome;
    }
    outcome.user = AuthenticatedUser{found.account->id, found.account->email, found.account->isStaff, *claims};
    const qint64 expiresAtMs = qint64(claims->value(QLatin1String("exp")).toDouble()) * 1000;
    m_cache.remember(token, AuthCache::SignIn{found.account->id, found.account->email, found.account->isStaff, *claims}, expiresAtMs, nowMs);
    co_return outcome;
}

} // namespace yieldhost::users
