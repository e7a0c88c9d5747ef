// The /admin/jobs dashboard in a real browser: Debian's Chromium, headless, driven over the W3C
// WebDriver protocol by chromedriver. A staff member signs in, sees a job the test enqueued,
// cancels it with a click and retries it with another, and the job then really runs.
#include "HostProcess.h"
#include "HttpClient.h"
#include "PgFixture.h"
#include "ProblemCheck.h"

#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <functional>

using namespace yieldhost::test;

namespace {

const QString kElementKey = QStringLiteral("element-6066-11e4-a52e-4f735466cecf"); // W3C WebDriver

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// A minimal W3C WebDriver client over our own HTTP client.
class WebDriver
{
public:
    bool start(QString *error)
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
    ~WebDriver()
    {
        if (!m_session.isEmpty()) {
            QString ignored;
            command("DELETE", "/session/" + m_session, {}, &ignored);
        }
        m_process.kill();
        m_process.waitForFinished(5000);
    }

    QJsonObject command(const QByteArray &method, const QByteArray &path, const QJsonObject &body, QString *error)
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
    QByteArray at(const QByteArray &rest) const { return "/session/" + m_session + rest; }

    bool navigate(const QString &url, QString *error)
    {
        command("POST", at("/url"), {{QStringLiteral("url"), url}}, error);
        return error->isEmpty();
    }
    QJsonValue script(const QString &source, QString *error)
    {
        return command("POST", at("/execute/sync"), {{QStringLiteral("script"), source}, {QStringLiteral("args"), QJsonArray{}}}, error)
            .value(QLatin1String("value"));
    }
    QByteArray find(const QString &css, QString *error)
    {
        const QJsonObject e = command("POST", at("/element"), {{QStringLiteral("using"), QStringLiteral("css selector")}, {QStringLiteral("value"), css}}, error);
        return e.value(kElementKey).toString().toLatin1();
    }
    bool type(const QString &css, const QString &text, QString *error)
    {
        const QByteArray element = find(css, error);
        if (element.isEmpty())
            return false;
        command("POST", at("/element/" + element + "/value"), {{QStringLiteral("text"), text}}, error);
        return error->isEmpty();
    }
    bool click(const QString &css, QString *error)
    {
        const QByteArray element = find(css, error);
        if (element.isEmpty())
            return false;
        command("POST", at("/element/" + element + "/click"), {}, error);
        return error->isEmpty();
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
    QByteArray m_session;
};

} // namespace

class TestDashboard : public QObject
{
    Q_OBJECT

    PgFixture m_pg;
    std::unique_ptr<HostProcess> m_host;
    QByteArray m_staff;
    const QString m_password = QStringLiteral("staff password 0123");

    std::optional<HttpReply> admin(const QByteArray &method, const QByteArray &path, const QJsonObject &body = {})
    {
        return HttpClient::request(m_host->host(), m_host->port(), method, path, body.isEmpty() ? QByteArray() : compact(body), "application/json",
                                   {{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + m_staff)}});
    }
    QString jobState(const QString &id)
    {
        const auto r = admin("GET", "/api/v1/admin/jobs/" + id.toLatin1());
        return r && r->status == 200 ? r->json().value(QLatin1String("state")).toString() : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_pg.start(&error), qPrintable(error));
        const QString url = m_pg.createDatabase(&error);
        QVERIFY2(!url.isEmpty(), qPrintable(error));
        QProcessEnvironment env;
        env.insert(QStringLiteral("YIELDHOST_DATABASE_URL"), url);
        env.insert(QStringLiteral("YIELDHOST_JOBS__POLL_INTERVAL_MS"), QStringLiteral("200"));

        QString out;
        const int created = HostProcess::runCommand(env, {QStringLiteral("createuser"), QStringLiteral("--email"), QStringLiteral("ops@example.com"),
                                                          QStringLiteral("--staff"), QStringLiteral("--password-stdin")},
                                                    &out, m_password.toUtf8() + '\n');
        QVERIFY2(created == 0, qPrintable(out.right(2000)));

