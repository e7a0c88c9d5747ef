#include "AnalyticsPlugin.h"

namespace yieldhost::analytics {

yieldhost::Status AnalyticsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "analytics plugin ready";
    return {};
}

} // namespace yieldhost::analytics
