// PgFixture.h — a throwaway PostgreSQL for one test binary (initdb + pg_ctl in a temp dir on a
// free loopback port, run as user postgres when the test runs as root), and a fresh database
// per test.
#pragma once

#include "db/EmbeddedPostgres.h"

#include <QtCore/QTemporaryDir>

#include <memory>

namespace yieldhost::test {

class PgFixture
{
public:
    PgFixture();
    ~PgFixture();

    bool start(QString *error);
    // CREATE DATABASE <unique name>; returns its postgres:// URL (TCP on 127.0.0.1).
    QString createDatabase(QString *error);
    // Runs SQL through psql against `database` (admin work in tests); returns stdout.
    QString psql(const QString &database, const QString &sql, QString *error = nullptr) const;

    quint16 port() const { return m_port; }
    EmbeddedPostgres &server() { return *m_server; }
    // Stop/start the server (same data, same port) to test outages.
    void stopServer();
    bool restartServer(QString *error);

private:
    bool startServer(QString *error); // same data dir, same port

    QTemporaryDir m_dir;
    quint16 m_port = 0;
    std::unique_ptr<EmbeddedPostgres> m_server;
    int m_databases = 0;
};

} // namespace yieldhost::test
