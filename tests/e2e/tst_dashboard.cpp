// The /admin/jobs dashboard in a real browser: Debian's Chromium, headless, driven over the W3C
// WebDriver protocol by chromedriver. A staff member signs in, sees a job the test enqueued,
// cancels it with a click and retries it with another, and the job then really runs. Signing out
// revokes the sign-in on the server (the tokens the page held stop working), and an access token
// that stops working is renewed with the refresh token, once for all the page's parallel reads.
#include "HostProcess.h"
#include "HttpClient.h"
#include "PgFixture.h"
#include "ProblemCheck.h"
#include "WebDriver.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using namespace yieldhost::test;

namespace {

QByteArray compact(const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

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
    std::optional<HttpReply> meWith(const QByteArray &access)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "GET", "/api/v1/users/me", {}, "application/json",
                                   {{QByteArrayLiteral("Authorization"), QByteArray("Bearer " + access)}});
    }
    std::optional<HttpReply> refreshWith(const QByteArray &refreshToken)
    {
        return HttpClient::request(m_host->host(), m_host->port(), "POST", "/api/v1/auth/token/refresh",
                                   compact({{QStringLiteral("refresh"), QString::fromLatin1(refreshToken)}}), "application/json");
    }
    // What the page keeps in sessionStorage under `key` (empty when nothing).
    static QByteArray stored(WebDriver &browser, const char *key)
    {
        QString error;
        return browser.script(QStringLiteral("return sessionStorage.getItem('%1')").arg(QLatin1String(key)), &error).toString().toLatin1();
    }
    static bool dashboardLoaded(WebDriver &browser)
    {
        QString error;
        return browser.script(QStringLiteral("return document.body.dataset.loaded === 'true' && !document.querySelector('#dashboard').hidden"), &error).toBool();
    }
    void signInAsStaff(WebDriver &browser)
    {
        QString error;
        QVERIFY2(browser.start(&error), qPrintable(error));
        QVERIFY2(browser.navigate(m_host->baseUrl() + QStringLiteral("/admin/jobs"), &error), qPrintable(error));
        QVERIFY2(browser.type(QStringLiteral("#email"), QStringLiteral("ops@example.com"), &error), qPrintable(error));
        QVERIFY2(browser.type(QStringLiteral("#password"), m_password, &error), qPrintable(error));
        QVERIFY2(browser.click(QStringLiteral("#sign-in"), &error), qPrintable(error));
        QVERIFY2(waitUntil([&] { return dashboardLoaded(browser); }, 15000),
                 qPrintable(browser.script(QStringLiteral("return document.body.innerText"), &error).toString()));
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

    void signingOutRevokesTheSignInOnTheServer()
    {
        WebDriver browser;
        CHECK(signInAsStaff(browser));
        const QByteArray access = stored(browser, "yieldhost.jobs.token");
        const QByteArray refresh = stored(browser, "yieldhost.jobs.refresh");
        QVERIFY(!access.isEmpty() && !refresh.isEmpty());
        QCOMPARE(meWith(access)->status, 200);

        QString error;
        QVERIFY2(browser.click(QStringLiteral("#sign-out"), &error), qPrintable(error));
        QVERIFY(waitUntil([&] { return !browser.script(QStringLiteral("return document.querySelector('#login').hidden"), &error).toBool(); }, 10000));
        QCOMPARE(browser.script(QStringLiteral("return document.querySelector('#login-error').innerText"), &error).toString(), QString());
        QVERIFY(stored(browser, "yieldhost.jobs.token").isEmpty());
        QVERIFY(stored(browser, "yieldhost.jobs.refresh").isEmpty());
        // Not only forgotten by the page: a copy of either token no longer works.
        CHECK(verifyProblem(meWith(access), 401));
        CHECK(verifyProblem(refreshWith(refresh), 401));
        QCOMPARE(admin("GET", "/api/v1/admin/queues")->status, 200); // another sign-in of the same account is untouched
    }

    void anAccessTokenThatStopsWorkingIsRenewedOnceWithTheRefreshToken()
    {
        WebDriver browser;
        CHECK(signInAsStaff(browser));
        const QByteArray refresh = stored(browser, "yieldhost.jobs.refresh");
        QString error;
        // As when it expires: the next reads, five in parallel, all meet a 401. Renewing more than
        // once would present the refresh token twice and revoke the sign-in (the login page).
        browser.script(QStringLiteral("sessionStorage.setItem('yieldhost.jobs.token', 'no.longer.valid'); document.body.dataset.loaded = ''; return true;"), &error);
        auto renewed = [&] {
            const QByteArray token = stored(browser, "yieldhost.jobs.token");
            return !token.isEmpty() && token != "no.longer.valid";
        };
        QVERIFY2(waitUntil(renewed, 15000), qPrintable(browser.script(QStringLiteral("return document.body.innerText"), &error).toString()));
        QVERIFY(waitUntil([&] { return dashboardLoaded(browser); }, 15000)); // and the page reads with it
        const QByteArray access = stored(browser, "yieldhost.jobs.token");
        QVERIFY(stored(browser, "yieldhost.jobs.refresh") != refresh); // rotated
        QCOMPARE(meWith(access)->status, 200);
        QVERIFY(!browser.script(QStringLiteral("return document.querySelector('#dashboard').hidden"), &error).toBool());
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
