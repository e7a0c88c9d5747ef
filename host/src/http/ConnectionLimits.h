// ConnectionLimits.h — how many connections the server holds, in total and per client network.
//
// Shared by the HTTP threads (the only state they share on the accept path, under one short
// lock). A connection's place is held by a small child object of its socket, so it is given back
// however the socket ends: a closed HTTP connection, a WebSocket session that took the socket
// over, or a handshake the WebSocket server dropped.
#pragma once

#include "http/ClientAddress.h"

#include <QtCore/QHash>
#include <QtNetwork/QHostAddress>

#include <memory>
#include <mutex>

class QTcpSocket;

namespace yieldhost {

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits>
{
public:
    enum class Verdict { Admitted, TotalLimit, AddressLimit };

    // Trusted proxies are exempt from the per-address limit: all their clients share their address.
    ConnectionLimits(qint64 maxTotal, qint64 maxPerAddress, ClientAddress proxies);

    // Counts `socket` until it is destroyed, or refuses it (the caller closes it).
    Verdict admit(QTcpSocket *socket);
    // The connection goes on in `to` (a duplicate of `from`'s descriptor): so does its place.
    static void movePlace(QTcpSocket *from, QTcpSocket *to);

    qint64 total() const;
    qint64 maxTotal() const { return m_maxTotal; }
    qint64 maxPerAddress() const { return m_maxPerAddress; }

private:
    void release(const QHostAddress &key);

    const qint64 m_maxTotal;
    const qint64 m_maxPerAddress;
    const ClientAddress m_proxies;
    mutable std::mutex m_mutex;
    qint64 m_total = 0;
    QHash<QHostAddress, qint64> m_perAddress; // keyed by ClientAddress::limitKey(); only addresses with connections
};

} // namespace yieldhost
