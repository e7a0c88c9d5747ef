// Ids.h — checks on the ids clients send in paths and bodies (SDK 1.1).
//
// Check an id before it reaches SQL: PostgreSQL refuses "abc"::uuid with an error that would
// otherwise become a 500, and an unknown-but-valid id must be the same 404 as another user's.
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QString>
#include <QtCore/QStringView>

namespace yieldhost {

// The canonical textual form of a UUID: 8-4-4-4-12 hex digits, either case, no braces.
YIELDHOST_SDK_EXPORT bool isUuid(QStringView text);

// A new time-ordered UUID (RFC 9562 version 7: 48 bits of Unix milliseconds, then 74 random bits),
// lower-case, without braces. For ids of rows written in bulk: ids made later sort after earlier
// ones, so their primary-key index grows at its right edge instead of touching a random page per
// row. The creation time it reveals (to the millisecond) must be no secret.
YIELDHOST_SDK_EXPORT QString createOrderedUuid();

} // namespace yieldhost
