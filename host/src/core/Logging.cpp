#include "core/Logging.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cstdio>

Q_LOGGING_CATEGORY(lcHost, "yieldhost.host")
Q_LOGGING_CATEGORY(lcConfig, "yieldhost.config")
Q_LOGGING_CATEGORY(lcPlugins, "yieldhost.plugins")
Q_LOGGING_CATEGORY(lcHttp, "yieldhost.http")
Q_LOGGING_CATEGORY(lcAccess, "yieldhost.access")
Q_LOGGING_CATEGORY(lcAudit, "yieldhost.audit")
Q_LOGGING_CATEGORY(lcWebSocket, "yieldhost.websocket")
Q_LOGGING_CATEGORY(lcDb, "yieldhost.db")
Q_LOGGING_CATEGORY(lcMigrations, "yieldhost.migrations")
Q_LOGGING_CATEGORY(lcJobs, "yieldhost.jobs")
Q_LOGGING_CATEGORY(lcPostgres, "yieldhost.postgres")

namespace yieldhost {

static const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "error";
    case QtFatalMsg: return "fatal";
    }
    return "info";
}

static void jsonHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QJsonObject line{
        {QStringLiteral("ts"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
        {QStringLiteral("level"), QLatin1String(levelName(type))},
        {QStringLiteral("category"), QLatin1String(context.category ? context.category : "default")},
        {QStringLiteral("msg"), message},
    };
    const QByteArray bytes = QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    if (type == QtFatalMsg)
        std::abort();
}

void installLogFormat(const QString &format)
{
    if (format == QLatin1String("json")) {
        qInstallMessageHandler(jsonHandler);
        return;
    }
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddTHH:mm:ss.zzzZ} %{if-debug}debug%{endif}%{if-info}info%{endif}"
                                      "%{if-warning}warning%{endif}%{if-critical}error%{endif}%{if-fatal}fatal%{endif} "
                                      "%{category}: %{message}"));
}

} // namespace yieldhost
