// The notifications plugin loads with the real plugin set, resolves its dependencies and runs.
#include "PluginLoadCheck.h"

class TestNotificationsPlugin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsAndRuns() { yieldhost::test::checkPluginRuns(QStringLiteral("notifications")); }
};

QTEST_GUILESS_MAIN(TestNotificationsPlugin)
#include "tst_notificationsplugin.moc"
