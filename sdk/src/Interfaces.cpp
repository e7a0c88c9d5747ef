// Out-of-line destructors anchor the vtables of the SDK's interfaces in the shared library.
#include "yieldhost/Clock.h"
#include "yieldhost/Jobs.h"
#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"
#include "yieldhost/Services.h"
#include "yieldhost/WebSocket.h"

#include <QtCore/QJsonDocument>

namespace yieldhost {

Clock::~Clock() = default;

QDateTime Clock::wallNow()
{
    return QDateTime::currentDateTimeUtc();
}

Plugin::~Plugin() = default;
PluginContext::~PluginContext() = default;
Authenticator::~Authenticator() = default;
Accounts::~Accounts() = default;
JobContext::~JobContext() = default;
Jobs::~Jobs() = default;
WebSocketSession::~WebSocketSession() = default;

void WebSocketSession::setUser(std::optional<AuthenticatedUser> user)
{
    const QString previous = m_user ? m_user->id : QString();
    m_user = std::move(user);
    const QString current = m_user ? m_user->id : QString();
    if (previous != current)
        Q_EMIT userChanged(previous);
}

void WebSocketSession::sendJson(const QJsonObject &message)
{
    sendText(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

} // namespace yieldhost
