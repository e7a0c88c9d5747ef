// HostServices.h — what the host shares with every plugin context: config, clock, bus, routes,
// and the registry of services plugins provide to each other.
#pragma once

#include "Config.h"
#include "DbPool.h"
#include "HostClock.h"
#include "JobRegistry.h"
#include "Router.h"

#include "yieldhost/Events.h"

#include <QtCore/QHash>
#include <QtCore/QReadWriteLock>

namespace yieldhost {

class ServiceRegistry
{
public:
    void provide(const char *id, void *implementation)
    {
        QWriteLocker lock(&m_lock);
        m_services.insert(QByteArray(id), implementation);
    }
    void *find(const char *id) const
    {
        QReadLocker lock(&m_lock);
        return m_services.value(QByteArray::fromRawData(id, qstrlen(id)));
    }
    void clear()
    {
        QWriteLocker lock(&m_lock);
        m_services.clear();
    }

private:
    mutable QReadWriteLock m_lock;
    QHash<QByteArray, void *> m_services;
};

struct HostServices
{
    explicit HostServices(Config c) : config(std::move(c)) {}

    Config config;
    HostClock clock;
    EventBus events;
    Router router;
    ServiceRegistry services;
    JobRegistry jobs;
    std::unique_ptr<DbPool> database; // set by the host before plugins load
};

} // namespace yieldhost
