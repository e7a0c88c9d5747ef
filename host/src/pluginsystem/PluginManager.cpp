#include "pluginsystem/PluginManager.h"

#include "core/Logging.h"
#include "pluginsystem/HostPluginContext.h"
#include "pluginsystem/PluginSettings.h"

#include "yieldhost/Plugin.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>

#include <algorithm>
#include <exception>
#include <functional>

namespace yieldhost {

PluginManager::PluginManager(PluginEnvironment env) : m_env(env) {}

PluginManager::~PluginManager()
{
    stop();
    // Contexts go before their libraries are unloaded; instances belong to the loaders.
    for (auto &spec : m_specs)
        spec->context.reset();
}

QStringList PluginManager::defaultSearchPath(const QString &configured)
{
    QStringList dirs;
    for (const QString &dir : configured.split(u':', Qt::SkipEmptyParts))
        dirs.append(dir);
    dirs.append(QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../lib/yieldhost/plugins")));
    return dirs;
}

void PluginManager::discover(const QStringList &directories)
{
    // A path entry that yields nothing is almost always a typo or a build that did not run, and
    // its plugins then silently go missing: say so, naming the entry.
    for (const QString &dirPath : directories) {
        QDir dir(dirPath);
        if (!dir.exists()) {
            qCWarning(lcPlugins).noquote() << QStringLiteral("plugin path entry %1 does not exist").arg(dirPath);
            continue;
        }
        const QStringList files = dir.entryList({QStringLiteral("*.so")}, QDir::Files, QDir::Name);
        int plugins = 0;
        for (const QString &file : files) {
            QString error;
            const QString path = dir.absoluteFilePath(file);
            auto spec = PluginSpec::read(path, &error);
            if (!spec) {
                qCDebug(lcPlugins).noquote() << "skipping" << error;
                continue;
            }
            ++plugins;
            if (const PluginSpec *existing = find(spec->id)) {
                qCWarning(lcPlugins).noquote() << QStringLiteral("plugin %1 at %2 ignored: already found at %3")
                                                      .arg(spec->id, path, existing->filePath);
                continue;
            }
            m_specs.push_back(std::move(spec));
        }
        if (plugins == 0)
            qCWarning(lcPlugins).noquote() << QStringLiteral("plugin path entry %1 holds no Yieldhost plugin (%2 .so files)")
                                                  .arg(dir.absolutePath())
                                                  .arg(files.size());
    }
    std::sort(m_specs.begin(), m_specs.end(), [](const auto &a, const auto &b) { return a->id < b->id; });
}

void PluginManager::refuse(PluginSpec &spec, const QString &why)
{
    spec.fail(why);
    m_env.jobs.removePlugin(spec.id);
    m_env.services.removePlugin(spec.id);
    m_env.router.removeOwner(spec.id);
    qCWarning(lcPlugins).noquote() << QStringLiteral("plugin %1 refused: %2").arg(spec.id, why);
}

void PluginManager::resolve()
{
    // 1. SDK compatibility: same major, compat minor <= built-for minor <= our minor.
    for (auto &spec : m_specs) {
        const auto v = SdkVersion::parse(spec->sdk);
        if (!v) {
            refuse(*spec, QStringLiteral("its plugin.json has no valid \"sdk\" version (got \"%1\", expected e.g. \"%2\")")
                              .arg(spec->sdk, QLatin1String(YIELDHOST_SDK_VERSION_STR)));
        } else if (v->major != YIELDHOST_SDK_VERSION_MAJOR || v->minor > YIELDHOST_SDK_VERSION_MINOR
                   || v->minor < YIELDHOST_SDK_COMPAT_MINOR) {
            refuse(*spec, QStringLiteral("it was built for SDK %1 but this host provides SDK %2 (accepts %3.%4 to %2)")
                              .arg(spec->sdk, QLatin1String(YIELDHOST_SDK_VERSION_STR))
                              .arg(YIELDHOST_SDK_VERSION_MAJOR)
                              .arg(YIELDHOST_SDK_COMPAT_MINOR));
        }
    }

    // 2. Missing dependencies.
    for (auto &spec : m_specs) {
        if (spec->state == PluginState::Failed)
            continue;
        for (const QString &dep : std::as_const(spec->dependencies)) {
            if (!find(dep)) {
                refuse(*spec, QStringLiteral("it requires plugin \"%1\", which is not installed").arg(dep));
                break;
            }
        }
    }

    // 3. Cycles, then a dependency-first order (DFS visiting ids in sorted order).
    enum Mark { None, Visiting, Done };
    QHash<QString, Mark> marks;
    QStringList stack;
    std::function<void(PluginSpec &)> visit = [&](PluginSpec &spec) {
        marks[spec.id] = Visiting;
        stack.append(spec.id);
        QStringList deps = spec.dependencies;
        deps.sort();
        for (const QString &depId : std::as_const(deps)) {
            PluginSpec *dep = findMutable(depId);
            if (!dep)
                continue;
            const Mark mark = marks.value(depId, None);
            if (mark == Visiting) {
                const QStringList cycle = stack.mid(stack.indexOf(depId)) << depId;
                const QString path = cycle.join(QStringLiteral(" -> "));
                for (const QString &member : cycle.mid(0, cycle.size() - 1)) {
                    if (PluginSpec *m = findMutable(member); m && m->state != PluginState::Failed)
                        refuse(*m, QStringLiteral("dependency cycle %1").arg(path));
                }
            } else if (mark == None) {
                visit(*dep);
            }
        }
        stack.removeLast();
        marks[spec.id] = Done;
        m_order.push_back(&spec);
    };
    for (auto &spec : m_specs) {
        if (marks.value(spec->id, None) == None)
            visit(*spec);
    }

    // 4. A plugin whose dependency was refused is refused too, naming the dependency. m_order is
    //    dependency-first, so one pass propagates along chains.
    for (PluginSpec *spec : m_order) {
        if (spec->state == PluginState::Failed)
            continue;
        for (const QString &depId : std::as_const(spec->dependencies)) {
            const PluginSpec *dep = find(depId);
            if (dep && dep->state == PluginState::Failed) {
                refuse(*spec, QStringLiteral("cannot load because its dependency \"%1\" failed: %2").arg(depId, dep->error));
                break;
            }
        }
        if (spec->state != PluginState::Failed)
            spec->state = PluginState::Resolved;
    }
}

Status PluginManager::configure(const Config &config)
{
    for (PluginSpec *spec : m_order) {
        if (spec->state != PluginState::Resolved)
            continue;
        QString error;
        const std::optional<PluginSettings> declared = PluginSettings::declared(spec->metadata, &error);
        if (!declared) {
            refuse(*spec, error);
            continue;
        }
        std::optional<Settings> settings = declared->resolve(spec->id, config, &error);
        if (!settings)
            return Status::failure(error);
        spec->settings = std::move(*settings);
        spec->configured = true;
    }
    return {};
}

void PluginManager::loadAndInitialize()
{
    for (PluginSpec *spec : m_order) {
        if (spec->state != PluginState::Resolved)
            continue;
        for (const QString &depId : std::as_const(spec->dependencies)) {
            const PluginSpec *dep = find(depId);
            if (dep->state != PluginState::Initialized) {
                refuse(*spec, QStringLiteral("cannot load because its dependency \"%1\" failed: %2").arg(depId, dep->error));
                break;
            }
        }
        if (spec->state == PluginState::Failed)
            continue;

        QObject *object = spec->loader->instance();
        if (!object) {
            refuse(*spec, QStringLiteral("loading %1 failed: %2").arg(spec->filePath, spec->loader->errorString()));
            continue;
        }
        spec->instance = qobject_cast<Plugin *>(object);
        if (!spec->instance) {
            refuse(*spec, QStringLiteral("%1 does not implement yieldhost::Plugin").arg(spec->filePath));
            continue;
        }
        spec->state = PluginState::Loaded;
        if (!spec->configured) // configure() was not called (tests): the section as given
            spec->settings = Settings(m_env.config.section(spec->id));
        spec->context = std::make_unique<HostPluginContext>(m_env, spec->id, spec->metadata, spec->settings);
        Status status;
        try {
            status = spec->instance->initialize(*spec->context);
        } catch (const std::exception &e) {
            status = Status::failure(QStringLiteral("it threw %1").arg(QString::fromLocal8Bit(e.what())));
        } catch (...) {
            status = Status::failure(QStringLiteral("it threw an exception that is not a std::exception"));
        }
        if (!status.ok()) {
            refuse(*spec, QStringLiteral("initialize failed: %1").arg(status.error()));
            continue;
        }
        if (!spec->context->registrationErrors().isEmpty()) {
            refuse(*spec, QStringLiteral("initialize failed: %1").arg(spec->context->registrationErrors().join(QStringLiteral("; "))));
            continue;
        }
        spec->state = PluginState::Initialized;
        qCInfo(lcPlugins).noquote() << QStringLiteral("plugin %1 %2 initialized").arg(spec->id, spec->version);
    }
}

void PluginManager::start()
{
    for (PluginSpec *spec : m_order) {
        if (spec->state != PluginState::Initialized)
            continue;
        spec->instance->start();
        spec->state = PluginState::Running;
    }
}

void PluginManager::stop()
{
    for (auto it = m_order.rbegin(); it != m_order.rend(); ++it) {
        PluginSpec *spec = *it;
        if (spec->state != PluginState::Running && spec->state != PluginState::Initialized)
            continue;
        spec->instance->stop();
        spec->state = PluginState::Stopped;
        qCInfo(lcPlugins).noquote() << QStringLiteral("plugin %1 stopped").arg(spec->id);
    }
}

const PluginSpec *PluginManager::find(const QString &id) const
{
    for (const auto &spec : m_specs) {
        if (spec->id == id)
            return spec.get();
    }
    return nullptr;
}

PluginSpec *PluginManager::findMutable(const QString &id) { return const_cast<PluginSpec *>(find(id)); }

QJsonArray PluginManager::describe() const
{
    QJsonArray list;
    for (const PluginSpec *spec : m_order)
        list.append(spec->describe());
    return list;
}

QStringList PluginManager::order() const
{
    QStringList ids;
    for (const PluginSpec *spec : m_order) {
        if (spec->state != PluginState::Failed)
            ids.append(spec->id);
    }
    return ids;
}

} // namespace yieldhost
