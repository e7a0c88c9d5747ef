#include "http/HttpConnection.h"

#include "core/Logging.h"
#include "core/Metrics.h"
#include "http/AccessLog.h"
#include "http/ConnectionLimits.h"
#include "http/DirectTcpSocket.h"
#include "http/HttpThread.h"
#include "http/RequestDispatcher.h"
#include "http/Router.h"

#include "yieldhost/HostAccess.h"

#include <QtCore/QDateTime>
#include <QtCore/QRegularExpression>
#include <QtCore/QUrl>

#include <algorithm>
#include <cstring>

namespace yieldhost {

namespace {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

HttpConnection *self(http_parser *parser) { return static_cast<HttpConnection *>(parser->data); }

// Drives one request through the dispatcher. A free coroutine holding only a QPointer to the
// connection: if the client has gone when the handler finishes, the response is dropped.
QCoro::Task<> drive(QPointer<HttpConnection> connection, RequestDispatcher *dispatcher, HttpRequest request, quint64 sequence)
{
    RequestDispatcher::Result result = co_await dispatcher->dispatch(std::move(request));
    if (connection)
        connection->complete(sequence, result.response, result.routeLabel);
}

} // namespace

const http_parser_settings &HttpConnection::parserSettings()
{
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = &HttpConnection::onMessageBegin;
        s.on_url = &HttpConnection::onUrl;
        s.on_header_field = &HttpConnection::onHeaderField;
        s.on_header_value = &HttpConnection::onHeaderValue;
        s.on_headers_complete = &HttpConnection::onHeadersComplete;
        s.on_body = &HttpConnection::onBody;
        s.on_message_complete = &HttpConnection::onMessageComplete;
        return s;
    }();
    return settings;
}

