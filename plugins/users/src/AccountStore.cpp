#include "AccountStore.h"

#include <QtCore/QRegularExpression>

namespace yieldhost::users {

namespace {

const QString Columns = QStringLiteral("id::text AS id, email, password_hash, first_name, last_name, base_currency, is_staff, is_active, date_joined");

Account accountFrom(const SqlResult &r)
{
    Account a;
    a.id = r.string(0, QStringLiteral("id"));
    a.email = r.string(0, QStringLiteral("email"));
    a.passwordHash = r.string(0, QStringLiteral("password_hash"));
    a.firstName = r.string(0, QStringLiteral("first_name"));
    a.lastName = r.string(0, QStringLiteral("last_name"));
    a.baseCurrency = r.string(0, QStringLiteral("base_currency"));
    a.isStaff = r.value(0, QStringLiteral("is_staff")).toBool();
    a.isActive = r.value(0, QStringLiteral("is_active")).toBool();
    a.dateJoined = r.value(0, QStringLiteral("date_joined")).toDateTime().toUTC();
    return a;
}

AccountStore::Found found(const SqlResult &r)
{
    AccountStore::Found f;
    f.error = r.error();
    if (!r.error() && !r.isEmpty())
        f.account = accountFrom(r);
    return f;
}

} // namespace

QJsonObject Account::toJson() const
{
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("email"), email},
                       {QStringLiteral("first_name"), firstName},
                       {QStringLiteral("last_name"), lastName},
                       {QStringLiteral("base_currency"), baseCurrency},
                       {QStringLiteral("is_staff"), isStaff},
                       {QStringLiteral("date_joined"), dateJoined.toUTC().toString(Qt::ISODate)}};
}

bool AccountStore::isUuid(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"));
    return re.match(text).hasMatch();
}

QCoro::Task<AccountStore::Created> AccountStore::create(Registration r, QString passwordHash, bool staff, QDateTime now)
{
    const QString sql = QStringLiteral("INSERT INTO users_user (email, email_key, password_hash, first_name, last_name, base_currency, is_staff, date_joined) "
                                       "VALUES (?, ?, ?, COALESCE(?, ''), COALESCE(?, ''), ?, ?, ?) RETURNING ") + Columns;
    const QVariantList params{r.email, canonicalEmail(r.email), passwordHash, r.firstName, r.lastName, r.baseCurrency, staff, now};
    const SqlResult result = co_await m_db.query(sql, params);
    Created c;
    c.error = result.error();
    if (!result.error() && !result.isEmpty())
        c.account = accountFrom(result);
    co_return c;
}

QCoro::Task<AccountStore::Found> AccountStore::byEmail(QString email)
{
    const QString sql = QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM users_user WHERE email_key = ?");
    const QVariantList params{canonicalEmail(email)};
    co_return found(co_await m_db.query(sql, params));
}

QCoro::Task<AccountStore::Found> AccountStore::byId(QString id)
{
    if (!isUuid(id))
        co_return Found{};
    const QString sql = QStringLiteral("SELECT ") + Columns + QStringLiteral(" FROM users_user WHERE id = ?::uuid");
    const QVariantList params{id};
    co_return found(co_await m_db.query(sql, params));
}

QCoro::Task<AccountStore::Found> AccountStore::update(QString id, ProfileChanges c)
{
    // COALESCE keeps a field whose new value is NULL (not given) unchanged.
    const QString sql = QStringLiteral("UPDATE users_user SET first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name), "
                                       "base_currency = COALESCE(?, base_currency) WHERE id = ?::uuid RETURNING ") + Columns;
    auto orNull = [](const std::optional<QString> &v) { return v ? QVariant(*v) : QVariant(QMetaType::fromType<QString>()); };
    const QVariantList params{orNull(c.firstName), orNull(c.lastName), orNull(c.baseCurrency), id};
    co_return found(co_await m_db.query(sql, params));
}

} // namespace yieldhost::users
