// The wallets plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestWalletsPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("wallets")); }
};

QTEST_GUILESS_MAIN(TestWalletsPlugin)
#include "tst_walletsplugin.moc"
