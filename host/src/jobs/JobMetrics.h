// JobMetrics.h — job counts by queue and state for /metrics.
//
// A scrape must not wait on the database, so the counts are refreshed in the background and
// the collector prints the last snapshot.
#pragma once

#include "jobs/JobStore.h"

#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace yieldhost {

class Metrics;

class JobMetrics : public QObject
{
    Q_OBJECT
public:
    JobMetrics(Database &db, const JobRegistry &registry, Metrics &metrics, int refreshMs, QObject *parent = nullptr);
    QByteArray text() const;

private:
    QCoro::Task<> refresh();

    JobStore m_store;
    const JobRegistry &m_registry;
    QTimer m_timer;
    mutable QMutex m_mutex;
    QByteArray m_text;
    bool m_refreshing = false;
};

} // namespace yieldhost
