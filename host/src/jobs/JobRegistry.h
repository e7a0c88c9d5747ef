// JobRegistry.h — the tasks, schedules and cleanup steps that plugins (and the host) declared.
//
// Filled while plugins initialize, read-only afterwards: workers, the beat, run-task and the admin
// routes all look tasks up here.
#pragma once

#include "jobs/Cron.h"

#include "yieldhost/Jobs.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QReadWriteLock>

namespace yieldhost {

struct TaskSpec
{
    QString name;
    QString plugin;
    TaskOptions options;
    TaskHandler handler;
};

struct ScheduleSpec
{
    QString task;
    Cron cron;
    QJsonObject args;
};

struct CleanupSpec
{
    QString plugin;
    QString description;
    TaskHandler step;
};

class JobRegistry
{
public:
    Status registerTask(const QString &plugin, const QString &name, const TaskOptions &options, TaskHandler handler);
    Status addSchedule(const QString &plugin, const QString &task, const QString &cron, const QJsonObject &args);
    void addCleanup(const QString &plugin, const QString &description, TaskHandler step);
    // Forgets what a plugin declared (it failed to initialize).
    void removePlugin(const QString &plugin);

    std::optional<TaskSpec> task(const QString &name) const;
    QList<TaskSpec> tasks() const;          // sorted by name
    QList<ScheduleSpec> schedules() const;  // sorted by task
    QList<CleanupSpec> cleanups() const;    // in registration order
    QStringList queues() const;             // every queue a task names, sorted

    static bool isValidQueueName(const QString &queue);

private:
    mutable QReadWriteLock m_lock;
    QHash<QString, TaskSpec> m_tasks;
    QHash<QString, ScheduleSpec> m_schedules;
    QList<CleanupSpec> m_cleanups;
};

} // namespace yieldhost
