// The integrations plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestIntegrationsPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("integrations")); }
};

QTEST_GUILESS_MAIN(TestIntegrationsPlugin)
#include "tst_integrationsplugin.moc"
