// AccessLog.h — one line per HTTP request, formatted and written off the request path.
//
// A request only copies its few fields into a buffer under a mutex (no formatting, no syscall);
// a writer thread wakes every FlushIntervalMs (or when a batch is full), formats the lines (text
// like the rest of the log, or JSON lines with YIELDHOST_LOG_FORMAT=json) and writes them to
// stderr in a few large writes. Formatting each line on the request path through qCInfo cost
// about 30 % of /healthz throughput (docs/benchmarks.md).
//
// Bounded: when stderr is slower than the traffic (a stuck pipe, a slow disk) and MaxPending lines
// wait, further lines are dropped and counted — a request never blocks on the log — and the
// count is written as its own line once the writer catches up. A clean shutdown loses nothing:
// the destructor writes what is pending before it returns. Query parameters that carry
// credentials (token, access_token, refresh, refresh_token, password) are logged as REDACTED.
#pragma once

#include <QtCore/QByteArray>
#include <QtNetwork/QHostAddress>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace yieldhost {

class AccessLog
{
public:
    struct Entry
    {
        qint64 timeMs = 0; // since the epoch, UTC
        QHostAddress client;
        QByteArray method;
        QByteArray target; // already cut to its first 512 bytes
        int httpMinor = 1;
        int status = 0;
        qint64 bytes = 0;
        double milliseconds = 0;
        QByteArray requestId;
    };

    enum class Format { Text, Json };
    static constexpr int FlushIntervalMs = 50;
    static constexpr size_t BatchLines = 512;
    static constexpr size_t MaxPending = 100000;

    // `fd` is where lines go (stderr in the host; a pipe in the tests).
    explicit AccessLog(Format format, int fd = 2);
    ~AccessLog();
    AccessLog(const AccessLog &) = delete;
    AccessLog &operator=(const AccessLog &) = delete;

    // Thread-safe, never blocks on I/O.
    void append(Entry entry);
    // Writes everything appended so far before returning (tests; shutdown goes through ~AccessLog).
    void flush();

    static QByteArray format(const Entry &entry, Format format);

private:
    void run();
    void writeAll(const QByteArray &bytes);

    const Format m_format;
    const int m_fd;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_written;
    std::vector<Entry> m_pending;
    quint64 m_appended = 0; // under m_mutex
    quint64 m_done = 0;     // lines written or dropped, under m_mutex
    quint64 m_dropped = 0;  // not yet reported, under m_mutex
    bool m_flushRequested = false;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace yieldhost
