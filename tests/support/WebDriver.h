// WebDriver.h — a minimal W3C WebDriver client: starts chromedriver with Debian's headless
// Chromium and drives it (navigate, run a script, find, type, click) over our own HTTP client.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QProcess>

namespace yieldhost::test {

class WebDriver
{
public:
    WebDriver() = default;
    WebDriver(const WebDriver &) = delete;
    WebDriver &operator=(const WebDriver &) = delete;
    ~WebDriver();

    // Starts chromedriver on a free port and opens a browser session.
    bool start(QString *error);

    QJsonObject command(const QByteArray &method, const QByteArray &path, const QJsonObject &body, QString *error);
    bool navigate(const QString &url, QString *error);
    QJsonValue script(const QString &source, QString *error);
    QByteArray find(const QString &css, QString *error);
    bool type(const QString &css, const QString &text, QString *error);
    bool click(const QString &css, QString *error);

private:
    QByteArray at(const QByteArray &rest) const { return "/session/" + m_session + rest; }

    QProcess m_process;
    quint16 m_port = 0;
    QByteArray m_session;
};

} // namespace yieldhost::test
