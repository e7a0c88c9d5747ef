// HostCluster.h — several processes of the real host (serve, worker, beat) against one database
// of their own in a throwaway PostgreSQL: the shape of every multi-process end-to-end test.
// The processes share an environment — the database URL, one JWT secret (so a token from one is
// valid in all, as in production), no access log — plus what the test adds.
#pragma once

#include "HostProcess.h"
#include "PgFixture.h"

#include <QtCore/QProcessEnvironment>

#include <memory>

namespace yieldhost::test {

class HostCluster
{
public:
    // Starts PostgreSQL and creates the cluster's database.
    bool open(QString *error);
    // Adds `key=value` to the environment every process of the cluster gets.
    void setShared(const QString &key, const QString &value) { m_shared.insert(key, value); }
    // The shared environment plus `extra` (for one-shot commands: HostProcess::runCommand).
    QProcessEnvironment environment(const QProcessEnvironment &extra = {}) const;
    // A started process with `arguments` ("serve", "worker --queues q", "beat"), or nullptr after
    // a warning saying why.
    std::unique_ptr<HostProcess> start(const QStringList &arguments, const QProcessEnvironment &extra = {}) const;
    // Admin SQL through psql on the cluster's database; a failure is a warning, the output is
    // what psql printed.
    QString sql(const QString &statement);
    // Statements expected to fail, through psql with ON_ERROR_STOP and VERBOSITY=verbose (the
    // SQLSTATE and the constraint's name are printed): what psql wrote to stderr, empty when
    // they succeeded.
    QString sqlError(const QString &statements);

    PgFixture &postgres() { return m_pg; }
    const QString &databaseUrl() const { return m_url; }

private:
    PgFixture m_pg;
    QString m_url;
    QString m_database;
    QProcessEnvironment m_shared;
};

} // namespace yieldhost::test
