// InvestmentsPlugin.h — the investments plugin: investment plans, positions, scheduled yield payouts and statements.
#pragma once

#include "yieldhost/Plugin.h"
#include "yieldhost/PluginContext.h"

#include <QtCore/QObject>

namespace yieldhost::investments {

class InvestmentsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    yieldhost::Status initialize(yieldhost::PluginContext &context) override;

private:
    yieldhost::PluginContext *m_context = nullptr;
};

} // namespace yieldhost::investments
