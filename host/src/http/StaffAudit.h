// StaffAudit.h — one "yieldhost.audit" line per change made with staff rights: who, from where,
// what, and the request id that ties it to the access log line.
#pragma once

#include "yieldhost/Http.h"

namespace yieldhost {

void auditStaffChange(const HttpRequest &request, const QString &what);

} // namespace yieldhost
