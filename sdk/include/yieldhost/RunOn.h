// RunOn.h — run blocking work on a thread pool and await it without blocking the event loop.
//
// Example (snippet "run-on", compiled in sdk/examples/snippets):
//   auto work = [password] { return slowHash(password); }; // a local: see Database.h on GCC 12
//   const QString hash = co_await yieldhost::runOn(&m_pool, std::move(work));
//
// The coroutine resumes on the thread that awaited, through a queued call to that thread's event
// dispatcher (the awaiting thread needs a running event loop, as every host thread has).
// We use this instead of QCoro's QFuture awaiter: in Qt 6.4 the QFutureWatcher it creates per
// await can deadlock in its destructor under load, and it costs a QObject per await.
#pragma once

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>

#include <QCoro/QCoroTask>

#include <coroutine>
#include <functional>
#include <optional>
#include <type_traits>

namespace yieldhost {

namespace detail {

template <typename T>
class RunOnAwaitable
{
public:
    RunOnAwaitable(QThreadPool *pool, std::function<T()> work) : m_pool(pool), m_work(std::move(work)) {}

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle)
    {
        QObject *home = QAbstractEventDispatcher::instance(QThread::currentThread());
        Q_ASSERT_X(home, "yieldhost::runOn", "the awaiting thread has no event dispatcher");
        // `this` lives in the suspended coroutine's frame until it is resumed.
        m_pool->start([this, handle, home] {
            m_result.emplace(m_work());
            QMetaObject::invokeMethod(home, [handle] { handle.resume(); }, Qt::QueuedConnection);
        });
    }
    T await_resume() { return std::move(*m_result); }

private:
    QThreadPool *m_pool;
    std::function<T()> m_work;
    std::optional<T> m_result;
};

} // namespace detail

template <typename Work>
auto runOn(QThreadPool *pool, Work &&work)
{
    using T = std::invoke_result_t<Work>;
    return detail::RunOnAwaitable<T>(pool, std::function<T()>(std::forward<Work>(work)));
}

} // namespace yieldhost
