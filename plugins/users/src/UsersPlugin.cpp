#include "UsersPlugin.h"

namespace yieldhost::users {

yieldhost::Status UsersPlugin::initialize(yieldhost::PluginContext &context)
{
    m_context = &context;
    qCInfo(context.log()) << "users plugin ready";
    return {};
}

} // namespace yieldhost::users
