#include "WalletsPlugin.h"

namespace yieldhost::wallets {

yieldhost::Status WalletsPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "wallets plugin ready";
    return {};
}

} // namespace yieldhost::wallets
