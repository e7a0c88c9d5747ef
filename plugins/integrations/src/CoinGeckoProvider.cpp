#include "CoinGeckoProvider.h"

#include "CoinGeckoReply.h"

#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

#include <QCoro/QCoroNetworkReply>

#include <memory>

namespace yieldhost::integrations {

namespace {

constexpr qint64 MaxReplyBytes = 4 * 1024 * 1024; // a price list is a few KiB; refuse a flood

struct DeleteLater
{
    void operator()(QNetworkReply *reply) const { reply->deleteLater(); }
};

// Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date); -1 when absent or unreadable.
int retryAfterSeconds(const QNetworkReply &reply)
{
    const QByteArray value = reply.rawHeader("Retry-After").trimmed();
    if (value.isEmpty())
        return -1;
    bool ok = false;
    const qint64 seconds = value.toLongLong(&ok);
    if (ok)
        return int(std::clamp<qint64>(seconds, 0, 86400));
    const QDateTime at = QDateTime::fromString(QString::fromLatin1(value), Qt::RFC2822Date);
    if (!at.isValid())
        return -1;
    return int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().secsTo(at), 0, 86400));
}

} // namespace

CoinGeckoProvider::CoinGeckoProvider(Options options, const QLoggingCategory &log, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_log(log)
    , m_network(new QNetworkAccessManager(this))
{
}

CoinGeckoProvider::~CoinGeckoProvider() = default;

QByteArray CoinGeckoProvider::keyHeader(const QUrl &baseUrl)
{
    return baseUrl.host().compare(QLatin1String("pro-api.coingecko.com"), Qt::CaseInsensitive) == 0 ? QByteArrayLiteral("x-cg-pro-api-key")
                                                                                                      : QByteArrayLiteral("x-cg-demo-api-key");
}

QCoro::Task<RateFetch> CoinGeckoProvider::fetch(QList<Currency> currencies)
{
    RateFetch out;
    if (QThread::currentThread() != thread()) {
        out.failure = QStringLiteral("the CoinGecko provider was called from a thread other than its own");
        co_return out;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc(); // Retry-After is real time, whatever the host clock says
    if (m_quietUntil.isValid() && now < m_quietUntil) {
        out.retryAfterSeconds = int(std::max<qint64>(1, now.secsTo(m_quietUntil)));
        out.failure = QStringLiteral("CoinGecko asked (429) not to be called before %1; not asking yet").arg(m_quietUntil.toString(Qt::ISODate));
        co_return out;
    }
    QStringList ids;
    QStringList vs{QStringLiteral("usd")};
    for (const Currency &c : std::as_const(currencies)) {
        if (c.isCrypto() && !c.coingeckoId.isEmpty())
            ids.append(c.coingeckoId);
        else if (!c.isCrypto() && c.code != QLatin1String("USD"))
            vs.append(c.code.toLower());
    }
    if (ids.isEmpty())
        co_return out; // nothing CoinGecko can price
    ids.sort();
    ids.removeDuplicates();
    vs.sort();

    QString base = m_options.baseUrl.toString(QUrl::RemoveQuery | QUrl::RemoveFragment);
    while (base.endsWith(u'/'))
        base.chop(1);
    QUrl url(base + QStringLiteral("/api/v3/simple/price"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("ids"), ids.join(u','));
    query.addQueryItem(QStringLiteral("vs_currencies"), vs.join(u','));
    url.setQuery(query);
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "application/json");
    request.setRawHeader("User-Agent", "yieldhost-integrations");
    if (!m_options.apiKey.isEmpty())
        request.setRawHeader(keyHeader(m_options.baseUrl), m_options.apiKey);
    request.setTransferTimeout(m_options.timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);

    const std::unique_ptr<QNetworkReply, DeleteLater> reply(m_network->get(request));
    const auto tooLarge = std::make_shared<bool>(false);
    connect(reply.get(), &QNetworkReply::downloadProgress, reply.get(), [reply = reply.get(), tooLarge](qint64 received, qint64) {
        if (received > MaxReplyBytes && !*tooLarge) {
            *tooLarge = true;
            reply->abort();
        }
    });
    // The whole request within the timeout: setTransferTimeout alone restarts with every byte,
    // so a reply trickled a byte at a time would hold the run until the task's own limit.
    const auto timedOut = std::make_shared<bool>(false);
    QTimer deadline;
    deadline.setSingleShot(true);
    connect(&deadline, &QTimer::timeout, reply.get(), [reply = reply.get(), timedOut] {
        *timedOut = true;
        reply->abort();
    });
    deadline.start(m_options.timeoutMs);
    co_await qCoro(reply.get()).waitForFinished();
    deadline.stop();
    if (*tooLarge) {
        out.failure = QStringLiteral("CoinGecko's reply is larger than %1 bytes").arg(MaxReplyBytes);
        co_return out;
    }

    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 429) {
        out.retryAfterSeconds = retryAfterSeconds(*reply);
        if (out.retryAfterSeconds > 0)
            m_quietUntil = QDateTime::currentDateTimeUtc().addSecs(out.retryAfterSeconds);
        out.failure = QStringLiteral("CoinGecko answered 429 (rate limited)%1")
                          .arg(out.retryAfterSeconds >= 0 ? QStringLiteral("; it asks to retry in %1 s").arg(out.retryAfterSeconds) : QString());
        co_return out;
    }
    if (*timedOut || reply->error() == QNetworkReply::OperationCanceledError) {
        out.failure = QStringLiteral("CoinGecko did not answer within %1 ms").arg(m_options.timeoutMs);
        co_return out;
    }
    if (status != 200) {
        out.failure = status > 0 ? QStringLiteral("CoinGecko answered HTTP %1").arg(status)
                                 : QStringLiteral("CoinGecko could not be reached: %1").arg(reply->errorString());
        co_return out;
    }
    const CoinGeckoReply parsed = CoinGeckoReply::parse(reply->readAll());
    if (!parsed.error.isEmpty()) {
        out.failure = QStringLiteral("CoinGecko's reply is unusable: %1").arg(parsed.error);
        co_return out;
    }
    QStringList skipped;
    out.usdValues = parsed.usdValues(currencies, &skipped);
    for (const QString &line : std::as_const(skipped))
        qCWarning(m_log).noquote() << "CoinGecko:" << line;
    co_return out;
}

} // namespace yieldhost::integrations
