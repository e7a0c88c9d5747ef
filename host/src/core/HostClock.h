// HostClock.h — the host's Clock: system time plus an offset that only sandbox mode may move.
#pragma once

#include "yieldhost/Clock.h"

#include <atomic>

namespace yieldhost {

class HostClock final : public Clock
{
public:
    QDateTime now() const override
    {
        return QDateTime::currentDateTimeUtc().addMSecs(m_offsetMs.load(std::memory_order_relaxed));
    }
    void advance(qint64 ms) { m_offsetMs.fetch_add(ms, std::memory_order_relaxed); }
    qint64 offsetMs() const { return m_offsetMs.load(std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_offsetMs{0};
};

} // namespace yieldhost
