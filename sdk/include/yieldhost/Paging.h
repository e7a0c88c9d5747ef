// Paging.h — every list of the API (SDK 1.1): ?limit= (default 50, at most 500) and ?cursor=,
// answered as {"results": [...], "next": "<cursor>" | null}.
//
// Keyset paging: the cursor carries the sort keys of the last row a page returned, and the next
// query continues after them (`WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC
// LIMIT ?` with limit + 1, to know whether there is a next page). Cursors are opaque and
// tamper-evident: the position is signed with a key every host process shares (kept in
// PostgreSQL), bound to the request's path, so a client can neither forge a position nor carry a
// cursor from one list to another. A bad limit or cursor is 422.
//
// Example (snippet "paging"):
//   Problem problem;
//   const std::optional<PageRequest> page = PageRequest::fromRequest(request, &problem);
//   if (!page)
//       co_return problem.toResponse();
//   const QString after = page->after.value(u"id"_s).toString(); // null (SQL NULL) on the first page
//   const QVariantList params{after, page->limit + 1};
//   const SqlResult r = co_await ctx.database().query(u"SELECT id, balance FROM snippets_wallet WHERE id > COALESCE(?, '') ORDER BY id LIMIT ?"_s, params);
//   if (r.error())
//       co_return problemFor(r.error()).toResponse();
//   QJsonArray results;
//   for (qsizetype i = 0; i < std::min<qsizetype>(r.size(), page->limit); ++i)
//       results.append(QJsonObject{{u"id"_s, r.string(i, u"id"_s)}, {u"balance"_s, r.string(i, u"balance"_s)}});
//   const bool more = r.size() > page->limit;
//   const QJsonObject last{{u"id"_s, more ? r.string(page->limit - 1, u"id"_s) : QString()}};
//   co_return HttpResponse::json(200, page->reply(results, more ? std::optional(last) : std::nullopt));
#pragma once

#include "yieldhost/Global.h"
#include "yieldhost/Http.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <optional>

namespace yieldhost {

struct YIELDHOST_SDK_EXPORT PageRequest
{
    static constexpr int DefaultLimit = 50;
    static constexpr int MaxLimit = 500;

    int limit = DefaultLimit;
    QJsonObject after;  // the position the cursor carried; empty on the first page
    QString path;       // the cursors of this list are bound to it

    // Reads ?limit= and ?cursor=. nullopt, with a 422 naming the field in *problem, for a limit
    // that is not an integer from 1 to 500 or a cursor this server did not issue for this list.
    static std::optional<PageRequest> fromRequest(const HttpRequest &request, Problem *problem);

    // The cursor that continues after `position` (the sort keys of a page's last row).
    QString cursorAfter(const QJsonObject &position) const;
    // {"results": results, "next": cursorAfter(*next) or null}.
    QJsonObject reply(const QJsonArray &results, const std::optional<QJsonObject> &next) const;
};

} // namespace yieldhost
