#include "AccountStore.h"

#include "RefreshTokens.h"

#include "yieldhost/Ids.h"

namespace yieldhost::users {

namespace {

const QString Columns = QStringLiteral("id::text AS id, email, password_hash, first_name, last_name, base_currency, is_staff, is_active, date_joined, token_version");

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
    a.tokenVersion = int(r.integer(0, QStringLiteral("token_version")));
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

namespace {

// A JSON string as QJsonDocument writes it: '"' and '\\' escaped, control characters as \b \f
// \n \r \t or \u00XX, everything else as UTF-8.
void appendJsonString(QByteArray &out, const QString &text)
{
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20) {
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

} // namespace

QByteArray Account::toJsonText() const
{
    // The keys in QJsonObject's (sorted) order, so both forms give the same bytes.
    QByteArray out;
    out.reserve(256);
    out += "{\"base_currency\":";
    appendJsonString(out, baseCurrency);
    out += ",\"date_joined\":";
    appendJsonString(out, dateJoined.toUTC().toString(Qt::ISODate));
    out += ",\"email\":";
    appendJsonString(out, email);
    out += ",\"first_name\":";
    appendJsonString(out, firstName);
    out += ",\"id\":";
    appendJsonString(out, id);
    out += isStaff ? ",\"is_staff\":true" : ",\"is_staff\":false";
    out += ",\"last_name\":";
    appendJsonString(out, lastName);
    out += '}';
    return out;
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

QCoro::Task<AccountStore::WithSession> AccountStore::withSession(QString id, QString sessionId)
{
    WithSession w;
    if (!isUuid(id) || !isUuid(sessionId))
        co_return w;
    const QString sql = QStringLiteral("SELECT u.id::text AS id, u.email, u.is_staff, u.is_active, u.date_joined, u.token_version, "
                                       "(f.id IS NOT NULL AND f.revoked_at IS NULL) AS session_live FROM users_user u "
                                       "LEFT JOIN users_token_family f ON f.id = ?::uuid AND f.user_id = u.id WHERE u.id = ?::uuid");
    const QVariantList params{sessionId, id};
    const SqlResult r = co_await m_db.query(sql, params);
    w.error = r.error();
    if (!r.error() && !r.isEmpty()) {
        w.account = accountFrom(r);
        w.sessionLive = r.value(0, QStringLiteral("session_live")).toBool();
    }
    co_return w;
}

QCoro::Task<AccountStore::SignedOut> AccountStore::signOutEverywhere(QString id, QDateTime now, std::optional<PasswordChange> change)
{
    SignedOut out;
    if (!isUuid(id))
        co_return out;
    // The account's row first (the version), then its families. A rotation locks only its family
    // (its insert takes a key-share lock on the account, which this update does not conflict
    // with), so the two cannot deadlock; one that committed meanwhile is revoked with the rest.
    std::function<Status(SqlTransaction &)> work = [&out, id, now, change](SqlTransaction &tx) -> Status {
        out = SignedOut{};
        const SqlResult bumped = change ? tx.exec(QStringLiteral("UPDATE users_user SET token_version = token_version + 1, password_hash = ? "
                                                                 "WHERE id = ?::uuid AND password_hash = ?"),
                                                  {change->newHash, id, change->checkedHash})
                                        : tx.exec(QStringLiteral("UPDATE users_user SET token_version = token_version + 1 WHERE id = ?::uuid"), {id});
        if (bumped.error())
            return Status::failure(QStringLiteral("raising the token version failed"));
        if (bumped.rowsAffected() == 0)
            return {}; // not done, nothing to roll back
        if (Status revoked = RefreshTokens::revokeAllFamilies(tx, id, now); !revoked)
            return revoked;
        out.done = true;
        return {};
    };
    const TransactionOutcome outcome = co_await m_db.transaction(std::move(work));
    if (!outcome.committed) {
        out = SignedOut{};
        out.error = outcome.error;
        if (!outcome.error)
            out.error.kind = DbError::Kind::Query;
    }
    co_return out;
}

} // namespace yieldhost::users
