// OutboxProbe.h — testkit's view of the transactional outbox: POST /test/outbox/publish and the
// task testkit.outbox_publish write "testkit.outbox" events through publishIn() ({"n", "count",
// "commit", "hold_ms"}: count events numbered n.., committed or rolled back, the transaction
// held open for hold_ms after writing so it commits out of id order), and every process's
// subscriber notes each delivery as "outbox <pid> <n>" so a test counts deliveries per process.
#pragma once

#include "yieldhost/PluginContext.h"

yieldhost::Status registerOutboxProbe(yieldhost::PluginContext &context, QObject *subscriberContext);
