#include "HttpClient.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QJsonDocument>

#include <http_parser.h>

namespace yieldhost::test {

QByteArray HttpReply::header(const QByteArray &lowerName) const
{
    for (const auto &[k, v] : headers) {
        if (k == lowerName)
            return v;
    }
    return {};
}

QJsonObject HttpReply::json() const { return QJsonDocument::fromJson(body).object(); }

namespace {
struct ParseState
{
    HttpReply reply;
    QByteArray field;
    QByteArray value;
    bool inValue = false;
    bool complete = false;
    void flush()
    {
        if (!field.isEmpty())
            reply.headers.append({field.toLower(), value.trimmed()});
        field.clear();
        value.clear();
    }
};
ParseState *st(http_parser *p) { return static_cast<ParseState *>(p->data); }
} // namespace

HttpClient::HttpClient(const QString &host, quint16 port) : m_host(host), m_port(port) {}
HttpClient::~HttpClient() = default;

bool HttpClient::open(int timeoutMs, const QHostAddress &from)
{
    if (!from.isNull() && !m_socket.bind(from))
        return false;
    m_socket.connectToHost(m_host, m_port);
    return m_socket.waitForConnected(timeoutMs);
}

void HttpClient::send(const QByteArray &raw)
{
    m_socket.write(raw);
    m_socket.waitForBytesWritten(5000);
}

std::optional<HttpReply> HttpClient::read(int timeoutMs, bool forHead)
{
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_header_field = [](http_parser *p, const char *at, size_t n) {
        if (st(p)->inValue) {
            st(p)->flush();
            st(p)->inValue = false;
        }
        st(p)->field.append(at, qsizetype(n));
        return 0;
    };
    settings.on_header_value = [](http_parser *p, const char *at, size_t n) {
        st(p)->inValue = true;
        st(p)->value.append(at, qsizetype(n));
        return 0;
    };
    settings.on_headers_complete = [](http_parser *p) {
        st(p)->flush();
        st(p)->reply.status = int(p->status_code);
        st(p)->reply.httpMinor = p->http_minor;
        return st(p)->reply.status == 100 ? 0 : 0;
    };
    settings.on_body = [](http_parser *p, const char *at, size_t n) {
        st(p)->reply.body.append(at, qsizetype(n));
        return 0;
    };
    settings.on_message_complete = [](http_parser *p) {
        if (st(p)->reply.status == 100) { // interim: start over with the final reply
            QList<int> interim = st(p)->reply.interim;
            interim.append(100);
            st(p)->reply = HttpReply();
            st(p)->reply.interim = interim;
            return 0;
        }
        st(p)->complete = true;
        http_parser_pause(p, 1);
        return 0;
    };

    ParseState state;
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &state;
    if (forHead)
        settings.on_headers_complete = [](http_parser *p) {
            st(p)->flush();
            st(p)->reply.status = int(p->status_code);
            return 1; // a reply to HEAD has no body
        };

    QDeadlineTimer deadline(timeoutMs);
    QByteArray consumed;
    for (;;) {
        if (!m_buffer.isEmpty()) {
            const size_t n = http_parser_execute(&parser, &settings, m_buffer.constData(), size_t(m_buffer.size()));
            m_buffer.remove(0, qsizetype(n));
            if (state.complete)
                return state.reply;
            if (HTTP_PARSER_ERRNO(&parser) != HPE_OK)
                return std::nullopt;
        }
        if (m_socket.state() != QAbstractSocket::ConnectedState && m_socket.bytesAvailable() == 0) {
            http_parser_execute(&parser, &settings, nullptr, 0); // EOF may complete a reply
            return state.complete ? std::optional<HttpReply>(state.reply) : std::nullopt;
        }
        if (deadline.hasExpired())
            return std::nullopt;
        if (m_socket.bytesAvailable() == 0)
            m_socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        m_buffer += m_socket.readAll();
    }
}

bool HttpClient::waitForClose(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        m_socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        m_buffer += m_socket.readAll();
    }
    return m_socket.state() != QAbstractSocket::ConnectedState;
}

void HttpClient::close() { m_socket.abort(); }

QByteArray HttpClient::format(const QString &host, const QByteArray &method, const QByteArray &path, const QByteArray &body,
                              const QByteArray &contentType, const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    QByteArray raw = method + ' ' + path + " HTTP/1.1\r\nHost: " + host.toLatin1() + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        raw += "Content-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    for (const auto &[k, v] : extraHeaders)
        raw += k + ": " + v + "\r\n";
    return raw + "\r\n" + body;
}

std::optional<HttpReply> HttpClient::request(const QString &host, quint16 port, const QByteArray &method, const QByteArray &path,
                                             const QByteArray &body, const QByteArray &contentType,
                                             const QList<QPair<QByteArray, QByteArray>> &extraHeaders, const QHostAddress &from)
{
    HttpClient client(host, port);
    if (!client.open(5000, from))
        return std::nullopt;
    client.send(format(host, method, path, body, contentType, extraHeaders));
    return client.read(10000, method == "HEAD");
}

} // namespace yieldhost::test
