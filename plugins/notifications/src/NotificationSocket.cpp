#include "NotificationSocket.h"

#include "yieldhost/services/Authenticator.h"
#include "yieldhost/services/Portfolio.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>
#include <QtCore/QUrlQuery>

namespace yieldhost::notifications {

namespace {

// API.md's timestamps: RFC 3339 in UTC, with milliseconds like the others the API writes.
QString rfc3339(qint64 secondsSinceEpoch)
{
    return QDateTime::fromSecsSinceEpoch(secondsSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
}

// Messages a client may send while its header token is still being checked; more is abuse.
constexpr qsizetype MaxEarlyMessages = 32;
constexpr int CloseTryAgainLater = 1013;
constexpr int ClosePolicyViolation = 1008;

} // namespace

const QStringList &NotificationSocket::pushedTopics()
{
    static const QStringList topics{topics::WalletUpdated, topics::YieldPaid, topics::PortfolioChanged, topics::Notification};
    return topics;
}

NotificationSocket::NotificationSocket(WebSocketSession *session, const SocketServices &services)
    : QObject(session)
    , m_session(session)
    , m_services(services)
{
    connect(session, &WebSocketSession::textReceived, this, &NotificationSocket::textReceived);
    connect(session, &WebSocketSession::binaryReceived, this, [this] {
        if (!m_session->user())
            closeUnauthenticated(QStringLiteral("authenticate first"));
        else
            error("bad_message", QStringLiteral("Binary frames are not accepted: send JSON text frames."));
    });
    connect(session, &WebSocketSession::userChanged, this, [this] { subscribe(m_session->user() ? m_session->user()->id : QString()); });

    m_expiryTimer.setSingleShot(true);
    connect(&m_expiryTimer, &QTimer::timeout, this, [this] { closeUnauthenticated(QStringLiteral("the access token expired")); });
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        if (!m_session->user())
            closeUnauthenticated(QStringLiteral("no authentication within %1 s").arg(m_services.authTimeoutMs / 1000.0));
    });
    m_authTimer.start(m_services.authTimeoutMs);

    QByteArray credentials = session->header("Authorization");
    if (credentials.isEmpty()) {
        const QString token = QUrlQuery(session->requestUrl()).queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded);
        if (!token.isEmpty())
            credentials = "Bearer " + token.toUtf8();
    }
    if (!credentials.isEmpty())
        authenticate(std::move(credentials), Credentials::Header);
}

NotificationSocket::~NotificationSocket()
{
    if (!m_countedUser.isEmpty())
        m_services.limit->release(m_countedUser);
}

void NotificationSocket::closeUnauthenticated(const QString &reason)
{
    m_expiryTimer.stop();
    m_authTimer.stop();
    m_session->close(CloseUnauthenticated, reason);
}

void NotificationSocket::error(const char *code, const QString &detail)
{
    m_session->sendJson(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                                    {QStringLiteral("code"), QLatin1String(code)},
                                    {QStringLiteral("detail"), detail}});
}

void NotificationSocket::textReceived(const QString &message)
{
    if (m_authenticating) {
        if (m_early.size() >= MaxEarlyMessages) {
            m_session->close(ClosePolicyViolation, QStringLiteral("too many messages before authentication finished"));
            return;
        }
        m_early.append(message);
        return;
    }
    handle(message);
}

void NotificationSocket::handle(const QString &message)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(message.toUtf8(), &parseError);
    const QJsonObject command = doc.object();
    const QJsonValue name = command.value(QLatin1String("command"));
    if (name == QLatin1String("auth")) {
        const QString token = command.value(QLatin1String("token")).toString();
        if (token.isEmpty()) {
            if (!m_session->user())
                closeUnauthenticated(QStringLiteral("the auth command needs a token"));
            else
                error("bad_message", QStringLiteral("The auth command needs a \"token\" string."));
            return;
        }
        authenticate("Bearer " + token.toUtf8(), Credentials::Message);
        return;
    }
    if (!m_session->user()) {
        closeUnauthenticated(QStringLiteral("authenticate first: {\"command\":\"auth\",\"token\":\"...\"}"));
        return;
    }
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        error("bad_message", QStringLiteral("Messages are JSON objects such as {\"command\":\"ping\"}."));
        return;
    }
    if (name == QLatin1String("ping")) {
        m_session->sendJson(QJsonObject{{QStringLiteral("type"), QStringLiteral("pong")}});
        return;
    }
    if (name == QLatin1String("portfolio")) {
        portfolio(command);
        return;
    }
    error("unknown_command", name.isString() ? QStringLiteral("There is no command \"%1\"; the commands are auth, portfolio and ping.").arg(name.toString())
                                             : QStringLiteral("A message needs a \"command\": auth, portfolio or ping."));
}