HttpConnection::HttpConnection(QTcpSocket *socket, HttpThread *worker)
    : QObject(worker)
    , m_worker(worker)
    , m_socket(socket)
{
    m_socket->setParent(this);
    // Backpressure: Qt stops reading from the kernel when this much is buffered and unread. It
    // must hold a whole header block, which is parsed inside a read transaction (see onReadyRead).
    m_socket->setReadBufferSize(std::max<qint64>(64 << 10, m_worker->settings().maxHeaderBytes * 2));
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    http_parser_init(&m_parser, HTTP_REQUEST);
    m_parser.data = this;
    m_lastActivityMs = m_worker->nowMs();
    watch(m_socket);
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::watch(QTcpSocket *socket)
{
    connect(socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, [this] {
        if (m_state != State::Upgraded)
            Q_EMIT finished(this);
    });
}

void HttpConnection::onReadyRead()
{
    if (!m_socket || m_state == State::Dispatching || m_state == State::Closing || m_state == State::Upgraded) {
        m_readWaiting = true; // the rest waits in the socket until the response in flight is written
        return;
    }
    m_readWaiting = false;
    if (m_directReads) {
        const bool fresh = m_buffer.isEmpty() && m_state == State::Idle;
        const qsizetype before = fresh ? 0 : m_buffer.size();
        readDirect();
        if (fresh) {
            m_capturing = true;
            // A large header block once (a big cookie) is not kept for the connection's life.
            if (m_requestBytes.capacity() > 4096)
                m_requestBytes = QByteArray();
            m_requestBytes.resize(0);
        }
        if (m_capturing) {
            // Up to twice the header limit: a header block that needs more (many tiny fields,
            // which the limit counts without their separators) cannot be handed over whole, so
            // its upgrade is refused rather than replayed cut short.
            const qsizetype room = 2 * m_worker->settings().maxHeaderBytes - m_requestBytes.size();
            const qsizetype added = m_buffer.size() - before;
            if (added > room)
                m_capturing = false;
            else
                m_requestBytes.append(m_buffer.constData() + before, added);
        }
    } else {
        // A WebSocket upgrade hands the untouched socket to QWebSocketServer, which reads the
        // handshake itself: so a request that starts on a fresh read is read inside a transaction
        // that an upgrade rolls back and anything else commits.
        if (m_buffer.isEmpty() && m_state == State::Idle && !m_socket->isTransactionStarted())
            m_socket->startTransaction();
        m_buffer += m_socket->readAll();
    }
    const qint64 now = m_worker->nowMs();
    parseBuffered();
    // Bytes that leave us idle are empty lines before a request line, which the parser skips
    // (RFC 9112 §2.2): they are no activity, or one sent now and then would hold the connection
    // open forever, since no header timeout runs before a request begins.
    if (m_state != State::Idle)
        m_lastActivityMs = now;
}

void HttpConnection::readDirect()
{
    // One recv() per notification while a read does not fill the chunk: a request, or a pipelined
    // batch of them, usually arrives in one piece. At most what the buffered socket held at once
    // per notification (a fast sender cannot hold the thread); the rest waits for the next one.
    char chunk[16 * 1024];
    const qint64 limit = std::max<qint64>(64 << 10, m_worker->settings().maxHeaderBytes * 2);
    for (qint64 taken = 0; taken < limit;) {
        const qint64 got = m_socket->read(chunk, sizeof chunk);
        if (got > 0) {
            m_buffer.append(chunk, got);
            taken += got;
        }
        if (got < qint64(sizeof chunk))
            return;
    }
}

void HttpConnection::switchToDirectReads()
{
    // Only between requests with nothing queued to send and no read transaction: what Qt read
    // ahead (pipelined requests) moves to our buffer; anything else tries again after the next.
    if (m_directReads || m_socket->bytesToWrite() > 0 || m_socket->isTransactionStarted()
        || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    DirectTcpSocket *next = DirectTcpSocket::duplicate(m_socket, QIODevice::ReadWrite | QIODevice::Unbuffered, {}, this);
    if (!next)
        return; // out of descriptors: this connection stays buffered
    m_buffer += m_socket->readAll();
    replaceSocket(next);
    m_directReads = true;
    m_worker->countDirectReads();
}

void HttpConnection::replaceSocket(QTcpSocket *next)
{
    QTcpSocket *old = std::exchange(m_socket, next);
    disconnect(old, nullptr, this, nullptr);
    ConnectionLimits::movePlace(old, next);
    old->abort(); // closes only its own descriptor: the connection goes on in next's duplicate
    old->deleteLater();
    watch(next);
}

// RFC 9112 §2.2: a request line or header line ended by a bare LF is refused, not guessed at —
// a proxy in front might split the same bytes into different requests. Returns how many buffered
// bytes belong to the header block (through its blank line, or all of them while it is unfinished),
// so the parser never reads body bytes before their framing is known; -1 for a bare LF.
qsizetype HttpConnection::headerBlockLength() const
{
    // The last header bytes already parsed come first, so a CRLF, or the blank line that ends the
    // headers, split across two reads is recognised as such. (Byte by byte: no copy.)
    quint32 last4 = 0; // the last four bytes seen, newest lowest
    for (const char c : m_headerTail)
        last4 = (last4 << 8) | quint8(c);
    for (qsizetype i = 0; i < m_buffer.size(); ++i) {
        const char c = m_buffer[i];
        if (c == '\n' && (last4 & 0xff) != '\r')
            return -1;
        last4 = (last4 << 8) | quint8(c);
        if (last4 == 0x0d0a0d0a) // \r\n\r\n: the body follows
            return i + 1;
    }
    return m_buffer.size();
}

void HttpConnection::parseBuffered()
{
    while (!m_buffer.isEmpty() && (m_state == State::Idle || m_state == State::Reading)) {
        const bool inBody = m_state == State::Reading && m_headersComplete;
        qsizetype feed = m_buffer.size(); // a Content-Length body: the parser stops at its end
        if (!inBody) {
            feed = headerBlockLength();
            if (feed < 0) {
                refuse(400, QStringLiteral("bad-request"), QStringLiteral("Bad request"),
                       QStringLiteral("A request line or header line ends with a bare LF; HTTP/1.1 lines end with CRLF."));
                return;
            }
        } else if (m_chunked) {
            const ChunkedFraming::Step step = m_chunked->feed(QByteArrayView(m_buffer));
            if (!step.error.isEmpty()) {
                refuse(400, QStringLiteral("bad-request"), QStringLiteral("Bad request"), step.error);
                return;
            }
            feed = step.accepted;
        }
        const size_t parsed = http_parser_execute(&m_parser, &parserSettings(), m_buffer.constData(), size_t(feed));
        const auto error = HTTP_PARSER_ERRNO(&m_parser);
        if (m_headersComplete || m_messageComplete)
            m_headerTail.clear(); // the next header bytes belong to the next request
        else
            m_headerTail = QByteArray(m_headerTail + m_buffer.left(qsizetype(parsed))).right(3);
        m_buffer.remove(0, qsizetype(parsed));

        if (error != HPE_OK && error != HPE_PAUSED) {
            if (m_earlyStatus == 413)
                refuse(413, QStringLiteral("body-too-large"), QStringLiteral("Content too large"), m_earlyDetail);
            else if (m_earlyStatus == 431)
                refuse(431, QStringLiteral("headers-too-large"), QStringLiteral("Request header fields too large"), m_earlyDetail);
            else if (m_earlyStatus == 501)
                refuse(501, QStringLiteral("not-implemented"), QStringLiteral("Not implemented"), m_earlyDetail);
            else if (m_earlyStatus != 0)
                refuse(m_earlyStatus, QStringLiteral("bad-request"), QString::fromLatin1(reasonPhrase(m_earlyStatus)), m_earlyDetail);
            else
                refuse(400, QStringLiteral("bad-request"), QStringLiteral("Bad request"),
                       QStringLiteral("Malformed HTTP request: %1.").arg(QLatin1String(http_errno_description(error))));
            return;
        }
        if (!m_messageComplete) {
            if (parsed == 0)
                return; // need more bytes
            continue;   // the header block is in; its body may be buffered already
        }
        http_parser_pause(&m_parser, 0);
        m_chunked.reset();
        if (m_parser.upgrade)
            handleUpgrade();
        else
            dispatchCurrent();
    }
}

int HttpConnection::onMessageBegin(http_parser *parser)
{
    HttpConnection *c = self(parser);
    c->m_state = State::Reading;
    c->m_url.clear();
    c->m_field.clear();
    c->m_value.clear();
    c->m_inValue = false;
    c->m_headers.clear();
    c->m_body.clear();
    c->m_headerBytes = 0;
    c->m_headersComplete = false;
    c->m_messageComplete = false;
    c->m_earlyStatus = 0;
    c->m_chunked.reset();
    c->m_clientAddress = QHostAddress();
    c->m_requestStartMs = c->m_worker->nowMs();
    c->m_latency.start();
    return 0;
}

bool HttpConnection::addHeaderBytes(size_t length)
{
    m_headerBytes += qint64(length);
    if (m_headerBytes > m_worker->settings().maxHeaderBytes) {
        m_earlyStatus = 431;
        m_earlyDetail = QStringLiteral("The request line and headers exceed %1 bytes.").arg(m_worker->settings().maxHeaderBytes);
        return false;
    }
    return true;
}

int HttpConnection::onUrl(http_parser *parser, const char *at, size_t length)
{
    HttpConnection *c = self(parser);
    if (!c->addHeaderBytes(length))
        return -1;
    c->m_url.append(at, qsizetype(length));
    return 0;
}

bool HttpConnection::flushHeader()
{
    // A field name is a token: "Transfer-Encoding : chunked" (space before the colon) is refused
    // (RFC 9112 §5.1), since servers that strip the space and servers that keep it disagree
    // about how the body is framed.
    static const auto isTokenChar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    };
    const bool valid = std::all_of(m_field.cbegin(), m_field.cend(), isTokenChar);
    if (!valid) {
        m_earlyStatus = 400;
        m_earlyDetail = QStringLiteral("The header field name \"%1\" is not a token (no spaces before the colon).")
                            .arg(QString::fromLatin1(m_field.left(64)).toHtmlEscaped());
    } else if (!m_field.isEmpty()) {
        m_headers.append({m_field.toLower(), m_value.trimmed()});
    }
    m_field.clear();
    m_value.clear();
    return valid;
}

int HttpConnection::onHeaderField(http_parser *parser, const char *at, size_t length)
{
    HttpConnection *c = self(parser);
    if (!c->addHeaderBytes(length))
        return -1;
    if (c->m_inValue) {
        c->m_inValue = false;
        if (!c->flushHeader())
            return -1;
    }
    c->m_field.append(at, qsizetype(length));
    return 0;
}

int HttpConnection::onHeaderValue(http_parser *parser, const char *at, size_t length)
{
    HttpConnection *c = self(parser);
    if (!c->addHeaderBytes(length))
        return -1;
    c->m_inValue = true;
    c->m_value.append(at, qsizetype(length));
    return 0;
}

QByteArray HttpConnection::header(QByteArrayView name) const
{
    for (const auto &[key, value] : m_headers) {
        if (key == name)
            return value;
    }
    return {};
}

int HttpConnection::onHeadersComplete(http_parser *parser)
{
    HttpConnection *c = self(parser);
    if (!c->flushHeader())
        return -1;
    c->m_headersComplete = true;
    c->m_http10 = parser->http_major == 1 && parser->http_minor == 0;
    c->m_method = QByteArray(http_method_str(http_method(parser->method)));
    c->m_head = parser->method == HTTP_HEAD;
    const HttpSettings &settings = c->m_worker->settings();

    if (!c->checkFraming(parser))
        return -1;
    if ((parser->flags & F_CONTENTLENGTH) && parser->content_length > quint64(settings.maxBodyBytes)) {
        c->m_earlyStatus = 413;
        c->m_earlyDetail = QStringLiteral("The body is %1 bytes; the limit is %2.").arg(parser->content_length).arg(settings.maxBodyBytes);
        return -1;
    }
    const QByteArray expect = c->header("expect").toLower();
    if (!expect.isEmpty()) {
        if (expect != "100-continue") {
            c->m_earlyStatus = 417;
            c->m_earlyDetail = QStringLiteral("Only \"Expect: 100-continue\" is supported.");
            return -1;
        }
        if (!c->m_http10 && c->m_socket)
            c->m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    c->m_bodyStartMs = c->m_worker->nowMs();
    if (parser->flags & F_CHUNKED)
        c->m_chunked.emplace(settings.maxHeaderBytes);
    // Not an upgrade: the socket will never be handed over, so stop retaining its bytes.
    if (!parser->upgrade) {
        if (c->m_socket && c->m_socket->isTransactionStarted())
            c->m_socket->commitTransaction();
        c->m_capturing = false;
    }
    return 0;
}

bool HttpConnection::checkFraming(const http_parser *parser)
{
    // Only "chunked" alone is framed here (RFC 9112 §6.1): a coding we would not undo, or a list
    // a proxy might read differently, is refused rather than guessed at.
    QByteArrayList codings;
    for (const auto &[key, value] : m_headers) {
        if (key == "transfer-encoding")
            codings.append(value.toLower());
    }
    if (codings.isEmpty())
        return true;
    if (parser->http_major == 1 && parser->http_minor == 0) {
        m_earlyStatus = 400;
        m_earlyDetail = QStringLiteral("HTTP/1.0 has no Transfer-Encoding; send a Content-Length.");
        return false;
    }
    if (codings.size() != 1 || codings.first() != "chunked") {
        m_earlyStatus = 501;
        m_earlyDetail = QStringLiteral("Only \"Transfer-Encoding: chunked\" is supported.");
        return false;
    }
    return true;
}

int HttpConnection::onBody(http_parser *parser, const char *at, size_t length)
{
    HttpConnection *c = self(parser);
    const qint64 limit = c->m_worker->settings().maxBodyBytes;
    if (c->m_body.size() + qint64(length) > limit) { // chunked bodies have no declared length
        c->m_earlyStatus = 413;
        c->m_earlyDetail = QStringLiteral("The body exceeds the limit of %1 bytes.").arg(limit);
        return -1;
    }
    c->m_body.append(at, qsizetype(length));
    return 0;
}

int HttpConnection::onMessageComplete(http_parser *parser)
{
    HttpConnection *c = self(parser);
    c->m_messageComplete = true;
    c->m_keepAlive = http_should_keep_alive(parser) != 0;
    http_parser_pause(parser, 1); // one request at a time: the rest stays buffered, in order
    return 0;
}

void HttpConnection::dispatchCurrent()
{
    m_messageComplete = false;
    m_state = State::Dispatching;
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_capturing = false;

    const auto method = methodFromName(m_method);
    if (!method) {
        refuse(501, QStringLiteral("not-implemented"), QStringLiteral("Not implemented"),
               QStringLiteral("Method %1 is not supported.").arg(QString::fromLatin1(m_method)));
        return;
    }

    HttpRequest request;
    HttpRequestWriter::setMethod(request, *method);
    const QUrl url = QUrl::fromEncoded(m_url);
    HttpRequestWriter::setPath(request, url.path(QUrl::FullyDecoded));
    HttpRequestWriter::setQuery(request, QUrlQuery(url));
    for (auto &[key, value] : m_headers)
        HttpRequestWriter::addHeader(request, key, value);
    HttpRequestWriter::setBody(request, std::move(m_body));
    m_body = QByteArray();
    m_clientAddress = clientAddress();
    HttpRequestWriter::setPeerAddress(request, m_clientAddress);
    // A client's request id is kept only when it is plainly an id: it is echoed in a header and
    // written to the log, where anything else could forge lines or headers.
    static const QRegularExpression safeId(QStringLiteral("^[A-Za-z0-9._:-]{1,128}$"));
    const QByteArray given = header("x-request-id");
    m_requestId = safeId.match(QString::fromLatin1(given)).hasMatch() ? QString::fromLatin1(given) : m_worker->nextRequestId();
    HttpRequestWriter::setRequestId(request, m_requestId);

    drive(QPointer<HttpConnection>(this), &m_worker->dispatcher(), std::move(request), ++m_sequence);
}

QHostAddress HttpConnection::clientAddress() const
{
    const ClientAddress &resolver = m_worker->settings().clientAddress;
    const QHostAddress peer = m_socket->peerAddress();
    if (!resolver.hasTrustedProxies())
        return ClientAddress::normalized(peer);
    QByteArrayList values;
    for (const auto &[key, value] : m_headers) {
        if (key == resolver.headerName())
            values.append(value);
    }
    return resolver.resolve(peer, values);
}

void HttpConnection::complete(quint64 sequence, const HttpResponse &response, const QByteArray &routeLabel)
{
    if (sequence != m_sequence || m_state != State::Dispatching || !m_socket)
        return;
    const bool close = !m_keepAlive || m_shuttingDown;
    send(response, routeLabel, close);
    if (close)
        return;
    m_state = State::Idle;
    m_lastActivityMs = m_worker->nowMs();
    switchToDirectReads();
    // Pipelined requests already buffered, then whatever waited in the socket.
    parseBuffered();
    // Also when a pipelined request is only partly in: its rest arrived while this one was handled.
    if (m_state != State::Idle && m_state != State::Reading)
        return;
    if (m_directReads ? m_readWaiting : m_socket->bytesAvailable() > 0)
        onReadyRead();
}

void HttpConnection::refuse(int status, const QString &type, const QString &title, const QString &detail)
{
    m_state = State::Dispatching;
    if (m_socket && m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_capturing = false;
    if (!m_latency.isValid())
        m_latency.start();
    if (m_requestId.isEmpty())
        m_requestId = m_worker->nextRequestId();
    // After a refusal the rest of the stream cannot be trusted (an unread body, a broken parse).
    send(Problem::make(status).type(type).title(title).detail(detail).toResponse(), "unmatched", true);
}

void HttpConnection::send(const HttpResponse &response, const QByteArray &routeLabel, bool close)
{
    const int status = response.status();
    QByteArray out;
    out.reserve(256 + response.body().size());
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    out += "Date: " + m_worker->dateHeader() + "\r\n";
    if (status != 204 && status != 304) {
        if (!response.contentType().isEmpty())
            out += "Content-Type: " + response.contentType() + "\r\n";
        out += "Content-Length: " + QByteArray::number(response.body().size()) + "\r\n";
    }
    out += "X-Request-Id: " + m_requestId.toLatin1() + "\r\n";
    for (const auto &[name, value] : response.headers()) {
        // A handler's header that could end the header block or start another one is dropped.
        if (name.isEmpty() || name.contains(':') || std::any_of(name.cbegin(), name.cend(), [](char c) { return c <= ' '; })
            || value.contains('\r') || value.contains('\n') || value.contains('\0')) {
            qCWarning(lcHttp).noquote() << "dropped a response header with a forbidden character from" << QString::fromLatin1(routeLabel);
            continue;
        }
        out += name + ": " + value + "\r\n";
    }
    if (close)
        out += "Connection: close\r\n";
    else if (m_http10)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (!m_head && status != 204 && status != 304)
        out += response.body();

    // Counted before the write: the socket sends at once, so a client that reads its reply and
    // then asks /metrics must already find this request there.
    const double seconds = double(m_latency.nsecsElapsed()) / 1e9;
    m_worker->metrics().recordRequest(m_method.isEmpty() ? QByteArray("-") : m_method, routeLabel, status, seconds);
    if (AccessLog *log = m_worker->accessLog(); log && lcAccess().isInfoEnabled()) {
        AccessLog::Entry entry;
        entry.timeMs = QDateTime::currentMSecsSinceEpoch();
        entry.client = m_clientAddress.isNull() ? ClientAddress::normalized(m_socket->peerAddress()) : m_clientAddress;
        entry.method = m_method;
        entry.target = m_url.left(512);
        entry.httpMinor = m_http10 ? 0 : 1;
        entry.status = status;
        entry.bytes = response.body().size();
        entry.milliseconds = seconds * 1000.0;
        entry.requestId = m_requestId.toLatin1();
        log->append(std::move(entry));
    }
    m_socket->write(out);
    m_requestId.clear();
    m_latency.invalidate();
    if (close)
        closeConnection();
}

void HttpConnection::handleUpgrade()
{
    m_messageComplete = false;
    const QUrl url = QUrl::fromEncoded(m_url);
    const QString path = url.path(QUrl::FullyDecoded);
    if (header("upgrade").toLower() != "websocket") {
        // Another protocol (e.g. curl's "Upgrade: h2c"): decline it by answering over HTTP/1.1.
        dispatchCurrent();
        return;
    }
    m_requestId = m_worker->nextRequestId();
    if (!m_worker->router().webSocket(path)) {
        refuse(404, QStringLiteral("not-found"), QStringLiteral("Not found"),
               QStringLiteral("No WebSocket endpoint at %1.").arg(path));
        return;
    }
    // Read directly, the handshake's bytes were kept; the copy handed over must not drop a reply
    // still queued on this socket.
    const bool untouched = m_directReads ? m_capturing && m_socket->bytesToWrite() == 0 : m_socket->isTransactionStarted();
    if (m_method != "GET" || !untouched || !m_buffer.isEmpty()) {
        refuse(400, QStringLiteral("bad-request"), QStringLiteral("Bad request"),
               QStringLiteral("A WebSocket upgrade must be a GET sent as the first request of its connection's read."));
        return;
    }
    QTcpSocket *socket = m_socket;
    if (m_directReads) {
        // Our reads took the handshake from the kernel: QWebSocketServer gets a buffered copy of
        // the connection that serves it first.
        DirectTcpSocket *copy = DirectTcpSocket::duplicate(m_socket, QIODevice::ReadWrite, std::exchange(m_requestBytes, {}), nullptr);
        if (!copy) {
            refuse(503, QStringLiteral("unavailable"), QStringLiteral("Service unavailable"),
                   QStringLiteral("The server is out of file descriptors; try again later."));
            return;
        }
        ConnectionLimits::movePlace(m_socket, copy);
        disconnect(m_socket, nullptr, this, nullptr);
        m_socket->abort(); // its own descriptor only; it is deleted with this connection
        socket = copy;
    } else {
        m_socket->rollbackTransaction();
        disconnect(m_socket, nullptr, this, nullptr);
    }
    m_state = State::Upgraded;
    m_socket = nullptr;
    m_worker->adoptWebSocket(socket);
    Q_EMIT finished(this);
}

void HttpConnection::beginShutdown()
{
    m_shuttingDown = true;
    if (m_state == State::Idle)
        closeConnection();
}

void HttpConnection::checkTimeouts(qint64 nowMs)
{
    const HttpSettings &settings = m_worker->settings();
    if (m_state == State::Idle && nowMs - m_lastActivityMs > settings.idleTimeoutMs) {
        closeConnection();
    } else if (m_state == State::Reading && !m_headersComplete && nowMs - m_requestStartMs > settings.headerTimeoutMs) {
        refuse(408, QStringLiteral("request-timeout"), QStringLiteral("Request timeout"),
               QStringLiteral("The request headers did not arrive within %1 ms.").arg(settings.headerTimeoutMs));
    } else if (m_state == State::Reading && m_headersComplete && nowMs - m_bodyStartMs > settings.bodyTimeoutMs) {
        // A total deadline, not only a stall timer: a body sent a byte at a time never stalls.
        refuse(408, QStringLiteral("request-timeout"), QStringLiteral("Request timeout"),
               QStringLiteral("The request body did not arrive within %1 ms.").arg(settings.bodyTimeoutMs));
    } else if (m_state == State::Reading && m_headersComplete && nowMs - m_lastActivityMs > settings.idleTimeoutMs) {
        refuse(408, QStringLiteral("request-timeout"), QStringLiteral("Request timeout"),
               QStringLiteral("The request body stalled for %1 ms.").arg(settings.idleTimeoutMs));
    }
}

void HttpConnection::closeConnection()
{
    if (m_state == State::Closing || !m_socket)
        return;
    m_state = State::Closing;
    // Flushes what is queued, then closes; `disconnected` follows and the worker deletes us.
    m_socket->disconnectFromHost();
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        Q_EMIT finished(this);
}

} // namespace yieldhost
