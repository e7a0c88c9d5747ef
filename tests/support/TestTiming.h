// TestTiming.h — a deadline a test asserts, stretched for a slow build. The sanitizer pass of
// scripts/test.sh runs everything 2-5 times slower and sets YIELDHOST_TEST_TIME_FACTOR=3; any
// other run gets the deadline as written (factor 1).
#pragma once

#include <QtCore/QtGlobal>

namespace yieldhost::test {

// YIELDHOST_TEST_TIME_FACTOR as a whole number of at least 1 (anything else counts as 1).
inline int timeFactor()
{
    bool ok = false;
    const int factor = qEnvironmentVariableIntValue("YIELDHOST_TEST_TIME_FACTOR", &ok);
    return ok && factor >= 1 ? factor : 1;
}

// `ms` times the time factor.
inline int scaledMs(int ms) { return ms * timeFactor(); }

} // namespace yieldhost::test
