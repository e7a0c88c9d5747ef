#include "http/AccessLog.h"

#include <QtCore/QDateTime>

#include <cerrno>
#include <chrono>
#include <unistd.h>

namespace yieldhost {

namespace {

// Printable ASCII stays; control bytes, non-ASCII, '"' and '\' become \xNN, so a client cannot
// end the quoted field or forge a log line, and the result is safe inside a JSON string too.
QByteArray escaped(const QByteArray &raw)
{
    QByteArray out;
    out.reserve(raw.size());
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

// Credentials a client put in the query string (the WebSocket ?token= of API.md, or a mistake)
// never reach the log: their values become "REDACTED".
QByteArray redacted(const QByteArray &target)
{
    const qsizetype query = target.indexOf('?');
    if (query < 0 || (!target.contains("token=") && !target.contains("password=")))
        return target;
    static const QByteArrayList secretKeys{"token", "access_token", "refresh_token", "refresh", "password"};
    QByteArray out = target.left(query + 1);
    const QByteArrayList pairs = target.mid(query + 1).split('&');
    for (qsizetype i = 0; i < pairs.size(); ++i) {
        if (i > 0)
            out += '&';
        const qsizetype eq = pairs[i].indexOf('=');
        if (eq > 0 && secretKeys.contains(pairs[i].left(eq).toLower()))
            out += pairs[i].left(eq + 1) + "REDACTED";
        else
            out += pairs[i];
    }
    return out;
}

// "2026-12-01T03:09:22.007Z": the date part changes once a second, so it is made once a second.
QByteArray timestamp(qint64 ms)
{
    thread_local qint64 cachedSecond = -1;
    thread_local QByteArray cachedPrefix;
    const qint64 second = ms / 1000;
    if (second != cachedSecond) {
        cachedSecond = second;
        cachedPrefix = QDateTime::fromSecsSinceEpoch(second, Qt::UTC).toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")).toLatin1();
    }
    const int millis = int(ms % 1000);
    QByteArray out = cachedPrefix;
    out += '.';
    out += char('0' + millis / 100);
    out += char('0' + millis / 10 % 10);
    out += char('0' + millis % 10);
    out += 'Z';
    return out;
}

QByteArray address(const QHostAddress &a)
{
    thread_local QHostAddress cached;
    thread_local QByteArray text;
    if (a != cached || text.isEmpty()) {
        cached = a;
        text = a.isNull() ? QByteArrayLiteral("-") : a.toString().toLatin1();
    }
    return text;
}

} // namespace

AccessLog::AccessLog(Format format, int fd)
    : m_format(format)
    , m_fd(fd)
{
    m_pending.reserve(BatchLines);
    m_thread = std::thread([this] { run(); });
}

AccessLog::~AccessLog()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void AccessLog::append(Entry entry)
{
    bool wake = false;
    {
        const std::lock_guard lock(m_mutex);
        ++m_appended;
        if (m_pending.size() >= MaxPending) {
            ++m_dropped;
            ++m_done;
            return;
        }
        m_pending.push_back(std::move(entry));
        wake = m_pending.size() == BatchLines;
    }
    if (wake)
        m_wake.notify_one();
}

void AccessLog::flush()
{
    std::unique_lock lock(m_mutex);
    const quint64 target = m_appended;
    m_flushRequested = true;
    m_wake.notify_one();
    m_written.wait(lock, [&] { return m_done >= target; });
}

QByteArray AccessLog::format(const Entry &e, Format format)
{
    const QByteArray target = escaped(redacted(e.target));
    const QByteArray ms = QByteArray::number(e.milliseconds, 'f', 2);
    QByteArray line;
    line.reserve(160 + target.size());
    if (format == Format::Json) {
        // The same fields as a text line, each on its own key, plus the usual ts/level/category/msg.
        line += "{\"ts\":\"" + timestamp(e.timeMs) + "\",\"level\":\"info\",\"category\":\"yieldhost.access\",\"msg\":\"" + address(e.client) + " \\\""
                + e.method + ' ' + target + " HTTP/1." + QByteArray::number(e.httpMinor) + "\\\" " + QByteArray::number(e.status) + ' '
                + QByteArray::number(e.bytes) + ' ' + ms + "ms rid=" + e.requestId + "\",\"client\":\"" + address(e.client) + "\",\"method\":\""
                + escaped(e.method) + "\",\"target\":\"" + target + "\",\"status\":" + QByteArray::number(e.status)
                + ",\"bytes\":" + QByteArray::number(e.bytes) + ",\"ms\":" + ms + ",\"rid\":\"" + escaped(e.requestId) + "\"}\n";
        return line;
    }
    line += timestamp(e.timeMs) + " info yieldhost.access: " + address(e.client) + " \"" + e.method + ' ' + target + " HTTP/1."
            + QByteArray::number(e.httpMinor) + "\" " + QByteArray::number(e.status) + ' ' + QByteArray::number(e.bytes) + ' ' + ms
            + "ms rid=" + e.requestId + '\n';
    return line;
}

void AccessLog::writeAll(const QByteArray &bytes)
{
    // Pieces of at most PIPE_BUF (4096) bytes, cut at line ends: on a pipe each write is atomic,
    // so the host's other log lines never land inside an access line.
    qsizetype start = 0;
    while (start < bytes.size()) {
        qsizetype end = std::min<qsizetype>(bytes.size(), start + 4096);
        if (end < bytes.size()) {
            const qsizetype newline = bytes.lastIndexOf('\n', end - 1);
            if (newline >= start)
                end = newline + 1;
        }
        const char *p = bytes.constData() + start;
        qsizetype left = end - start;
        while (left > 0) {
            const ssize_t n = ::write(m_fd, p, size_t(left));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; // stderr is gone: nothing sensible is left to do with the lines
            p += n;
            left -= n;
        }
        start = end;
    }
}

void AccessLog::run()
{
    std::vector<Entry> batch;
    batch.reserve(BatchLines);
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait_for(lock, std::chrono::milliseconds(FlushIntervalMs),
                        [this] { return m_stopping || m_flushRequested || m_pending.size() >= BatchLines; });
        const bool stopping = m_stopping;
        m_flushRequested = false;
        batch.swap(m_pending);
        const quint64 dropped = std::exchange(m_dropped, 0);
        lock.unlock();

        QByteArray out;
        out.reserve(qsizetype(batch.size()) * 160);
        for (const Entry &e : batch)
            out += format(e, m_format);
        if (dropped > 0) {
            Entry note;
            note.timeMs = QDateTime::currentMSecsSinceEpoch();
            const QByteArray text = QByteArray::number(dropped) + " access log lines dropped: the log output is slower than the traffic";
            if (m_format == Format::Json)
                out += "{\"ts\":\"" + timestamp(note.timeMs) + "\",\"level\":\"warning\",\"category\":\"yieldhost.access\",\"msg\":\"" + text + "\"}\n";
            else
                out += timestamp(note.timeMs) + " warning yieldhost.access: " + text + '\n';
        }
        if (!out.isEmpty())
            writeAll(out);
        const quint64 written = batch.size();
        batch.clear();

        lock.lock();
        m_done += written;
        m_written.notify_all();
        if (stopping && m_pending.empty())
            return;
    }
}

} // namespace yieldhost
