// Http.h — what a plugin sees of HTTP: requests, responses, RFC 9457 problems and handlers.
//
// A handler is a coroutine that receives its own copy of the request and returns a response.
// The host has already routed it, checked its auth level, limited its size and parsed its JSON
// body (malformed JSON never reaches a handler: the host answers 400).
// Example (snippet "http-route", compiled in sdk/examples/snippets):
//   ctx.addRoute(HttpMethod::Get, u"/api/v1/snippets/hello/{name}"_s,
//       [](HttpRequest req) -> QCoro::Task<HttpResponse> {
//           co_return HttpResponse::json(200, QJsonObject{{u"hello"_s, req.pathParam(u"name"_s)}});
//       }).auth(AuthLevel::Public).summary(u"Greets"_s);
//
// Handlers run on one of the host's HTTP threads, several requests at a time: keep shared plugin
// state thread-safe (or in the database). If the client disconnects, the handler still runs to
// completion and its response is dropped — it never touches freed connection memory because it
// owns its request.
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QHostAddress>

#include <QCoro/QCoroTask>

#include <functional>
#include <optional>

namespace yieldhost {

enum class HttpMethod { Get, Head, Post, Put, Patch, Delete, Options };
YIELDHOST_SDK_EXPORT QByteArray methodName(HttpMethod method);
YIELDHOST_SDK_EXPORT std::optional<HttpMethod> methodFromName(QByteArrayView name);

// Who may call a route. User and Staff need an Authenticator service (the users plugin);
// without one those routes answer 401.
enum class AuthLevel { Public, User, Staff };

struct AuthenticatedUser
{
    QString id;
    QString email;
    bool isStaff = false;
    QJsonObject claims;
};

class HttpRequestData;
class YIELDHOST_SDK_EXPORT HttpRequest
{
public:
    HttpRequest();
    HttpRequest(const HttpRequest &);
    HttpRequest &operator=(const HttpRequest &);
    ~HttpRequest();

    HttpMethod method() const;
    QString path() const;                    // decoded path, no query
    const QUrlQuery &query() const;
    QString queryItem(const QString &key) const;
    QByteArray header(QByteArrayView name) const; // case-insensitive; empty when absent
    const QList<QPair<QByteArray, QByteArray>> &headers() const; // names lower-cased
    const QByteArray &body() const;
    QJsonValue json() const;                 // parsed body of a JSON request, else undefined
    QString pathParam(const QString &name) const;
    QHostAddress peerAddress() const;
    QString requestId() const;
    const std::optional<AuthenticatedUser> &user() const;

private:
    friend class HttpRequestWriter; // the host fills requests in (not part of the plugin API)
    QSharedDataPointer<HttpRequestData> d;
};

class HttpResponseData;
class YIELDHOST_SDK_EXPORT HttpResponse
{
public:
    explicit HttpResponse(int status = 200);
    HttpResponse(const HttpResponse &);
    HttpResponse &operator=(const HttpResponse &);
    ~HttpResponse();

    static HttpResponse json(int status, const QJsonValue &body);
    static HttpResponse text(int status, const QByteArray &body, const QByteArray &contentType = "text/plain; charset=utf-8");
    static HttpResponse noContent();

    int status() const;
    const QByteArray &body() const;
    QByteArray contentType() const;
    const QList<QPair<QByteArray, QByteArray>> &headers() const; // extra headers, not Content-*

    HttpResponse &setStatus(int status);
    HttpResponse &setBody(QByteArray body, QByteArray contentType);
    HttpResponse &addHeader(QByteArray name, QByteArray value);

private:
    QSharedDataPointer<HttpResponseData> d;
};

class ProblemBuilder;

// An RFC 9457 problem. `type` is a slug under https://yieldhost.dev/problems/.
// Build one by naming its fields — Problem::make(409).type(…).title(…).detail(…), see
// ProblemBuilder below — or with the factories for the common cases; a positional
// Problem{status, type, title, detail, {}, -1} literal is easy to get wrong (title and detail
// swap silently) and is not used in this tree.
struct YIELDHOST_SDK_EXPORT Problem
{
    int status = 400;
    QString type;   // e.g. "insufficient-funds"
    QString title;  // e.g. "Insufficient funds"
    QString detail; // the sentence a user can act on
    QMap<QString, QStringList> errors; // per field, only for validation problems
    int retryAfterSeconds = -1;        // sets Retry-After when >= 0

