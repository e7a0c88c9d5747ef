// The investments plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestInvestmentsPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("investments")); }
};

QTEST_GUILESS_MAIN(TestInvestmentsPlugin)
#include "tst_investmentsplugin.moc"
