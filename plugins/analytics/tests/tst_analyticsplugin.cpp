// The analytics plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestAnalyticsPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("analytics")); }
};

QTEST_GUILESS_MAIN(TestAnalyticsPlugin)
#include "tst_analyticsplugin.moc"
