#include "NotificationsPlugin.h"

namespace yieldhost::notifications {

yieldhost::Status NotificationsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "notifications plugin ready";
    return {};
}

} // namespace yieldhost::notifications
