#include "InvestmentsPlugin.h"

namespace yieldhost::investments {

yieldhost::Status InvestmentsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "investments plugin ready";
    return {};
}

} // namespace yieldhost::investments
