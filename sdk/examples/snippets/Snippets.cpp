// Snippets.cpp — each block between "// snippet: <name>" and "// end snippet" is, line for line,
// an example shown in an SDK header or in docs/ (tests/sdk/snippets.py compares them). The code
// around the blocks only gives them the variables they use and lets the tests run them.
#include "Snippets.h"

#include <yieldhost/Decimal.h>
#include <yieldhost/Idempotency.h>
#include <yieldhost/Outbox.h>
#include <yieldhost/Paging.h>
#include <yieldhost/RunOn.h>

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonObject>

using namespace yieldhost;
using namespace Qt::StringLiterals;

namespace {

QString slowHash(const QString &password)
{
    return QString::fromLatin1(QCryptographicHash::hash(password.toUtf8(), QCryptographicHash::Sha256).toHex());
}

} // namespace

Status SnippetsPlugin::initialize(PluginContext &context)
{
    auto *snippets = new Snippets(context, this);
    return snippets->registerAll();
}

Snippets::Snippets(PluginContext &context, QObject *parent) : QObject(parent), ctx(context) {}

Status Snippets::registerAll()
{
    if (Status s = contextTour(); !s)
        return s;
    readSettings();
    greetRoute();
    echoSocket();
    events();
    eventsKeyed();
    if (Status s = tasks(); !s)
        return s;
    provideAndFindService();
    auto route = [this](HttpMethod method, const QString &path, QCoro::Task<HttpResponse> (Snippets::*member)(HttpRequest)) {
        ctx.addRoute(method, path, [this, member](HttpRequest request) { return (this->*member)(std::move(request)); })
            .auth(AuthLevel::Public);
    };
    route(HttpMethod::Get, u"/api/v1/snippets/wallets/{id}/balance"_s, &Snippets::balance);
    route(HttpMethod::Post, u"/api/v1/snippets/wallets/{id}/debit"_s, &Snippets::debit);
    route(HttpMethod::Post, u"/api/v1/snippets/statements"_s, &Snippets::requestStatement);
    route(HttpMethod::Post, u"/api/v1/snippets/hash"_s, &Snippets::hash);
    route(HttpMethod::Get, u"/api/v1/snippets/clock"_s, &Snippets::clock);
    route(HttpMethod::Get, u"/api/v1/snippets/decimal"_s, &Snippets::decimal);
    route(HttpMethod::Get, u"/api/v1/snippets/status"_s, &Snippets::status);
    route(HttpMethod::Post, u"/api/v1/snippets/withdrawals"_s, &Snippets::insufficientFunds);
    route(HttpMethod::Get, u"/api/v1/snippets/problems"_s, &Snippets::problems);
    idempotentRoute();
    route(HttpMethod::Get, u"/api/v1/snippets/wallets"_s, &Snippets::wallets);
    route(HttpMethod::Post, u"/api/v1/snippets/wallets/{id}/touch"_s, &Snippets::touchWallet);
    return {};
}

// PluginContext.h
Status Snippets::contextTour()
{
    HttpHandler handler = [](HttpRequest request) -> QCoro::Task<HttpResponse> {
        co_return HttpResponse::json(200, QJsonObject{{u"id"_s, request.pathParam(u"id"_s)}});
    };
    WebSocketHandler sessionHandler = [](WebSocketSession *session) { session->sendText(u"welcome"_s); };
    auto onCreated = [this](const Event &event) { qCInfo(ctx.log()) << "thing created" << event.data; };
    // snippet: context-tour
    qCInfo(ctx.log()) << "starting with" << ctx.settings(); // category yieldhost.plugin.<id>
    ctx.addRoute(HttpMethod::Get, u"/api/v1/things/{id}"_s, handler).auth(AuthLevel::User);
    ctx.addWebSocket(u"/ws/things"_s, sessionHandler);
    ctx.events().subscribe(u"things.created"_s, this, onCreated);
    qCDebug(ctx.log()) << "the host's time:" << ctx.clock().now();
    return {};
    // end snippet
}

// Settings.h (the declaration is in plugin.json)
void Snippets::readSettings()
{
    // snippet: settings
    const Settings &settings = ctx.settings();
    const qint64 ttl = settings.integer(u"ttl_seconds"_s);       // 900 unless configured
    const std::optional<Decimal> fee = settings.decimal(u"fee"_s); // exact: "0.25"
    const bool verbose = settings.boolean(u"verbose"_s);
    qCInfo(ctx.log()) << "settings:" << settings; // secrets print as "(secret)"
    if (verbose && fee)
        qCInfo(ctx.log()) << "tokens live" << ttl << "s; the fee is" << fee->toString();
    // end snippet
}

