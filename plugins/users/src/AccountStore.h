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
    int tokenVersion = 0; // raised by sign out everywhere and password changes; never shown to clients

    QJsonObject toJson() const; // the API's user object
    // The same object as compact JSON text, written directly: GET /users/me, the hot path every
    // client polls, spent a fifth of its CPU building and serializing a QJsonObject.
    QByteArray toJsonText() const;
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

    // What the Authenticator needs for every request, in one round trip: the account (without its
    // password hash) and whether the sign-in `sessionId` names is one of its own and not revoked.
    struct WithSession
    {
        std::optional<Account> account;
        bool sessionLive = false;
        DbError error;
    };
    QCoro::Task<WithSession> withSession(QString id, QString sessionId);

    // Signs the account out everywhere, in one transaction: its token version goes up (every token
    // issued before carries the old one) and every sign-in is revoked. With `change`, the password
    // is replaced too — only if it is still the hash that was checked, so of two changes racing
    // with the same current password one wins.
    struct PasswordChange
    {
        QString checkedHash;
        QString newHash;
    };
    struct SignedOut
    {
        bool done = false; // false without an error: no such account, or its password changed meanwhile
        DbError error;
    };
    QCoro::Task<SignedOut> signOutEverywhere(QString id, QDateTime now, std::optional<PasswordChange> change = std::nullopt);


private:
    Database &m_db;
};

} // namespace yieldhost::users
