#include "IntegrationsPlugin.h"

namespace yieldhost::integrations {

yieldhost::Status IntegrationsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "integrations plugin ready";
    return {};
}

} // namespace yieldhost::integrations