// Status.h
Status Snippets::checkConfig()
{
    // snippet: status
    if (ctx.config().value(u"rate").toString().isEmpty())
        return Status::failure(u"config key \"rate\" is missing"_s);
    return {};
    // end snippet
}

// Http.h
void Snippets::greetRoute()
{
    // snippet: http-route
    ctx.addRoute(HttpMethod::Get, u"/api/v1/snippets/hello/{name}"_s,
        [](HttpRequest req) -> QCoro::Task<HttpResponse> {
            co_return HttpResponse::json(200, QJsonObject{{u"hello"_s, req.pathParam(u"name"_s)}});
        }).auth(AuthLevel::Public).summary(u"Greets"_s);
    // end snippet
}

// WebSocket.h
void Snippets::echoSocket()
{
    // snippet: websocket-echo
    ctx.addWebSocket(u"/ws/snippets/echo"_s, [](WebSocketSession *s) {
        QObject::connect(s, &WebSocketSession::textReceived, s,
                         [s](const QString &m) { s->sendText(m); });
    });
    // end snippet
}

// Events.h
void Snippets::events()
{
    const QString id = u"w1"_s;
    // snippet: events
    ctx.events().subscribe(topics::WalletUpdated, this, [this](const Event &e) {
        qCInfo(ctx.log()) << "wallet" << e.data.value(u"wallet_id").toString() << "updated";
    });
    ctx.events().publish(topics::WalletUpdated, QJsonObject{{u"wallet_id"_s, id}});
    // end snippet
}

// Events.h, keyed delivery (SDK 1.1)
void Snippets::eventsKeyed()
{
    const QString userId = u"u1"_s;
    // snippet: events-keyed
    ctx.events().subscribeFor(topics::Notification, userId, this, [this](const Event &e) {
        qCInfo(ctx.log()) << "notification for" << e.userId << e.data.value(u"title").toString();
    });
    ctx.events().publishFor(topics::Notification, userId, QJsonObject{{u"title"_s, u"Yield paid"_s}});
    // end snippet
}

// Jobs.h, docs/jobs.md
Status Snippets::tasks()
{
    // snippet: jobs-task
    TaskOptions options; // queue "default", 5 attempts, 300 s timeout
    options.queue = u"yields"_s;
    auto pay = [](JobContext &job) -> QCoro::Task<Status> {
        const qint64 n = job.args().value(u"positions").toInteger();
        job.progress(u"paying %1 positions"_s.arg(n)); // run-task prints it, workers log it
        co_return Status{}; // a failed Status (or an exception) is a failed attempt
    };
    Status registered = ctx.jobs().registerTask(u"snippets.process_yield_payments"_s, options, pay);
    if (registered)
        registered = ctx.jobs().addSchedule(u"snippets.process_yield_payments"_s, u"5 0 * * *"_s); // UTC
    // end snippet
    if (!registered)
        return registered;
    auto generate = [](JobContext &job) -> QCoro::Task<Status> {
        job.progress(u"statement for %1"_s.arg(job.args().value(u"period").toString()));
        co_return Status{};
    };
    return ctx.jobs().registerTask(u"snippets.generate_statements"_s, TaskOptions{}, generate);
}

// Services.h
void Snippets::provideAndFindService()
{
    // snippet: services
    ctx.provide<Greeter>(&m_greeter);           // in the provider's initialize()
    const Greeter *greeter = ctx.service<Greeter>(); // in a consumer, nullptr when none
    // end snippet
    m_greeting = greeter ? greeter->greet(u"snippets"_s) : QString();
    qCInfo(ctx.log()).noquote() << "service says:" << m_greeting;
}

// Database.h
QCoro::Task<HttpResponse> Snippets::balance(HttpRequest request)
{
    const QString id = request.pathParam(u"id"_s);
    // snippet: database-query
    const QVariantList params{id}; // a braced list inside co_await does not compile on GCC 12
    const SqlResult r = co_await ctx.database().query(u"SELECT balance FROM snippets_wallet WHERE id = ?"_s, params);
    if (r.error())
        co_return problemFor(r.error()).toResponse(); // problemFor: Http.h
    const std::optional<Decimal> balance = r.decimal(0, u"balance"_s);
    // end snippet
    if (!balance)
        co_return Problem::notFound(u"No such wallet."_s).toResponse();
    co_return HttpResponse::json(200, QJsonObject{{u"balance"_s, balance->toString(2)}});
}

