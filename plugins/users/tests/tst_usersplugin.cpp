// The users plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestUsersPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("users")); }
};

QTEST_GUILESS_MAIN(TestUsersPlugin)
#include "tst_usersplugin.moc"
