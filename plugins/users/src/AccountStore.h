// AccountStore.h — the SQL of accounts (users_user): create, find, update, and the JSON a client sees.
#pragma once

#include "UserValidation.h"

#include "yieldhost/Database.h"

#include <QtCore/QJsonObject>

#include <QCoro/QCoroTask>

#include <optional>

namespace yieldhost::users {

struct Account
{
    QString id;
    QString email;
    QString passwordHash;
    QString firstName;
    QString lastName;
    QString baseCurrency;
    bool isStaff = false;
    bool isActive = true;
    QDateTime dateJoined;

    QJsonObject toJson() const; // the API's user object
};

class AccountStore
{
public:
    explicit AccountStore(Database &db) : m_db(db) {}

    struct Created
    {
        std::optional<Account> account;
        DbError error; // UniqueViolation: the email is taken
    };
    QCoro::Task<Created> create(Registration registration, QString passwordHash, bool staff, QDateTime now);

    struct Found
    {
        std::optional<Account> account;
        DbError error;
    };
    QCoro::Task<Found> byEmail(QString email);
    QCoro::Task<Found> byId(QString id);
    QCoro::Task<Found> update(QString id, ProfileChanges changes);

    static bool isUuid(const QString &text);

private:
    Database &m_db;
};

} // namespace yieldhost::users
