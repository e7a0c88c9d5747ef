// Snippets.h — the code examples of the SDK headers and docs as a plugin that compiles and runs
// them (see CMakeLists.txt for how an example and its snippet stay the same text).
#pragma once

#include <yieldhost/Plugin.h>
#include <yieldhost/PluginContext.h>

#include <QtCore/QObject>
#include <QtCore/QThreadPool>

// snippet: plugin-class
class SnippetsPlugin : public QObject, public yieldhost::Plugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID YIELDHOST_PLUGIN_IID FILE "plugin.json")
    Q_INTERFACES(yieldhost::Plugin)

public:
    yieldhost::Status initialize(yieldhost::PluginContext &context) override;
};
// end snippet

// snippet: service-interface
// A service interface: abstract, with the id consumers find it by.
class Greeter
{
public:
    static constexpr const char *ServiceId = "dev.yieldhost.snippets.Greeter/1";
    virtual ~Greeter() = default;
    virtual QString greet(const QString &name) const = 0;
};
// end snippet

class SnippetGreeter final : public Greeter
{
public:
    QString greet(const QString &name) const override { return QStringLiteral("hello, ") + name; }
};

// One member function per example; `ctx` is the plugin's context, `this` a QObject owned by the
// plugin (the context object for subscriptions).
class Snippets : public QObject
{
    Q_OBJECT
public:
    Snippets(yieldhost::PluginContext &context, QObject *parent);
    yieldhost::Status registerAll();

private:
    yieldhost::Status contextTour();
    yieldhost::Status checkConfig();
    void readSettings();
    void greetRoute();
    void echoSocket();
    void events();
    void eventsKeyed();
    yieldhost::Status tasks();
    void provideAndFindService();
    QCoro::Task<yieldhost::HttpResponse> balance(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> debit(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> requestStatement(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> hash(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> clock(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> decimal(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> status(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> insufficientFunds(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> problems(yieldhost::HttpRequest request);
    void idempotentRoute();
    QCoro::Task<yieldhost::HttpResponse> deposit(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> wallets(yieldhost::HttpRequest request);
    QCoro::Task<yieldhost::HttpResponse> touchWallet(yieldhost::HttpRequest request);

    yieldhost::PluginContext &ctx;
    QThreadPool m_pool;
    SnippetGreeter m_greeter;
    QString m_greeting; // what the consumer side of the service example got
};
