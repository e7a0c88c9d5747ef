#include "core/ServiceRegistry.h"

namespace yieldhost {

bool ServiceRegistry::provide(const QString &plugin, const char *id, void *implementation, QString *error)
{
    QWriteLocker lock(&m_lock);
    const QByteArray key(id);
    if (const auto existing = m_services.constFind(key); existing != m_services.cend()) {
        *error = QStringLiteral("service %1 is already provided by plugin %2; a second provider is refused")
                     .arg(QString::fromLatin1(key), existing->plugin);
        return false;
    }
    m_services.insert(key, Entry{plugin, implementation});
    return true;
}

void *ServiceRegistry::find(const char *id) const
{
    QReadLocker lock(&m_lock);
    return m_services.value(QByteArray::fromRawData(id, qstrlen(id))).implementation;
}

void ServiceRegistry::removePlugin(const QString &plugin)
{
    QWriteLocker lock(&m_lock);
    m_services.removeIf([&plugin](const auto &it) { return it.value().plugin == plugin; });
}

void ServiceRegistry::clear()
{
    QWriteLocker lock(&m_lock);
    m_services.clear();
}

} // namespace yieldhost
