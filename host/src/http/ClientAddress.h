// ClientAddress.h — who a request comes from when it may have passed through proxies we trust.
//
// Behind nginx every TCP peer is the proxy, so throttles keyed by address would put every client
// in one bucket. The forwarding header is believed only hop by hop through configured proxies
// (`http.trusted_proxies`): walked from the right, each entry is the peer of the hop after it, and
// the first address that is not a trusted proxy is the client. A client cannot forge its way in:
// what it writes itself sits left of the entry its first trusted proxy appended.
#pragma once

#include <QtCore/QByteArrayList>
#include <QtCore/QList>
#include <QtCore/QPair>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtNetwork/QHostAddress>

#include <optional>

namespace yieldhost {

class ClientAddress
{
public:
    // Which header the proxies write: nginx's `X-Forwarded-For` or RFC 7239's `Forwarded`. Only
    // one is read; a proxy that writes one leaves the other as the client sent it.
    enum class Header { XForwardedFor, Forwarded };

    ClientAddress() = default;
    // `cidrs` like "127.0.0.1/32", "10.0.0.0/8", "::1" (a bare address is a /32 or /128);
    // `header` "x-forwarded-for" or "forwarded". nullopt and `error` naming the bad entry.
    static std::optional<ClientAddress> fromSettings(const QStringList &cidrs, const QString &header, QString *error);

    bool isTrustedProxy(const QHostAddress &address) const;
    bool hasTrustedProxies() const { return !m_proxies.isEmpty(); }
    // The lower-case name of the header this resolver reads.
    QByteArray headerName() const;

    // The client of a request whose TCP peer is `peer`, given the values of every header line
    // named headerName(), in the order received.
    QHostAddress resolve(const QHostAddress &peer, const QByteArrayList &headerValues) const;

    // An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) as IPv4.
    static QHostAddress normalized(const QHostAddress &address);
    // One key per client network for per-address limits: IPv4 as is, IPv6 by its /64 (one
    // subscriber's allocation, which a client can rotate through freely).
    static QHostAddress limitKey(const QHostAddress &address);

private:
    QByteArrayList hops(const QByteArrayList &headerValues) const;
    static std::optional<QHostAddress> parseHop(QByteArray hop);

    QList<QPair<QHostAddress, int>> m_proxies;
    Header m_header = Header::XForwardedFor;
};

} // namespace yieldhost
