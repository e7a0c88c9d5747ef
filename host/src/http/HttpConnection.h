// HttpConnection.h — one client TCP connection speaking HTTP/1.1 (and 1.0).
//
// Why we own this instead of using QHttpServer 6.4 (a technical preview): it ignores
// `Connection: close`, keeps HTTP/1.0 alive, has no idle timeout, no 100-continue and no limits,
// answers pipelined requests out of order and reads freed memory when a client leaves mid-request.
// Here: the parser is nodejs' http_parser (Debian libhttp-parser); headers and body are limited
// while they arrive (431/413 before a body is buffered); one request is handled at a time, so
// pipelined requests are answered in order; the handler owns a copy of its request and finds this
// connection through a QPointer, so a client that leaves mid-request only drops the response.
#pragma once

#include "http/ChunkedFraming.h"

#include "yieldhost/Http.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtNetwork/QTcpSocket>

#include <http_parser.h>

#include <optional>

namespace yieldhost {

class HttpThread;

class HttpConnection : public QObject
{
    Q_OBJECT
public:
    HttpConnection(QTcpSocket *socket, HttpThread *worker);
    ~HttpConnection() override;

    // Stop taking requests: close now if idle, else after the response in flight.
    void beginShutdown();
    // Called about once a second by the worker: idle and slow-header timeouts.
    void checkTimeouts(qint64 nowMs);

    // Completion of a dispatched request; `sequence` guards against a stale completion.
    void complete(quint64 sequence, const HttpResponse &response, const QByteArray &routeLabel);

Q_SIGNALS:
    void finished(yieldhost::HttpConnection *connection);

private:
    enum class State { Idle, Reading, Dispatching, Closing, Upgraded };

    static int onMessageBegin(http_parser *parser);
    static int onUrl(http_parser *parser, const char *at, size_t length);
    static int onHeaderField(http_parser *parser, const char *at, size_t length);
    static int onHeaderValue(http_parser *parser, const char *at, size_t length);
    static int onHeadersComplete(http_parser *parser);
    static int onBody(http_parser *parser, const char *at, size_t length);
    static int onMessageComplete(http_parser *parser);
    static const http_parser_settings &parserSettings();

    void watch(QTcpSocket *socket);
    void onReadyRead();
    void readDirect();
    void switchToDirectReads();
    void replaceSocket(QTcpSocket *next);
    void parseBuffered();
    bool addHeaderBytes(size_t length);
    bool flushHeader(); // false (and a 400 prepared) for a field name that is not an RFC 9110 token
    qsizetype headerBlockLength() const; // -1 for a bare LF
    bool checkFraming(const http_parser *parser); // false (and a refusal prepared) for a Transfer-Encoding we do not frame
    QHostAddress clientAddress() const;
    QByteArray header(QByteArrayView name) const;
    void dispatchCurrent();
    void handleUpgrade();
    void refuse(int status, const QString &type, const QString &title, const QString &detail);
    void send(const HttpResponse &response, const QByteArray &routeLabel, bool close);
    void closeConnection();

    HttpThread *m_worker;
    QTcpSocket *m_socket;
    http_parser m_parser;
    State m_state = State::Idle;
    bool m_shuttingDown = false;
    QByteArray m_buffer; // received, not yet parsed
    // After the first response the connection reads through an unbuffered DirectTcpSocket (one
    // recv() per read, no FIONREAD). Then Qt keeps nothing for us: a notification that came while
    // a request was dispatched is remembered here and read after the response, and the bytes of a
    // request that began on a fresh read are kept until its headers show it is no upgrade.
    bool m_directReads = false;
    bool m_readWaiting = false;
    bool m_capturing = false;
    QByteArray m_requestBytes;

    // The request being read.
    QByteArray m_url;
    QByteArray m_field;
    QByteArray m_value;
    bool m_inValue = false;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QByteArray m_body;
    std::optional<ChunkedFraming> m_chunked; // set while a chunked body is read
    qint64 m_headerBytes = 0;
    bool m_headersComplete = false;
    QByteArray m_headerTail; // the last header bytes parsed (<= 3), to see a CRLF or the blank line split across reads
    bool m_messageComplete = false;
    bool m_keepAlive = true;
    bool m_http10 = false;
    bool m_head = false;
    int m_earlyStatus = 0; // a limit tripped inside a parser callback
    QString m_earlyDetail;
    quint64 m_sequence = 0;
    QByteArray m_method;
    QString m_requestId;

    qint64 m_lastActivityMs = 0;
    qint64 m_requestStartMs = 0;
    qint64 m_bodyStartMs = 0;
    QHostAddress m_clientAddress; // of the request in flight; null before it is dispatched
    QElapsedTimer m_latency;
};

} // namespace yieldhost
