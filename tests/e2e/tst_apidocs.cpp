// The API reference at /api/docs in a real browser (Debian's Chromium, headless, over WebDriver):
// Redoc, served by the host itself, renders the host's OpenAPI document — every plugin's
// operations are on the page — and the page loads nothing from anywhere but this host.
#include "HostProcess.h"
#include "HttpClient.h"
#include "ProblemCheck.h"
#include "WebDriver.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtTest/QtTest>

using namespace yieldhost::test;

class TestApiDocs : public QObject
{
    Q_OBJECT

    HostProcess m_host; // on its embedded cluster

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_host.start(&error, 60000), qPrintable(error));
        QVERIFY(m_host.waitReady(60000));
    }

    void cleanupTestCase() { QCOMPARE(m_host.terminate(), 0); }

    void thePageAndItsScriptComeFromThisHost()
    {
        const auto page = HttpClient::request(m_host.host(), m_host.port(), "GET", "/api/docs");
        QVERIFY(page && page->status == 200);
        QVERIFY(page->header("content-type").startsWith("text/html"));
        QVERIFY(page->header("content-security-policy").contains("script-src 'self'"));
        QVERIFY(!page->body.contains("http://") && !page->body.contains("https://")); // no CDN
        const auto script = HttpClient::request(m_host.host(), m_host.port(), "GET", "/api/docs/redoc.standalone.js");
        QVERIFY(script && script->status == 200);
        QVERIFY(script->header("content-type").startsWith("text/javascript"));
        QVERIFY2(script->body.size() > 100000, qPrintable(QString::number(script->body.size())));
    }

    void theBrowserRendersEveryPluginsOperations()
    {
        WebDriver browser;
        QString error;
        QVERIFY2(browser.start(&error), qPrintable(error));
        QVERIFY2(browser.navigate(m_host.baseUrl() + QStringLiteral("/api/docs"), &error), qPrintable(error));
        const QString text = QStringLiteral("return document.body ? document.body.innerText : ''");
        // Redoc fetches /api/openapi.json and renders it; summaries of routes of the host and of
        // the users plugin appear once it has.
        QVERIFY2(waitUntil([&] { return browser.script(text, &error).toString().contains(QLatin1String("Log in: access and refresh tokens")); }, 30000),
                 qPrintable(browser.script(text, &error).toString().left(2000) + error));
        const QString rendered = browser.script(text, &error).toString();
        QVERIFY(rendered.contains(QLatin1String("Yieldhost API")));
        QVERIFY(rendered.contains(QLatin1String("Liveness: 200 while the process runs")));
        QVERIFY(rendered.contains(QLatin1String("Run a failed or cancelled job again now")));
        // Nothing came from another origin (fonts, scripts, styles).
        const QJsonArray foreign = browser.script(QStringLiteral(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin) && !n.startsWith('blob:') && !n.startsWith('data:'))"),
            &error).toArray();
        QVERIFY2(foreign.isEmpty(), QJsonDocument(foreign).toJson().constData());
    }
};

QTEST_GUILESS_MAIN(TestApiDocs)
#include "tst_apidocs.moc"
