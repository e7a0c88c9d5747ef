#include "WebDriver.h"

#include "HttpClient.h"
#include "ProblemCheck.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtNetwork/QTcpServer>

namespace yieldhost::test {

namespace {

const QString kElementKey = QStringLiteral("element-6066-11e4-a52e-4f735466cecf"); // W3C WebDriver

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

bool WebDriver::start(QString *error)
{
    m_port = freePort();
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(QStringLiteral("chromedriver"), {QStringLiteral("--port=%1").arg(m_port)});
    if (!m_process.waitForStarted(10000)) {
        *error = QStringLiteral("cannot start chromedriver (packaging/install-deps.sh installs chromium-driver): %1").arg(m_process.errorString());
        return false;
    }
    if (!waitUntil([&] {
            const auto r = HttpClient::request(QStringLiteral("127.0.0.1"), m_port, "GET", "/status");
            return r && r->status == 200 && r->json().value(QLatin1String("value")).toObject().value(QLatin1String("ready")).toBool();
        }, 20000)) {
        *error = QStringLiteral("chromedriver did not become ready: %1").arg(QString::fromUtf8(m_process.readAll()));
        return false;
    }
    const QJsonObject chrome{{QStringLiteral("binary"), QStringLiteral("/usr/bin/chromium")},
                             {QStringLiteral("args"), QJsonArray{QStringLiteral("--headless=new"), QStringLiteral("--no-sandbox"),
                                                                 QStringLiteral("--disable-gpu"), QStringLiteral("--disable-dev-shm-usage"),
                                                                 QStringLiteral("--window-size=1400,1000")}}};
    const QJsonObject capabilities{{QStringLiteral("alwaysMatch"), QJsonObject{{QStringLiteral("browserName"), QStringLiteral("chrome")},
                                                                               {QStringLiteral("goog:chromeOptions"), chrome}}}};
    const QJsonObject session = command("POST", "/session", {{QStringLiteral("capabilities"), capabilities}}, error);
    m_session = session.value(QLatin1String("sessionId")).toString().toLatin1();
    if (m_session.isEmpty()) {
        *error = QStringLiteral("no WebDriver session: %1 %2").arg(*error, QString::fromUtf8(compact(session)));
        return false;
    }
    return true;
}
WebDriver::~WebDriver()
{
    if (!m_session.isEmpty()) {
        QString ignored;
        command("DELETE", "/session/" + m_session, {}, &ignored);
    }
    m_process.kill();
    m_process.waitForFinished(5000);
}

QJsonObject WebDriver::command(const QByteArray &method, const QByteArray &path, const QJsonObject &body, QString *error)
{
    const auto r = HttpClient::request(QStringLiteral("127.0.0.1"), m_port, method, path, method == "GET" ? QByteArray() : compact(body),
                                       "application/json");
    if (!r) {
        *error = QStringLiteral("chromedriver did not answer %1").arg(QString::fromLatin1(path));
        return {};
    }
    const QJsonValue value = r->json().value(QLatin1String("value"));
    if (r->status != 200)
        *error = QString::fromUtf8(compact(value.toObject()));
    return value.isObject() ? value.toObject() : QJsonObject{{QStringLiteral("value"), value}};
}
bool WebDriver::navigate(const QString &url, QString *error)
{
    command("POST", at("/url"), {{QStringLiteral("url"), url}}, error);
    return error->isEmpty();
}
QJsonValue WebDriver::script(const QString &source, QString *error)
{
    return command("POST", at("/execute/sync"), {{QStringLiteral("script"), source}, {QStringLiteral("args"), QJsonArray{}}}, error)
        .value(QLatin1String("value"));
}
QByteArray WebDriver::find(const QString &css, QString *error)
{
    const QJsonObject e = command("POST", at("/element"), {{QStringLiteral("using"), QStringLiteral("css selector")}, {QStringLiteral("value"), css}}, error);
    return e.value(kElementKey).toString().toLatin1();
}
bool WebDriver::type(const QString &css, const QString &text, QString *error)
{
    const QByteArray element = find(css, error);
    if (element.isEmpty())
        return false;
    command("POST", at("/element/" + element + "/value"), {{QStringLiteral("text"), text}}, error);
    return error->isEmpty();
}
bool WebDriver::click(const QString &css, QString *error)
{
    const QByteArray element = find(css, error);
    if (element.isEmpty())
        return false;
    command("POST", at("/element/" + element + "/click"), {}, error);
    return error->isEmpty();
}

} // namespace yieldhost::test