// Database.h
QCoro::Task<HttpResponse> Snippets::debit(HttpRequest request)
{
    const QString id = request.pathParam(u"id"_s);
    const std::optional<Decimal> parsed = Decimal::fromString(request.json().toObject().value(u"amount").toString());
    if (!parsed || parsed->signum() <= 0)
        co_return Problem::validation({{u"amount"_s, {u"must be a positive decimal"_s}}}).toResponse();
    const Decimal amount = *parsed;
    // snippet: database-transaction
    auto work = [&](SqlTransaction &tx) -> Status {
        const SqlResult debit = tx.exec(u"UPDATE snippets_wallet SET balance = balance - ? WHERE id = ? AND balance >= ?"_s,
                                        {amount.toString(), id, amount.toString()});
        if (debit.error())
            return Status::failure(u"debit failed"_s);
        if (debit.rowsAffected() == 0)
            return Status::failure(u"insufficient funds"_s);
        return {};
    };
    const TransactionOutcome t = co_await ctx.database().transaction(std::move(work));
    // end snippet
    if (!t.committed)
        co_return Problem::conflict(u"not-debited"_s, u"Not debited"_s, t.failure.isEmpty() ? t.error.message : t.failure).toResponse();
    co_return HttpResponse::json(200, QJsonObject{{u"attempts"_s, t.attempts}});
}

// Jobs.h
QCoro::Task<HttpResponse> Snippets::requestStatement(HttpRequest)
{
    // snippet: jobs-enqueue-in
    Jobs &jobs = ctx.jobs();
    const QJsonObject args{{u"period"_s, u"2026-10"_s}};
    auto work = [&](SqlTransaction &tx) -> Status {
        // ... the business change's own statements, then its follow-up job:
        const EnqueueResult job = jobs.enqueueIn(tx, u"snippets.generate_statements"_s, args);
        return job ? Status{} : Status::failure(job.failure);
    };
    const TransactionOutcome t = co_await ctx.database().transaction(std::move(work));
    // end snippet
    co_return HttpResponse::json(t.committed ? 202 : 503, QJsonObject{{u"committed"_s, t.committed}});
}

// RunOn.h
QCoro::Task<HttpResponse> Snippets::hash(HttpRequest request)
{
    const QString password = request.json().toObject().value(u"password").toString();
    // snippet: run-on
    auto work = [password] { return slowHash(password); }; // a local: see Database.h on GCC 12
    const QString hash = co_await yieldhost::runOn(&m_pool, std::move(work));
    // end snippet
    co_return HttpResponse::json(200, QJsonObject{{u"hash"_s, hash}});
}

// Clock.h
QCoro::Task<HttpResponse> Snippets::clock(HttpRequest)
{
    // snippet: clock
    const QDateTime now = ctx.clock().now(); // always UTC
    // end snippet
    co_return HttpResponse::json(200, QJsonObject{{u"now"_s, now.toString(Qt::ISODateWithMs)}});
}

// Decimal.h
QCoro::Task<HttpResponse> Snippets::decimal(HttpRequest)
{
    // snippet: decimal
    using yieldhost::Decimal;
    const std::optional<Decimal> price = Decimal::fromString(u"19.99");  // scale 2
    const std::optional<Decimal> total = price->mul(Decimal::fromInt(3)); // 59.97
    const std::optional<Decimal> each = total->div(Decimal::fromInt(7), 2); // 8.57, half-even
    const std::optional<Decimal> rate = Decimal::fromString(u"0.000000014999999999"); // scale 18
    const std::optional<Decimal> fee = price->mul(*rate, 8);               // 0.00000030, once
    // 30 days of 5 % a year on 1000.00, to the cent: round(1000.00 x 0.05 x 30 / 365, 2)
    const std::optional<Decimal> yield = Decimal::mulDiv(*Decimal::fromString(u"1000.00"),
                                                         *Decimal::fromString(u"1.50"), // 0.05 x 30
                                                         Decimal::fromInt(365), 2); // 4.11
    if (each && fee && yield)
        qInfo() << each->toString() << fee->toString() << yield->toString();
    // end snippet
    auto text = [](const std::optional<Decimal> &d) { return d ? d->toString() : QString(); };
    co_return HttpResponse::json(200, QJsonObject{{u"total"_s, text(total)}, {u"each"_s, text(each)},
                                                  {u"fee"_s, text(fee)}, {u"yield"_s, text(yield)}});
}

// Http.h
QCoro::Task<HttpResponse> Snippets::insufficientFunds(HttpRequest)
{
    // snippet: problem-builder
    co_return Problem::make(409)
        .type(u"insufficient-funds"_s)
        .title(u"Insufficient funds"_s)
        .detail(u"The wallet holds 12.50 EUR; the withdrawal needs 20.00 EUR."_s)
        .toResponse();
    // end snippet
}

