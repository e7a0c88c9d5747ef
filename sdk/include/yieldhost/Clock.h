// Clock.h — the one source of "now" for the host and every plugin.
//
// Nothing reads QDateTime::currentDateTimeUtc() directly: in sandbox mode staff can move the
// host's clock forward to exercise yield payouts, and every part of the system must agree.
//   const QDateTime now = context.clock().now();   // always UTC
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
};

} // namespace yieldhost
