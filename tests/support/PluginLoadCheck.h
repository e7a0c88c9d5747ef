// PluginLoadCheck.h — the shared body of each domain plugin's load test.
#pragma once

#include "HostParts.h"
#include "pluginsystem/HostPluginContext.h"
#include "pluginsystem/PluginManager.h"

#include <QtTest/QtTest>

namespace yieldhost::test {

inline void checkPluginRuns(const QString &id)
{
    QString error;
    auto config = Config::load(Config::builtInDefaults(), {}, {}, &error);
    QVERIFY2(config, qPrintable(error));
    HostParts parts(std::move(*config));
    PluginManager manager(parts.environment());
    manager.discover({QStringLiteral(YIELDHOST_PLUGIN_DIR)});
    manager.resolve();
    manager.loadAndInitialize();
    manager.start();

    const PluginSpec *spec = manager.find(id);
    QVERIFY2(spec, qPrintable(QStringLiteral("plugin %1 not found in %2").arg(id, QStringLiteral(YIELDHOST_PLUGIN_DIR))));
    QCOMPARE(stateName(spec->state), QStringLiteral("running"));
    QCOMPARE(spec->id, id);
    QCOMPARE(spec->sdk, QStringLiteral(YIELDHOST_SDK_VERSION_STR));
    QVERIFY(!spec->name.isEmpty());
    QVERIFY(!spec->version.isEmpty());
    QVERIFY(!spec->description.isEmpty());
    QVERIFY(!spec->license.isEmpty());
    QVERIFY(spec->context);
    QCOMPARE(QByteArray(spec->context->log().categoryName()), "yieldhost.plugin." + id.toUtf8());
    // Its dependencies start before it.
    const QStringList order = manager.order();
    for (const QString &dep : spec->dependencies)
        QVERIFY2(order.indexOf(dep) < order.indexOf(id), qPrintable(order.join(u',')));
    manager.stop();
    QCOMPARE(stateName(spec->state), QStringLiteral("stopped"));
}

} // namespace yieldhost::test
