#include "http/ConnectionLimits.h"

#include <QtNetwork/QTcpSocket>

namespace yieldhost {

namespace {

// Lives as a child of the socket it counts; its destructor gives the place back.
class ConnectionPlace : public QObject
{
public:
    ConnectionPlace(std::function<void()> release, QObject *socket)
        : QObject(socket)
        , m_release(std::move(release))
    {
        setObjectName(QLatin1String(placeName));
    }

    static constexpr const char *placeName = "yieldhost.connection-place";
    ~ConnectionPlace() override { m_release(); }

private:
    std::function<void()> m_release;
};

} // namespace

ConnectionLimits::ConnectionLimits(qint64 maxTotal, qint64 maxPerAddress, ClientAddress proxies)
    : m_maxTotal(maxTotal)
    , m_maxPerAddress(maxPerAddress)
    , m_proxies(std::move(proxies))
{
}

ConnectionLimits::Verdict ConnectionLimits::admit(QTcpSocket *socket)
{
    const QHostAddress peer = socket->peerAddress();
    // A trusted proxy's connections count toward the total only (an empty key).
    const QHostAddress key = m_proxies.isTrustedProxy(peer) ? QHostAddress() : ClientAddress::limitKey(peer);
    {
        const std::lock_guard lock(m_mutex);
        if (m_total >= m_maxTotal)
            return Verdict::TotalLimit;
        if (!key.isNull() && m_perAddress.value(key) >= m_maxPerAddress)
            return Verdict::AddressLimit;
        ++m_total;
        if (!key.isNull())
            ++m_perAddress[key];
    }
    new ConnectionPlace([self = shared_from_this(), key] { self->release(key); }, socket);
    return Verdict::Admitted;
}

void ConnectionLimits::movePlace(QTcpSocket *from, QTcpSocket *to)
{
    if (QObject *place = from->findChild<QObject *>(QLatin1String(ConnectionPlace::placeName), Qt::FindDirectChildrenOnly))
        place->setParent(to);
}

void ConnectionLimits::release(const QHostAddress &key)
{
    const std::lock_guard lock(m_mutex);
    --m_total;
    if (key.isNull())
        return;
    const auto it = m_perAddress.find(key);
    if (it != m_perAddress.end() && --it.value() <= 0)
        m_perAddress.erase(it);
}

qint64 ConnectionLimits::total() const
{
    const std::lock_guard lock(m_mutex);
    return m_total;
}

} // namespace yieldhost
