#include "pluginsystem/PluginSpec.h"

#include "pluginsystem/HostPluginContext.h"

#include "yieldhost/Plugin.h"

#include <QtCore/QJsonArray>
#include <QtCore/QRegularExpression>

namespace yieldhost {

QString stateName(PluginState state)
{
    switch (state) {
    case PluginState::Read: return QStringLiteral("read");
    case PluginState::Resolved: return QStringLiteral("resolved");
    case PluginState::Loaded: return QStringLiteral("loaded");
    case PluginState::Initialized: return QStringLiteral("initialized");
    case PluginState::Running: return QStringLiteral("running");
    case PluginState::Stopped: return QStringLiteral("stopped");
    case PluginState::Failed: return QStringLiteral("failed");
    }
    return {};
}

std::optional<SdkVersion> SdkVersion::parse(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^(\\d{1,4})\\.(\\d{1,4})(\\.\\d{1,4})?$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    return SdkVersion{m.captured(1).toInt(), m.captured(2).toInt()};
}

PluginSpec::~PluginSpec() = default;

std::unique_ptr<PluginSpec> PluginSpec::read(const QString &filePath, QString *error)
{
    auto loader = std::make_unique<QPluginLoader>(filePath);
    const QJsonObject raw = loader->metaData();
    if (raw.isEmpty()) {
        *error = QStringLiteral("%1 is not a Qt plugin").arg(filePath);
        return nullptr;
    }
    if (raw.value(QLatin1String("IID")).toString() != QLatin1String(YIELDHOST_PLUGIN_IID)) {
        *error = QStringLiteral("%1 is a Qt plugin but not a Yieldhost plugin (IID %2)")
                     .arg(filePath, raw.value(QLatin1String("IID")).toString());
        return nullptr;
    }
    const QJsonObject meta = raw.value(QLatin1String("MetaData")).toObject();
    auto spec = std::make_unique<PluginSpec>();
    spec->filePath = filePath;
    spec->metadata = meta;
    spec->id = meta.value(QLatin1String("id")).toString();
    spec->name = meta.value(QLatin1String("name")).toString(spec->id);
    spec->version = meta.value(QLatin1String("version")).toString();
    spec->sdk = meta.value(QLatin1String("sdk")).toString();
    spec->description = meta.value(QLatin1String("description")).toString();
    spec->license = meta.value(QLatin1String("license")).toString();
    for (const QJsonValue &dep : meta.value(QLatin1String("requires")).toArray())
        spec->dependencies.append(dep.toString());
    spec->loader = std::move(loader);

    static const QRegularExpression idRe(QStringLiteral("^[a-z][a-z0-9_-]{0,62}$"));
    if (!idRe.match(spec->id).hasMatch()) {
        *error = QStringLiteral("%1: plugin.json needs an \"id\" of lower-case letters, digits, - or _ (got \"%2\")")
                     .arg(filePath, spec->id);
        return nullptr;
    }
    return spec;
}

QJsonObject PluginSpec::describe() const
{
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("name"), name},
                  {QStringLiteral("version"), version},
                  {QStringLiteral("sdk"), sdk},
                  {QStringLiteral("requires"), QJsonArray::fromStringList(dependencies)},
                  {QStringLiteral("description"), description},
                  {QStringLiteral("license"), license},
                  {QStringLiteral("state"), stateName(state)}};
    if (state == PluginState::Failed)
        o.insert(QStringLiteral("error"), error);
    return o;
}

} // namespace yieldhost
