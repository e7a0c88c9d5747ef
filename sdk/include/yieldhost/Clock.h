// Clock.h — the one source of "now" for the host and every plugin.
//
// Nothing reads QDateTime::currentDateTimeUtc() directly: in sandbox mode staff can move the
// host's clock forward to exercise yield payouts, and every part of the system must agree. The
// offset is shared by every host process (it is stored in PostgreSQL; a change reaches each
// process within a second), and SQL can use it too: host_now() is now() plus the offset.
// Example (snippet "clock"):
//   const QDateTime now = ctx.clock().now(); // always UTC
// Security windows — token lifetimes, login throttles — are the one exception: they run on
// real time (Clock::wallNow()), or a 31-day jump would expire every session at once.
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QDateTime>

namespace yieldhost {

class YIELDHOST_SDK_EXPORT Clock
{
public:
    virtual ~Clock();
    // Current time in UTC. Thread-safe.
    virtual QDateTime now() const = 0;

    // Real time in UTC, never moved by the test clock (SDK 1.1). Only for security windows.
    static QDateTime wallNow();
};

} // namespace yieldhost