// Http.h
QCoro::Task<HttpResponse> Snippets::problems(HttpRequest)
{
    // snippet: problem-values
    const Problem invalid = Problem::make(422).detail(u"One or more fields are invalid."_s)
                                    .field(u"amount"_s, u"must be greater than zero"_s);
    const Problem slowDown = Problem::make(429).detail(u"Try again in 30 seconds."_s).retryAfter(30);
    // end snippet
    co_return HttpResponse::json(200, QJsonObject{{u"invalid"_s, QString::fromUtf8(invalid.toResponse().body())},
                                                  {u"slow_down_retry_after"_s, slowDown.retryAfterSeconds}});
}

// Status.h, run for the test: the check's verdict on the current configuration.
QCoro::Task<HttpResponse> Snippets::status(HttpRequest)
{
    const Status s = checkConfig();
    co_return HttpResponse::json(200, QJsonObject{{u"ok"_s, s.ok()}, {u"error"_s, s.error()}});
}

// Idempotency.h
void Snippets::idempotentRoute()
{
    // snippet: idempotent-route
    ctx.addRoute(HttpMethod::Post, u"/api/v1/snippets/wallets/{id}/deposit"_s, [this](HttpRequest r) { return deposit(std::move(r)); })
        .idempotent(); // AuthLevel::User by default: keys are per user
    // end snippet
}

// Idempotency.h (run with a user by testkit's MoneyRoutes in tst_idempotency, which is this code)
QCoro::Task<HttpResponse> Snippets::deposit(HttpRequest request)
{
    const QString id = request.pathParam(u"id"_s);
    const Decimal amount = Decimal::fromInt(10);
    // snippet: idempotent-post
    Problem problem;
    const std::optional<IdempotencyKey> key = IdempotencyKey::fromRequest(request, &problem);
    if (!key)
        co_return problem.toResponse();
    auto work = [&](SqlTransaction &tx) -> HttpResponse {
        const SqlResult r = tx.exec(u"UPDATE snippets_wallet SET balance = balance + ? WHERE id = ? RETURNING balance"_s,
                                    {amount.toString(), id});
        if (r.error())
            return problemFor(r.error()).toResponse(); // 5xx: rolled back, nothing stored
        if (r.isEmpty())
            return Problem::notFound(u"No such wallet."_s).toResponse(); // 4xx: undone, stored
        return HttpResponse::json(201, QJsonObject{{u"balance"_s, r.string(0, u"balance"_s)}});
    };
    co_return co_await idempotentTransaction(ctx.database(), *key, std::move(work));
    // end snippet
}

// Paging.h
QCoro::Task<HttpResponse> Snippets::wallets(HttpRequest request)
{
    // snippet: paging
    Problem problem;
    const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
    if (!page)
        co_return problem.toResponse();
    const QString after = page->after.value(u"id"_s).toString(); // null (SQL NULL) on the first page
    const QVariantList params{after, page->limit + 1};
    const SqlResult r = co_await ctx.database().query(u"SELECT id, balance FROM snippets_wallet WHERE id > COALESCE(?, '') ORDER BY id LIMIT ?"_s, params);
    if (r.error())
        co_return problemFor(r.error()).toResponse();
    QJsonArray results;
    for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), page->limit); ++i)
        results.append(QJsonObject{{u"id"_s, r.string(i, u"id"_s)}, {u"balance"_s, r.string(i, u"balance"_s)}});
    const bool more = r.size() > page->limit;
    const QJsonObject last{{u"id"_s, more ? r.string(page->limit - 1, u"id"_s) : QString()}};
    co_return HttpResponse::json(200, page->reply(results, more ? std::optional(last) : std::nullopt));
    // end snippet
}

// Outbox.h
QCoro::Task<HttpResponse> Snippets::touchWallet(HttpRequest request)
{
    const QString id = request.pathParam(u"id"_s);
    const QString userId = u"u1"_s;
    auto work = [&](SqlTransaction &tx) -> Status {
        const SqlResult r = tx.exec(u"SELECT balance::text AS balance FROM snippets_wallet WHERE id = ? FOR UPDATE"_s, {id});
        if (r.error() || r.isEmpty())
            return Status::failure(u"no such wallet"_s);
        const QString balance = r.string(0, u"balance"_s);
        // snippet: outbox
        const DbError written = publishIn(tx, topics::WalletUpdated, userId,
                                          QJsonObject{{u"wallet_id"_s, id}, {u"balance"_s, balance}});
        if (written)
            return Status::failure(written.message);
        // end snippet
        return {};
    };
    const TransactionOutcome t = co_await ctx.database().transaction(std::move(work));
    co_return HttpResponse::json(t.committed ? 200 : 404, QJsonObject{{u"committed"_s, t.committed}});
}
