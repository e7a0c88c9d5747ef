// HttpClient.h — a deliberately raw, blocking HTTP/1.1 client for tests: it sends exactly the
// bytes a test gives it (pipelining, HTTP/1.0, broken requests) and parses replies one at a time
// with http_parser, so a test sees precisely what went over the wire.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpSocket>

#include <memory>
#include <optional>

namespace yieldhost::test {

struct HttpReply
{
    int status = 0;
    int httpMinor = 1;
    QList<QPair<QByteArray, QByteArray>> headers; // names lower-cased
    QByteArray body;
    QList<int> interim; // statuses of the 1xx replies that came before this one (100 Continue)
    QByteArray header(const QByteArray &lowerName) const;
    QJsonObject json() const;
};

class HttpClient
{
public:
    HttpClient(const QString &host, quint16 port);
    ~HttpClient();

    // `from` picks the local address (e.g. 127.0.0.7: every 127/8 address is loopback), so a test
    // can act as several clients.
    bool open(int timeoutMs = 5000, const QHostAddress &from = {});
    void send(const QByteArray &raw);
    // Next complete reply; nullopt on timeout or if the server closed first.
    std::optional<HttpReply> read(int timeoutMs = 10000, bool forHead = false);
    // True once the server closed the connection (within the timeout).
    bool waitForClose(int timeoutMs = 5000);
    void close();
    QTcpSocket &socket() { return m_socket; }

    // The bytes of one request (Host, Content-Type and Content-Length filled in).
    static QByteArray format(const QString &host, const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                             const QByteArray &contentType = "application/json", const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
    // One request on a fresh connection.
    static std::optional<HttpReply> request(const QString &host, quint16 port, const QByteArray &method, const QByteArray &path,
                                            const QByteArray &body = {}, const QByteArray &contentType = "application/json",
                                            const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {}, const QHostAddress &from = {});

private:
    QString m_host;
    quint16 m_port;
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

} // namespace yieldhost::test
