// PluginContext.h — everything a plugin may reach of the host, handed to Plugin::initialize().
//
// In Plugin::initialize(PluginContext &ctx) (snippet "context-tour", compiled in sdk/examples/snippets):
//   qCInfo(ctx.log()) << "starting with" << ctx.settings(); // category yieldhost.plugin.<id>
//   ctx.addRoute(HttpMethod::Get, u"/api/v1/things/{id}"_s, handler).auth(AuthLevel::User);
//   ctx.addWebSocket(u"/ws/things"_s, sessionHandler);
//   ctx.events().subscribe(u"things.created"_s, this, onCreated);
//   qCDebug(ctx.log()) << "the host's time:" << ctx.clock().now();
//   return {};
#pragma once

#include "yieldhost/Clock.h"
#include "yieldhost/Database.h"
#include "yieldhost/Events.h"
#include "yieldhost/Global.h"
#include "yieldhost/Http.h"
#include "yieldhost/Jobs.h"
#include "yieldhost/Settings.h"
#include "yieldhost/WebSocket.h"

#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtCore/QString>

namespace yieldhost {

class YIELDHOST_SDK_EXPORT PluginContext
{
public:
    virtual ~PluginContext();

    virtual QString pluginId() const = 0;
    virtual QJsonObject metadata() const = 0;       // the plugin's plugin.json
    virtual const QLoggingCategory &log() const = 0; // "yieldhost.plugin.<id>"

    // The plugin's own configuration section (key = plugin id), after layering defaults <
    // config file < YIELDHOST_<ID>__<KEY> environment variables. When plugin.json declares
    // "settings", every value has its declared type (see settings(), SDK 1.1).
    virtual QJsonObject config() const = 0;
    // A host-wide setting such as "sandbox" or "coingecko_url".
    virtual QJsonValue hostConfig(const QString &key) const = 0;

    virtual Clock &clock() = 0;
    virtual EventBus &events() = 0;
    // The primary (and, for DbTarget::Replica, the read replica). Ship the schema as numbered
    // migrations (yieldhost_add_plugin(... MIGRATIONS migrations)); the host applies them.
    virtual Database &database() = 0;
    // Tasks, jobs and periodic schedules (see Jobs.h).
    virtual Jobs &jobs() = 0;

    // Paths may hold parameters: "/api/v1/wallets/{id}". Registration happens in initialize().
    virtual RouteOptions &addRoute(HttpMethod method, const QString &pattern, HttpHandler handler) = 0;
    virtual void addWebSocket(const QString &path, WebSocketHandler handler) = 0;

    template <typename T>
    void provide(T *implementation) { provideService(T::ServiceId, implementation); }
    // nullptr when no plugin provides T.
    template <typename T>
    T *service() const { return static_cast<T *>(findService(T::ServiceId)); }

protected:
    virtual void provideService(const char *id, void *implementation) = 0;
    virtual void *findService(const char *id) const = 0;

public:
    // SDK 1.1 (appended: a 1.0 plugin's vtable is unchanged). The declared settings of
    // plugin.json, typed and checked by the host before initialize(); see Settings.h.
    virtual const Settings &settings() const = 0;
};

} // namespace yieldhost