        m_host = std::make_unique<HostProcess>(env, QStringList{QStringLiteral("all")});
        QVERIFY2(m_host->start(&error, 60000), qPrintable(error));
        QVERIFY(m_host->waitReady(60000));
        const auto token = HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/token",
                                               compact({{QStringLiteral("email"), QStringLiteral("ops@example.com")}, {QStringLiteral("password"), m_password}}),
                                               "application/json");
        QVERIFY(token && token->status == 200);
        m_staff = token->json().value(QLatin1String("access")).toString().toLatin1();
    }

    void cleanupTestCase()
    {
        if (m_host)
            QCOMPARE(m_host->terminate(), 0);
    }

    void thePageIsSelfContainedAndLocked()
    {
        const auto page = HttpClient::request(m_host->host(), m_host->port(), "GET", "/admin/jobs");
        QVERIFY(page && page->status == 200);
        QVERIFY(page->header("content-type").startsWith("text/html"));
        QVERIFY(page->header("content-security-policy").contains("default-src 'self'"));
        QVERIFY(!page->body.contains("http://") && !page->body.contains("https://")); // no external assets
    }

    void staffSeeAJobAndCancelAndRetryItWithClicks()
    {
        const auto created = admin("POST", "/api/v1/admin/jobs",
                                   {{QStringLiteral("task"), QStringLiteral("testkit.record")},
                                    {QStringLiteral("args"), QJsonObject{{QStringLiteral("from"), QStringLiteral("dashboard test")}}},
                                    {QStringLiteral("run_at"), QDateTime::currentDateTimeUtc().addSecs(3600).toString(Qt::ISODate)}});
        QVERIFY(created && created->status == 202);
        const QString id = created->json().value(QLatin1String("id")).toString();

        WebDriver browser;
        QString error;
        QVERIFY2(browser.start(&error), qPrintable(error));
        QVERIFY2(browser.navigate(m_host->baseUrl() + QStringLiteral("/admin/jobs"), &error), qPrintable(error));
        QVERIFY2(browser.type(QStringLiteral("#email"), QStringLiteral("ops@example.com"), &error), qPrintable(error));
        QVERIFY2(browser.type(QStringLiteral("#password"), m_password, &error), qPrintable(error));
        QVERIFY2(browser.click(QStringLiteral("#sign-in"), &error), qPrintable(error));

        // The enqueued job shows up, scheduled, with a Cancel button.
        const QString row = QStringLiteral("#jobs tr[data-job-id=\"%1\"]").arg(id);
        const QString rowText = QStringLiteral("const r = document.querySelector('%1'); return r ? r.innerText : null;").arg(row);
        QVERIFY2(waitUntil([&] { return browser.script(rowText, &error).toString().contains(QLatin1String("scheduled")); }, 15000),
                 qPrintable(browser.script(QStringLiteral("return document.body.innerText"), &error).toString()));
        QVERIFY(browser.script(rowText, &error).toString().contains(QLatin1String("testkit.record")));
        QCOMPARE(browser.script(QStringLiteral("return document.body.dataset.loaded"), &error).toString(), QStringLiteral("true"));
        QVERIFY(browser.script(QStringLiteral("return document.querySelector('#schedules').innerText"), &error).toString().contains(QLatin1String("host.cleanup")));
        QVERIFY(browser.script(QStringLiteral("return document.querySelector('#workers').innerText"), &error).toString().contains(QLatin1String("testkit")));

        QVERIFY2(browser.click(row + QStringLiteral(" button.cancel"), &error), qPrintable(error));
        QVERIFY(waitUntil([&] { return jobState(id) == QLatin1String("cancelled"); }, 10000));
        // The live refresh turns the row into a cancelled one with a Retry button; clicking it runs the job.
        const QString retryButton = row + QStringLiteral(" button.retry");
        QVERIFY(waitUntil([&] { return browser.script(QStringLiteral("return !!document.querySelector('%1')").arg(retryButton), &error).toBool(); }, 10000));
        QVERIFY2(browser.click(retryButton, &error), qPrintable(error));
        QVERIFY2(waitUntil([&] { return jobState(id) == QLatin1String("done"); }, 15000), qPrintable(jobState(id)));
        QVERIFY(waitUntil([&] { return browser.script(rowText, &error).toString().contains(QLatin1String("done")); }, 10000));
    }

    void aNonStaffAccountIsToldSo()
    {
        const QByteArray body = compact({{QStringLiteral("email"), QStringLiteral("someone@example.com")}, {QStringLiteral("password"), m_password}});
        const auto reg = HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/register", body, "application/json");
        QVERIFY(reg && reg->status == 201);
        WebDriver browser;
        QString error;
        QVERIFY2(browser.start(&error), qPrintable(error));
        QVERIFY(browser.navigate(m_host->baseUrl() + QStringLiteral("/admin/jobs"), &error));
        QVERIFY(browser.type(QStringLiteral("#email"), QStringLiteral("someone@example.com"), &error));
        QVERIFY(browser.type(QStringLiteral("#password"), m_password, &error));
        QVERIFY(browser.click(QStringLiteral("#sign-in"), &error));
        QVERIFY(waitUntil([&] {
            return browser.script(QStringLiteral("return document.querySelector('#login-error').innerText"), &error).toString().contains(QLatin1String("not a staff"));
        }, 10000));
        QCOMPARE(browser.script(QStringLiteral("return document.querySelector('#dashboard').hidden"), &error).toBool(), true);
    }
};

QTEST_GUILESS_MAIN(TestDashboard)
#include "tst_dashboard.moc"
