#include "yieldhost/Paging.h"
#include "yieldhost/HostAccess.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QMessageAuthenticationCode>
#include <QtCore/QReadWriteLock>

namespace yieldhost {

namespace {

QReadWriteLock g_keyLock;
QByteArray g_key; // set by the host from PostgreSQL; a cursor signed without it verifies nowhere else

constexpr qsizetype MacBytes = 16;

QByteArray mac(const QString &path, const QByteArray &payload)
{
    QByteArray key;
    {
        QReadLocker lock(&g_keyLock);
        key = g_key;
    }
    QMessageAuthenticationCode code(QCryptographicHash::Sha256, key);
    code.addData(path.toUtf8());
    code.addData("\n", 1);
    code.addData(payload);
    return code.result().left(MacBytes);
}

Problem invalid(const QString &field, const QString &message)
{
    return Problem::validation({{field, {message}}});
}

} // namespace

void PagingKeyWriter::setKey(QByteArray key)
{
    QWriteLocker lock(&g_keyLock);
    g_key = std::move(key);
}

std::optional<PageRequest> PageRequest::fromRequest(const HttpRequest &request, Problem *problem)
{
    PageRequest page;
    page.path = request.path();
    if (request.query().hasQueryItem(QStringLiteral("limit"))) {
        bool ok = false;
        const int limit = request.queryItem(QStringLiteral("limit")).toInt(&ok);
        if (!ok || limit < 1 || limit > MaxLimit) {
            *problem = invalid(QStringLiteral("limit"), QStringLiteral("must be an integer from 1 to %1").arg(MaxLimit));
            return std::nullopt;
        }
        page.limit = limit;
    }
    const QString cursor = request.queryItem(QStringLiteral("cursor"));
    if (cursor.isEmpty())
        return page;
    const qsizetype dot = cursor.indexOf(u'.');
    const QByteArray payload = QByteArray::fromBase64(cursor.left(dot).toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    const QByteArray signature = QByteArray::fromBase64(cursor.mid(dot + 1).toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    const QJsonDocument position = QJsonDocument::fromJson(payload);
    // Constant-time comparison is not needed for secrecy here, only for form: compare all bytes.
    const QByteArray expected = mac(page.path, payload);
    bool same = dot > 0 && signature.size() == expected.size();
    for (qsizetype i = 0; same && i < expected.size(); ++i)
        same = signature.at(i) == expected.at(i);
    if (!same || !position.isObject()) {
        *problem = invalid(QStringLiteral("cursor"), QStringLiteral("is not a cursor this server issued for this list; start again without one"));
        return std::nullopt;
    }
    page.after = position.object();
    return page;
}

QString PageRequest::cursorAfter(const QJsonObject &position) const
{
    const QByteArray payload = QJsonDocument(position).toJson(QJsonDocument::Compact);
    const auto options = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
    return QString::fromLatin1(payload.toBase64(options) + '.' + mac(path, payload).toBase64(options));
}

QJsonObject PageRequest::reply(const QJsonArray &results, const std::optional<QJsonObject> &next) const
{
    return QJsonObject{{QStringLiteral("results"), results},
                       {QStringLiteral("next"), next ? QJsonValue(cursorAfter(*next)) : QJsonValue(QJsonValue::Null)}};
}

} // namespace yieldhost
