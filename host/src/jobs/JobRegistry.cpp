#include "jobs/JobRegistry.h"

#include <QtCore/QRegularExpression>

#include <algorithm>

namespace yieldhost {

namespace {

const QRegularExpression &taskNamePattern()
{
    static const QRegularExpression pattern(QStringLiteral("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$"));
    return pattern;
}

} // namespace

bool JobRegistry::isValidQueueName(const QString &queue)
{
    static const QRegularExpression pattern(QStringLiteral("^[a-z][a-z0-9_]{0,39}$"));
    return pattern.match(queue).hasMatch();
}

Status JobRegistry::registerTask(const QString &plugin, const QString &name, const TaskOptions &options, TaskHandler handler)
{
    if (!taskNamePattern().match(name).hasMatch() || !name.startsWith(plugin + u'.'))
        return Status::failure(QStringLiteral("task name \"%1\" must be \"%2.<name>\" in lower case").arg(name, plugin));
    if (!isValidQueueName(options.queue))
        return Status::failure(QStringLiteral("task %1: queue \"%2\" must be 1-40 lower-case letters, digits or _").arg(name, options.queue));
    if (options.maxAttempts < 1 || options.maxAttempts > 100)
        return Status::failure(QStringLiteral("task %1: max attempts must be 1-100").arg(name));
    if (options.timeoutSeconds < 1 || options.timeoutSeconds > 7 * 24 * 3600)
        return Status::failure(QStringLiteral("task %1: timeout must be 1 s to 7 days").arg(name));
    if (!handler)
        return Status::failure(QStringLiteral("task %1 has no handler").arg(name));
    QWriteLocker lock(&m_lock);
    if (m_tasks.contains(name))
        return Status::failure(QStringLiteral("task %1 is already registered by plugin %2").arg(name, m_tasks.value(name).plugin));
    m_tasks.insert(name, TaskSpec{name, plugin, options, std::move(handler)});
    return {};
}

Status JobRegistry::addSchedule(const QString &plugin, const QString &task, const QString &cron, const QJsonObject &args)
{
    QString error;
    std::optional<Cron> parsed = Cron::parse(cron, &error);
    if (!parsed)
        return Status::failure(QStringLiteral("schedule of %1: %2").arg(task, error));
    if (!parsed->next(QDateTime::currentDateTimeUtc()).isValid())
        return Status::failure(QStringLiteral("schedule of %1: \"%2\" never fires").arg(task, cron));
    QWriteLocker lock(&m_lock);
    const auto it = m_tasks.constFind(task);
    if (it == m_tasks.cend() || it->plugin != plugin)
        return Status::failure(QStringLiteral("schedule of %1: register the task first (a plugin schedules only its own tasks)").arg(task));
    if (m_schedules.contains(task))
        return Status::failure(QStringLiteral("task %1 already has a schedule").arg(task));
    m_schedules.insert(task, ScheduleSpec{task, std::move(*parsed), args});
    return {};
}

void JobRegistry::addCleanup(const QString &plugin, const QString &description, TaskHandler step)
{
    QWriteLocker lock(&m_lock);
    m_cleanups.append(CleanupSpec{plugin, description, std::move(step)});
}

void JobRegistry::removePlugin(const QString &plugin)
{
    QWriteLocker lock(&m_lock);
    m_tasks.removeIf([&](const auto &it) { return it.value().plugin == plugin; });
    m_schedules.removeIf([&](const auto &it) { return !m_tasks.contains(it.key()); });
    m_cleanups.removeIf([&](const CleanupSpec &c) { return c.plugin == plugin; });
}

std::optional<TaskSpec> JobRegistry::task(const QString &name) const
{
    QReadLocker lock(&m_lock);
    const auto it = m_tasks.constFind(name);
    if (it == m_tasks.cend())
        return std::nullopt;
    return *it;
}

QList<TaskSpec> JobRegistry::tasks() const
{
    QReadLocker lock(&m_lock);
    QList<TaskSpec> out = m_tasks.values();
    std::sort(out.begin(), out.end(), [](const TaskSpec &a, const TaskSpec &b) { return a.name < b.name; });
    return out;
}

QList<ScheduleSpec> JobRegistry::schedules() const
{
    QReadLocker lock(&m_lock);
    QList<ScheduleSpec> out = m_schedules.values();
    std::sort(out.begin(), out.end(), [](const ScheduleSpec &a, const ScheduleSpec &b) { return a.task < b.task; });
    return out;
}

QList<CleanupSpec> JobRegistry::cleanups() const
{
    QReadLocker lock(&m_lock);
    return m_cleanups;
}

QStringList JobRegistry::queues() const
{
    QReadLocker lock(&m_lock);
    QStringList out;
    for (const TaskSpec &t : m_tasks)
        if (!out.contains(t.options.queue))
            out.append(t.options.queue);
    out.sort();
    return out;
}

} // namespace yieldhost
