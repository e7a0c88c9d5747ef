// ClockTasks.h — testkit tasks that let the clock tests see what a worker or beat process
// believes the time is: testkit.clock notes the process's ctx.clock().now(), and testkit.daily
// (scheduled daily at 00:05 only with YIELDHOST_TESTKIT__DAILY_SCHEDULE=1, so other tests'
// beats never fire it) records each run.
#pragma once

#include "yieldhost/PluginContext.h"

yieldhost::Status registerClockTasks(yieldhost::PluginContext &context);
