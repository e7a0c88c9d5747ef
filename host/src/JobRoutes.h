// JobRoutes.h — the staff-only job admin API (/api/v1/admin/...) and the /admin/jobs dashboard.
#pragma once

namespace yieldhost {

struct HostServices;

void registerJobRoutes(HostServices &services);

} // namespace yieldhost
