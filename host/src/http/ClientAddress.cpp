#include "http/ClientAddress.h"

namespace yieldhost {

std::optional<ClientAddress> ClientAddress::fromSettings(const QStringList &cidrs, const QString &header, QString *error)
{
    ClientAddress resolver;
    const QString name = header.trimmed().toLower();
    if (name == QLatin1String("x-forwarded-for")) {
        resolver.m_header = Header::XForwardedFor;
    } else if (name == QLatin1String("forwarded")) {
        resolver.m_header = Header::Forwarded;
    } else {
        *error = QStringLiteral("http.forwarded_header must be \"x-forwarded-for\" or \"forwarded\" (got \"%1\")").arg(header);
        return std::nullopt;
    }
    for (const QString &entry : cidrs) {
        const QString text = entry.trimmed();
        if (text.isEmpty())
            continue;
        QPair<QHostAddress, int> subnet = text.contains(u'/') ? QHostAddress::parseSubnet(text) : qMakePair(QHostAddress(text), -1);
        if (subnet.first.isNull()) {
            *error = QStringLiteral("http.trusted_proxies: \"%1\" is not an address or CIDR block").arg(text);
            return std::nullopt;
        }
        subnet.first = normalized(subnet.first);
        if (subnet.second < 0)
            subnet.second = subnet.first.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
        resolver.m_proxies.append(subnet);
    }
    return resolver;
}

QByteArray ClientAddress::headerName() const
{
    return m_header == Header::Forwarded ? QByteArrayLiteral("forwarded") : QByteArrayLiteral("x-forwarded-for");
}

bool ClientAddress::isTrustedProxy(const QHostAddress &address) const
{
    const QHostAddress a = normalized(address);
    for (const auto &subnet : m_proxies) {
        if (a.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress ClientAddress::normalized(const QHostAddress &address)
{
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    if (mapped && address.protocol() == QAbstractSocket::IPv6Protocol)
        return QHostAddress(v4);
    return address;
}

QHostAddress ClientAddress::limitKey(const QHostAddress &address)
{
    const QHostAddress a = normalized(address);
    if (a.protocol() != QAbstractSocket::IPv6Protocol)
        return a;
    Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes);
}

QByteArrayList ClientAddress::hops(const QByteArrayList &headerValues) const
{
    // Several header lines are one comma-separated list, in the order received (RFC 9110 §5.3).
    QByteArrayList out;
    for (const QByteArray &value : headerValues) {
        for (const QByteArray &element : value.split(',')) {
            if (m_header == Header::XForwardedFor) {
                out.append(element.trimmed());
                continue;
            }
            // RFC 7239: `for=192.0.2.43;proto=https` — the `for` parameter names the hop.
            QByteArray hop;
            for (const QByteArray &pair : element.split(';')) {
                const QByteArray p = pair.trimmed();
                if (p.size() > 4 && p.left(4).toLower() == "for=")
                    hop = p.mid(4);
            }
            out.append(hop);
        }
    }
    return out;
}

std::optional<QHostAddress> ClientAddress::parseHop(QByteArray hop)
{
    hop = hop.trimmed();
    if (hop.size() >= 2 && hop.startsWith('"') && hop.endsWith('"'))
        hop = hop.mid(1, hop.size() - 2);
    if (hop.startsWith('[')) { // "[2001:db8::1]" or "[2001:db8::1]:4711"
        const qsizetype close = hop.indexOf(']');
        if (close < 0)
            return std::nullopt;
        hop = hop.mid(1, close - 1);
    } else if (hop.count(':') == 1) { // "192.0.2.1:8080"
        hop = hop.left(hop.indexOf(':'));
    }
    // "unknown" and obfuscated identifiers ("_hidden") are not addresses: the walk stops there.
    QHostAddress address;
    if (hop.isEmpty() || !address.setAddress(QString::fromLatin1(hop)) || !address.scopeId().isEmpty())
        return std::nullopt;
    return normalized(address);
}

QHostAddress ClientAddress::resolve(const QHostAddress &peer, const QByteArrayList &headerValues) const
{
    QHostAddress current = normalized(peer);
    if (m_proxies.isEmpty() || !isTrustedProxy(current))
        return current;
    const QByteArrayList list = hops(headerValues);
    for (auto it = list.crbegin(); it != list.crend(); ++it) {
        const std::optional<QHostAddress> hop = parseHop(*it);
        if (!hop)
            break; // what a trusted proxy could not name: the last hop we can vouch for is it
        current = *hop;
        if (!isTrustedProxy(current))
            break;
    }
    return current;
}

} // namespace yieldhost