    HttpResponse toResponse() const;

    static Problem badRequest(const QString &detail);
    static Problem unauthorized(const QString &detail);
    static Problem forbidden(const QString &detail);
    static Problem notFound(const QString &detail);
    static Problem conflict(const QString &type, const QString &title, const QString &detail);
    static Problem validation(QMap<QString, QStringList> errors);
    static Problem unavailable(const QString &detail, int retryAfterSeconds);

    // Starts a problem with this HTTP status (SDK 1.1); see ProblemBuilder.
    static ProblemBuilder make(int status);
};

// Builds a Problem field by field (SDK 1.1). The type and title start as the generic ones for
// the status (404 -> "not-found" / "Not found", 500 -> "internal" / "Internal error"; "error" /
// "Error" for a status without one), so a plain Problem::make(404).detail(…) is complete; a
// domain problem names its own. It converts implicitly to Problem, or say build(); toResponse()
// gives the reply directly (snippets "problem-builder" and "problem-values", compiled in
// sdk/examples/snippets). Example (snippet "problem-builder"):
//   co_return Problem::make(409)
//       .type(u"insufficient-funds"_s)
//       .title(u"Insufficient funds"_s)
//       .detail(u"The wallet holds 12.50 EUR; the withdrawal needs 20.00 EUR."_s)
//       .toResponse();
// Example (snippet "problem-values"):
//   const Problem invalid = Problem::make(422).detail(u"One or more fields are invalid."_s)
//                                   .field(u"amount"_s, u"must be greater than zero"_s);
//   const Problem slowDown = Problem::make(429).detail(u"Try again in 30 seconds."_s).retryAfter(30);
// The setters return the builder itself: chain them on the temporary and convert or copy the
// result; do not keep a reference to a builder returned by Problem::make().
class YIELDHOST_SDK_EXPORT ProblemBuilder
{
public:
    explicit ProblemBuilder(int status);

    ProblemBuilder &status(int status); // keeps type and title
    ProblemBuilder &type(const QString &slug); // e.g. "insufficient-funds"
    ProblemBuilder &title(const QString &title); // e.g. "Insufficient funds"
    ProblemBuilder &detail(const QString &detail); // the sentence a user can act on
    // Adds a validation message for a field; a field may have several.
    ProblemBuilder &field(const QString &name, const QString &message);
    ProblemBuilder &fields(const QMap<QString, QStringList> &errors); // adds them all
    // Sets Retry-After; a negative value leaves it unset.
    ProblemBuilder &retryAfter(int seconds);

    Problem build() const { return m_problem; }
    operator Problem() const { return m_problem; } // NOLINT(google-explicit-constructor)
    HttpResponse toResponse() const;

private:
    Problem m_problem;
};

// The client-facing problem for a database error: 503 + Retry-After when it is down, 409 for a
// uniqueness conflict, 500 for anything else (a server bug; log the error's message).
struct DbError;
YIELDHOST_SDK_EXPORT Problem problemFor(const DbError &error);

using HttpHandler = std::function<QCoro::Task<HttpResponse>(HttpRequest)>;

// Returned by PluginContext::addRoute to describe the route further (builder style).
class YIELDHOST_SDK_EXPORT RouteOptions
{
public:
    virtual ~RouteOptions();
    virtual RouteOptions &auth(AuthLevel level) = 0;   // default: AuthLevel::User
    virtual RouteOptions &summary(const QString &text) = 0;
    // An OpenAPI 3.1 operation object; merged under paths/<pattern>/<method>.
    virtual RouteOptions &openapi(const QJsonObject &operation) = 0;
    // Content types accepted besides JSON; a body of any other type is refused with 415.
    virtual RouteOptions &accepts(const QByteArrayList &contentTypes) = 0;
    // SDK 1.1: the route moves money and takes an Idempotency-Key (Idempotency.h). The host
    // refuses a request without a valid key with 400 before the handler runs and documents the
    // header; the handler runs its work through idempotentTransaction().
    virtual RouteOptions &idempotent() = 0;
};

} // namespace yieldhost
