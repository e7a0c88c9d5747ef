// UserValidation.h — field rules for registration and profile updates, reported per field (422).
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QMap>
#include <QtCore/QStringList>

namespace yieldhost::users {

using FieldErrors = QMap<QString, QStringList>;

inline const QStringList &supportedCurrencies()
{
    static const QStringList codes{QStringLiteral("USD"), QStringLiteral("EUR"), QStringLiteral("GBP"),
                                   QStringLiteral("BTC"), QStringLiteral("ETH"), QStringLiteral("USDT")};
    return codes;
}

struct Registration
{
    QString email;
    QString password;
    QString firstName;
    QString lastName;
    QString baseCurrency = QStringLiteral("USD");
};

struct ProfileChanges
{
    std::optional<QString> firstName;
    std::optional<QString> lastName;
    std::optional<QString> baseCurrency;
};

constexpr int MinPasswordLength = 10;
constexpr int MaxPasswordLength = 1024;

Registration validateRegistration(const QJsonObject &body, FieldErrors *errors);
ProfileChanges validateProfile(const QJsonObject &body, FieldErrors *errors);
QString validatePassword(const QJsonValue &value); // empty when acceptable
bool isValidEmail(const QString &email);
// The one form of an email that decides which account it names, used to store, look up and
// throttle alike: NFKC-normalised and case-folded, so "Josè" typed in NFC or NFD, and any casing,
// are one account. (Lower-casing in two places — Qt and PostgreSQL disagree on 'İ' — let a
// different spelling of a locked account open a fresh throttle bucket.)
QString canonicalEmail(const QString &email);
// How an email is kept for display: trimmed and NFC-normalised.
QString displayEmail(const QString &email);

} // namespace yieldhost::users
