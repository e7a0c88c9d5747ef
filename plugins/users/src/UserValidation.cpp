#include "UserValidation.h"

#include <QtCore/QRegularExpression>

namespace yieldhost::users {

namespace {

constexpr int MaxNameLength = 150;

std::optional<QString> name(const QJsonObject &body, const QString &field, FieldErrors *errors, bool nullAllowed = true)
{
    const QJsonValue v = body.value(field);
    if (v.isUndefined() || (v.isNull() && nullAllowed))
        return std::nullopt;
    if (!v.isString()) {
        (*errors)[field].append(QStringLiteral("must be a string"));
        return std::nullopt;
    }
    const QString s = v.toString().trimmed();
    if (s.size() > MaxNameLength) {
        (*errors)[field].append(QStringLiteral("must be at most %1 characters").arg(MaxNameLength));
        return std::nullopt;
    }
    return s;
}

std::optional<QString> currency(const QJsonObject &body, FieldErrors *errors, bool nullAllowed = true)
{
    const QString field = QStringLiteral("base_currency");
    const QJsonValue v = body.value(field);
    if (v.isUndefined() || (v.isNull() && nullAllowed))
        return std::nullopt;
    static const QRegularExpression code(QStringLiteral("^[A-Z0-9]{3,10}$"));
    if (!v.isString() || !code.match(v.toString().toUpper()).hasMatch()) {
        (*errors)[field].append(QStringLiteral("must be a currency code such as USD (GET /api/v1/currencies lists them)"));
        return std::nullopt;
    }
    return v.toString().toUpper();
}

} // namespace

bool isValidEmail(const QString &email)
{
    static const QRegularExpression re(QStringLiteral("^[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]+$"));
    if (email.size() > 254 || !re.match(email).hasMatch())
        return false;
    // No control or format characters (NUL, bidi overrides such as U+202E, zero-width joiners):
    // they make two addresses look alike or hide what an address says.
    const QList<uint> codePoints = email.toUcs4();
    return std::none_of(codePoints.cbegin(), codePoints.cend(), [](uint c) {
        const QChar::Category category = QChar::category(char32_t(c));
        return category == QChar::Other_Control || category == QChar::Other_Format || category == QChar::Other_NotAssigned
               || category == QChar::Other_Surrogate || category == QChar::Other_PrivateUse;
    });
}

QString canonicalEmail(const QString &email)
{
    return email.trimmed().normalized(QString::NormalizationForm_KC).toCaseFolded().normalized(QString::NormalizationForm_KC);
}

QString displayEmail(const QString &email)
{
    return email.trimmed().normalized(QString::NormalizationForm_C);
}

QString validatePassword(const QJsonValue &value)
{
    if (!value.isString())
        return QStringLiteral("is required and must be a string");
    const qsizetype length = value.toString().toUcs4().size();
    if (length < MinPasswordLength)
        return QStringLiteral("must be at least %1 characters").arg(MinPasswordLength);
    if (length > MaxPasswordLength)
        return QStringLiteral("must be at most %1 characters").arg(MaxPasswordLength);
    return {};
}

Registration validateRegistration(const QJsonObject &body, FieldErrors *errors)
{
    Registration r;
    const QJsonValue email = body.value(QLatin1String("email"));
    if (!email.isString() || !isValidEmail(displayEmail(email.toString())))
        (*errors)[QStringLiteral("email")].append(QStringLiteral("must be a valid email address"));
    else
        r.email = displayEmail(email.toString());
    if (const QString why = validatePassword(body.value(QLatin1String("password"))); !why.isEmpty())
        (*errors)[QStringLiteral("password")].append(why);
    else
        r.password = body.value(QLatin1String("password")).toString();
    r.firstName = name(body, QStringLiteral("first_name"), errors).value_or(QString());
    r.lastName = name(body, QStringLiteral("last_name"), errors).value_or(QString());
    const std::optional<QString> given = currency(body, errors);
    r.baseCurrency = given.value_or(DefaultCurrency);
    r.baseCurrencyGiven = given.has_value();
    return r;
}

ProfileChanges validateProfile(const QJsonObject &body, FieldErrors *errors)
{
    static const QStringList readOnly{QStringLiteral("id"), QStringLiteral("email"), QStringLiteral("is_staff"),
                                      QStringLiteral("is_active"), QStringLiteral("date_joined"), QStringLiteral("password")};
    for (const QString &field : readOnly) {
        if (body.contains(field))
            (*errors)[field].append(QStringLiteral("cannot be changed here"));
    }
    ProfileChanges c;
    // In a PATCH, null is not "leave unchanged" (that is leaving the field out): it is refused.
    c.firstName = name(body, QStringLiteral("first_name"), errors, false);
    c.lastName = name(body, QStringLiteral("last_name"), errors, false);
    c.baseCurrency = currency(body, errors, false);
    return c;
}

} // namespace yieldhost::users
