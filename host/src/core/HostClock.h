// HostClock.h — the host's Clock: system time plus the offset that staff may move forward in
// sandbox mode (POST /api/v1/admin/clock).
//
// The offset itself lives in PostgreSQL (host_clock, see resources/migrations/host/0002_clock.sql)
// so every process agrees; db/ClockSync copies it here, where reading it costs an atomic load.
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
    void setOffsetMs(qint64 ms) { m_offsetMs.store(ms, std::memory_order_relaxed); }
    qint64 offsetMs() const { return m_offsetMs.load(std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_offsetMs{0};
};

} // namespace yieldhost
