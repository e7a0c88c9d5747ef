// UserValidation.h — field rules for registration and profile updates, reported per field (422).
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QMap>
#include <QtCore/QStringList>

namespace yieldhost::users {

using FieldErrors = QMap<QString, QStringList>;

// The currency of an account unless it names one. Which codes exist is the Currencies service's
// to say (the integrations plugin); validation only checks the shape of a code.
inline const QString DefaultCurrency = QStringLiteral("USD");

struct Registration
{
    QString email;
    QString password;
    QString firstName;
    QString lastName;
    QString baseCurrency = DefaultCurrency;
    bool baseCurrencyGiven = false; // to be checked with the Currencies service
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
