// SignalWatcher.h — turns SIGTERM/SIGINT into a Qt signal on the main thread (self-pipe trick),
// so shutdown runs as ordinary event-loop code instead of inside a signal handler.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>

#include <memory>

namespace yieldhost {

class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace yieldhost