QCoro::Task<> NotificationSocket::authenticate(QByteArray credentials, Credentials via)
{
    QPointer<NotificationSocket> self(this);
    m_authenticating = true;
    const Authenticator::Outcome outcome = co_await m_services.authenticator->authenticate(std::move(credentials));
    if (!self)
        co_return;
    m_authenticating = false;
    if (!outcome.user) {
        if (outcome.unavailable)
            m_session->close(CloseTryAgainLater, QStringLiteral("cannot check the token now; try again later"));
        else
            closeUnauthenticated(outcome.reason.isEmpty() ? QStringLiteral("invalid token") : outcome.reason);
        co_return;
    }
    const AuthenticatedUser &user = *outcome.user;
    if (m_session->user() && m_session->user()->id != user.id) {
        closeUnauthenticated(QStringLiteral("the token belongs to another user"));
        co_return;
    }
    if (m_countedUser.isEmpty()) {
        if (!m_services.limit->acquire(user.id)) {
            m_session->close(ClosePolicyViolation, QStringLiteral("too many notification sockets for this user (limit %1)").arg(m_services.limit->perUser()));
            co_return;
        }
        m_countedUser = user.id;
    }
    // The socket lives as long as the token: a client re-authenticates with a fresh one. Token
    // lifetimes are real time, not the sandbox clock, as the Authenticator checks them.
    const qint64 expiresAt = qint64(user.claims.value(QLatin1String("exp")).toDouble());
    const qint64 leftMs = expiresAt > 0 ? expiresAt * 1000 - Clock::wallNow().toMSecsSinceEpoch() : -1;
    if (expiresAt > 0 && leftMs <= 0) {
        closeUnauthenticated(QStringLiteral("the access token expired"));
        co_return;
    }
    m_authTimer.stop();
    if (expiresAt > 0)
        m_expiryTimer.start(int(std::min<qint64>(leftMs, std::numeric_limits<int>::max())));
    m_session->setUser(user);
    if (via == Credentials::Message)
        m_session->sendJson(QJsonObject{{QStringLiteral("type"), QStringLiteral("authenticated")},
                                        {QStringLiteral("data"), QJsonObject{{QStringLiteral("user_id"), user.id},
                                                                             {QStringLiteral("expires_at"), expiresAt > 0 ? QJsonValue(rfc3339(expiresAt)) : QJsonValue()}}}});
    // What came while this check ran, in order. An auth among it starts another check: the rest
    // waits for that one, ahead of anything arriving meanwhile.
    const QStringList early = std::exchange(m_early, {});
    for (qsizetype i = 0; i < early.size(); ++i) {
        if (!self)
            co_return;
        if (m_authenticating) {
            m_early = early.mid(i) + m_early;
            co_return;
        }
        handle(early[i]);
    }
}

void NotificationSocket::subscribe(const QString &userId)
{
    EventBus &events = m_services.context->events();
    events.unsubscribe(this);
    if (userId.isEmpty())
        return;
    for (const QString &topic : pushedTopics())
        events.subscribeFor(topic, userId, this, [this](const Event &e) {
            m_session->sendJson(QJsonObject{{QStringLiteral("type"), e.topic}, {QStringLiteral("data"), e.data}});
        });
}

QCoro::Task<> NotificationSocket::portfolio(QJsonObject command)
{
    const QJsonValue currency = command.value(QLatin1String("currency"));
    if (!currency.isUndefined() && !currency.isNull() && !currency.isString()) {
        error("bad_message", QStringLiteral("\"currency\" is a currency code such as \"USD\"."));
        co_return;
    }
    if (!m_services.portfolio) {
        error("unavailable", QStringLiteral("Portfolios are not available on this server (the investments plugin is not running)."));
        co_return;
    }
    QPointer<NotificationSocket> self(this);
    const PortfolioSummary summary = co_await m_services.portfolio->summary(m_session->user()->id, currency.toString());
    if (!self)
        co_return;
    if (summary.status == 200) {
        m_session->sendJson(QJsonObject{{QStringLiteral("type"), QStringLiteral("portfolio.summary")}, {QStringLiteral("data"), summary.body}});
        co_return;
    }
    QJsonObject reply{{QStringLiteral("type"), QStringLiteral("error")},
                      {QStringLiteral("code"), summary.status == 422 ? QStringLiteral("bad_message") : QStringLiteral("unavailable")},
                      {QStringLiteral("detail"), summary.detail}};
    if (summary.retryAfterSeconds >= 0)
        reply.insert(QStringLiteral("retry_after"), summary.retryAfterSeconds);
    m_session->sendJson(reply);
}

} // namespace yieldhost::notifications
