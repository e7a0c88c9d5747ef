// ServiceRegistry.h — the services plugins provide to each other, by interface id
// (`context.provide<yieldhost::Accounts>(…)`, `context.service<yieldhost::Accounts>()`).
//
// Filled while plugins initialize and read from every thread afterwards. One provider per id:
// a second provider is refused rather than silently replacing the first, so which
// implementation answers never depends on plugin load order.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QReadWriteLock>
#include <QtCore/QString>

namespace yieldhost {

class ServiceRegistry
{
public:
    // Registers `implementation` for `id` on behalf of `plugin`; returns false and sets *error
    // when another plugin already provides it.
    bool provide(const QString &plugin, const char *id, void *implementation, QString *error);
    void *find(const char *id) const;
    // Withdraws every service `plugin` provided (it was refused or failed to start).
    void removePlugin(const QString &plugin);
    void clear();

private:
    struct Entry
    {
        QString plugin;
        void *implementation = nullptr;
    };
    mutable QReadWriteLock m_lock;
    QHash<QByteArray, Entry> m_services;
};

} // namespace yieldhost
