// Decimal.cpp — exact fixed-point arithmetic for yieldhost::Decimal.
//
// Values are kept as a signed 128-bit coefficient below 10^38 and a scale of 0..18. Intermediate
// results (aligned sums, full products, scaled dividends) can need up to 76 digits, so they are
// computed on unsigned 256-bit magnitudes (four 64-bit limbs) with the sign kept separately, and
// rounded half-even exactly once, from the exact intermediate. A scaled quotient whose exact
// dividend would pass 256 bits (a 76-digit product times 10^36) is divided in two steps instead
// (scaledQuotient). JSON number text is rounded on its digit string, so an exponent such as
// 1e-400 costs nothing.

#include "yieldhost/Decimal.h"

#include <QtCore/QJsonValue>
#include <QtCore/qhashfunctions.h>

#include <array>
#include <utility>

namespace yieldhost {

namespace {

__extension__ typedef __int128 I128;
__extension__ typedef unsigned __int128 U128;

constexpr int kMaxScale = Decimal::MaxScale;
constexpr int kMaxDigits = Decimal::MaxDigits;

// Unsigned 256-bit integer, little-endian 64-bit limbs. Only what Decimal needs; callers keep
// every value far enough below 2^256 (at most ~10^76) that nothing here overflows.
struct U256
{
    std::array<quint64, 4> w{};

    static constexpr U256 from(U128 v) noexcept
    {
        U256 r;
        r.w[0] = quint64(v);
        r.w[1] = quint64(v >> 64);
        return r;
    }
    constexpr bool isZero() const noexcept { return (w[0] | w[1] | w[2] | w[3]) == 0; }
    constexpr bool isOdd() const noexcept { return (w[0] & 1u) != 0; }
    constexpr U128 low128() const noexcept { return (U128(w[1]) << 64) | w[0]; }
};

constexpr int cmp(const U256 &a, const U256 &b) noexcept
{
    for (int i = 3; i >= 0; --i) {
        if (a.w[i] != b.w[i])
            return a.w[i] < b.w[i] ? -1 : 1;
    }
    return 0;
}

constexpr U256 addU(const U256 &a, const U256 &b) noexcept
{
    U256 r;
    quint64 carry = 0;
    for (int i = 0; i < 4; ++i) {
        const U128 t = U128(a.w[i]) + b.w[i] + carry;
        r.w[i] = quint64(t);
        carry = quint64(t >> 64);
    }
    return r;
}

// Requires a >= b.
constexpr U256 subU(const U256 &a, const U256 &b) noexcept
{
    U256 r;
    quint64 borrow = 0;
    for (int i = 0; i < 4; ++i) {
        const quint64 d1 = a.w[i] - b.w[i];
        const quint64 b1 = a.w[i] < b.w[i] ? 1 : 0;
        r.w[i] = d1 - borrow;
        const quint64 b2 = d1 < borrow ? 1 : 0;
        borrow = b1 | b2;
    }
    return r;
}

// Product truncated to 256 bits (callers guarantee it fits).
constexpr U256 mulU(const U256 &a, const U256 &b) noexcept
{
    U256 r;
    for (int i = 0; i < 4; ++i) {
        if (a.w[i] == 0)
            continue;
        quint64 carry = 0;
        for (int j = 0; i + j < 4; ++j) {
            const U128 t = U128(a.w[i]) * b.w[j] + r.w[i + j] + carry;
            r.w[i + j] = quint64(t);
            carry = quint64(t >> 64);
        }
    }
    return r;
}

constexpr U256 shl1(const U256 &a) noexcept
{
    U256 r;
    for (int i = 3; i > 0; --i)
        r.w[i] = (a.w[i] << 1) | (a.w[i - 1] >> 63);
    r.w[0] = a.w[0] << 1;
    return r;
}

constexpr int bitLength(const U256 &a) noexcept
{
    for (int i = 3; i >= 0; --i) {
        if (a.w[i] != 0)
            return i * 64 + (64 - __builtin_clzll(a.w[i]));
    }
    return 0;
}

// Quotient and remainder of n / d, d != 0. Binary long division; operands are small enough
// (< 2^255) that shifting the remainder left never loses a bit.
constexpr std::pair<U256, U256> divMod(const U256 &n, const U256 &d) noexcept
{
    U256 q;
    U256 r;
    for (int bit = bitLength(n) - 1; bit >= 0; --bit) {
        r = shl1(r);
        r.w[0] |= (n.w[bit / 64] >> (bit % 64)) & 1u;
        if (cmp(r, d) >= 0) {
            r = subU(r, d);
            q.w[bit / 64] |= quint64(1) << (bit % 64);
        }
    }
    return { q, r };
}

// n / d rounded half to even, d != 0.
constexpr U256 divRoundHalfEven(const U256 &n, const U256 &d) noexcept
{
    auto [q, r] = divMod(n, d);
    const int c = cmp(shl1(r), d);
    if (c > 0 || (c == 0 && q.isOdd()))
        q = addU(q, U256::from(1));
    return q;
}

constexpr int kMaxPow10 = 76;

constexpr std::array<U256, kMaxPow10 + 1> makePow10() noexcept
{
    std::array<U256, kMaxPow10 + 1> t{};
    t[0] = U256::from(1);
    for (int i = 1; i <= kMaxPow10; ++i)
        t[i] = mulU(t[i - 1], U256::from(10));
    return t;
}

constexpr std::array<U256, kMaxPow10 + 1> kPow10 = makePow10();

constexpr const U256 &pow10(int n) noexcept
{
    return kPow10[std::size_t(n)];
}

constexpr U128 pow10u128(int n) noexcept
{
    U128 r = 1;
    for (int i = 0; i < n; ++i)
        r *= 10;
    return r;
}

constexpr U128 kCoeffLimit = pow10u128(kMaxDigits); // 10^38 < 2^127
static_assert(kCoeffLimit < (U128(1) << 127), "10^38 must fit a signed 128-bit coefficient");

constexpr U128 magnitudeOf(I128 v) noexcept
{
    return v < 0 ? U128(0) - U128(v) : U128(v);
}

// round(n x 10^shift / d) half-even, or nullopt when it needs more than 38 digits.
// Requires n < 10^76, 0 < d < 10^38 and -36 <= shift <= 36.
std::optional<U256> scaledQuotient(const U256 &n, const U256 &d, int shift) noexcept
{
    const U256 limit = U256::from(kCoeffLimit);
    if (shift <= 0) {
        // d x 10^36 < 10^74: the divisor is exact in 256 bits.
        const U256 q = divRoundHalfEven(n, mulU(d, pow10(-shift)));
        return cmp(q, limit) < 0 ? std::optional<U256>(q) : std::nullopt;
    }
    // n x 10^shift may need 372 bits. n x 10^s = (q1 d + r1) 10^s = (q1 10^s + q2) d + r2 with
    // (q1, r1) = divMod(n, d) and (q2, r2) = divMod(r1 10^s, d), where r1 10^s < 10^74.
    const auto [q1, r1] = divMod(n, d);
    if (cmp(q1, pow10(kMaxDigits - shift)) >= 0) // q1 x 10^shift >= 10^38
        return std::nullopt;
    const auto [q2, r2] = divMod(mulU(r1, pow10(shift)), d);
    U256 q = addU(mulU(q1, pow10(shift)), q2);
    const int c = cmp(shl1(r2), d);
    if (c > 0 || (c == 0 && q.isOdd()))
        q = addU(q, U256::from(1));
    return cmp(q, limit) < 0 ? std::optional<U256>(q) : std::nullopt;
}

constexpr bool isAsciiDigit(QChar c) noexcept
{
    return c >= u'0' && c <= u'9';
}

// The digits `digits` (no leading zeros, not empty) times 10^-drop, drop > 0, rounded half-even
// to an integer; returned as digits without leading zeros, empty for zero.
QString roundOffDigits(const QString &digits, qint64 drop)
{
    const qsizetype n = digits.size();
    if (drop > n) // below 0.1: rounds to zero
        return {};
    const qsizetype keep = n - qsizetype(drop);
    QString kept = digits.left(keep);
    const char16_t first = digits[keep].unicode();
    bool sticky = false;
    for (qsizetype i = keep + 1; i < n && !sticky; ++i)
        sticky = digits[i] != u'0';
    const bool lastOdd = keep > 0 && (kept.back().unicode() - u'0') % 2 == 1;
    if (first > u'5' || (first == u'5' && (sticky || lastOdd))) {
        qsizetype i = kept.size() - 1;
        while (i >= 0 && kept[i] == u'9')
            kept[i--] = u'0';
        if (i >= 0)
            kept[i] = QChar(kept[i].unicode() + 1);
        else
            kept.prepend(u'1');
    }
    return kept;
}

QString digitsOf(U128 v)
{
    if (v == 0)
        return QStringLiteral("0");
    char buf[48];
    int pos = int(sizeof buf);
    while (v != 0) {
        buf[--pos] = char('0' + int(v % 10));
        v /= 10;
    }
    return QString::fromLatin1(buf + pos, qsizetype(sizeof buf) - pos);
}

// A short, quoted rendition of user input for error messages.
QString quoted(QStringView text)
{
    constexpr qsizetype maxShown = 60;
    if (text.size() <= maxShown)
        return QLatin1Char('"') + text.toString() + QLatin1Char('"');
    return QLatin1Char('"') + text.left(maxShown).toString() + QStringLiteral("...\"");
}

} // namespace

struct Decimal::Detail
{
    static constexpr U128 magnitude(const Decimal &d) noexcept { return magnitudeOf(d.m_coeff); }

    // Builds a Decimal from sign, magnitude and scale; nullopt if the magnitude needs more
    // than 38 digits. Zero is never negative.
    static std::optional<Decimal> make(bool negative, const U256 &mag, int scale) noexcept
    {
        if (cmp(mag, U256::from(kCoeffLimit)) >= 0)
            return std::nullopt;
        const I128 v = I128(mag.low128());
        return Decimal(negative ? -v : v, scale);
    }

    // Magnitude at a scale >= the value's own scale (exact).
    static U256 scaledMagnitude(const Decimal &d, int scale) noexcept
    {
        return mulU(U256::from(magnitude(d)), pow10(scale - d.m_scale));
    }

    // fromString()'s grammar on non-empty text; on failure `reason` says why, as a clause
    // ("exponent notation is not supported") that fromString() and fromJson() frame.
    static std::optional<Decimal> parse(QStringView text, QString *reason)
    {
        const auto invalid = [&](const QString &why) -> std::optional<Decimal> {
            *reason = why;
            return std::nullopt;
        };

        qsizetype i = 0;
        bool negative = false;
        if (text.front() == u'-' || text.front() == u'+') {
            negative = text.front() == u'-';
            ++i;
        }

        const QStringView body = text.mid(i);
        for (const char *special : { "nan", "snan", "inf", "infinity" }) {
            if (body.compare(QLatin1StringView(special), Qt::CaseInsensitive) == 0)
                return invalid(QStringLiteral("NaN and Infinity are not allowed"));
        }

        QString digits; // integer and fraction digits, without the point
        digits.reserve(text.size());
        qsizetype intDigits = 0;
        qsizetype fracDigits = 0;
        bool seenPoint = false;
        for (; i < text.size(); ++i) {
            const QChar c = text[i];
            if (isAsciiDigit(c)) {
                digits.append(c);
                (seenPoint ? fracDigits : intDigits) += 1;
            } else if (c == u'.') {
                if (seenPoint)
                    return invalid(QStringLiteral("it contains more than one decimal point"));
                if (intDigits == 0)
                    return invalid(QStringLiteral("a digit is required before the decimal point"));
                seenPoint = true;
            } else if (c.isSpace()) {
                return invalid(QStringLiteral("whitespace is not allowed"));
            } else if ((c == u'e' || c == u'E') && !digits.isEmpty()) {
                return invalid(QStringLiteral("exponent notation is not supported"));
            } else if (c == u'-' || c == u'+') {
                return invalid(QStringLiteral("a sign is allowed only once, at the start"));
            } else {
                return invalid(QStringLiteral("unexpected character '%1' at position %2")
                                       .arg(c)
                                       .arg(i + 1));
            }
        }

        if (digits.isEmpty())
            return invalid(QStringLiteral("it contains no digits"));
        if (seenPoint && fracDigits == 0)
            return invalid(QStringLiteral("a digit is required after the decimal point"));
        if (fracDigits > kMaxScale)
            return invalid(QStringLiteral("it has more than %1 digits after the decimal point")
                                   .arg(kMaxScale));

        qsizetype first = 0;
        while (first < digits.size() && digits[first] == u'0')
            ++first;
        if (digits.size() - first > kMaxDigits)
            return invalid(QStringLiteral("it has more than %1 significant digits").arg(kMaxDigits));

        U128 mag = 0;
        for (qsizetype k = first; k < digits.size(); ++k)
            mag = mag * 10 + U128(digits[k].unicode() - u'0');
        const I128 v = I128(mag);
        return Decimal(negative ? -v : v, int(fracDigits));
    }

    static std::optional<Decimal> addSigned(const Decimal &a, const Decimal &b, bool negateB)
    {
        const int scale = qMax(a.m_scale, b.m_scale);
        const U256 ma = scaledMagnitude(a, scale);
        const U256 mb = scaledMagnitude(b, scale);
        const bool na = a.m_coeff < 0;
        const bool nb = (b.m_coeff < 0) != negateB;
        if (na == nb)
            return make(na, addU(ma, mb), scale);
        if (cmp(ma, mb) >= 0)
            return make(na, subU(ma, mb), scale);
        return make(nb, subU(mb, ma), scale);
    }
};

Decimal Decimal::fromInt(qint64 value) noexcept
{
    return Decimal(I128(value), 0);
}

std::optional<Decimal> Decimal::fromString(QStringView text, QString *error)
{
    if (text.isEmpty()) {
        if (error)
            *error = QStringLiteral("The text is empty; expected a decimal number such as "
                                    "\"-12.34\".");
        return std::nullopt;
    }
    QString reason;
    std::optional<Decimal> value = Detail::parse(text, &reason);
    if (!value && error)
        *error = QStringLiteral("%1 is not a valid decimal number: %2.").arg(quoted(text), reason);
    return value;
}

std::optional<Decimal> Decimal::fromJson(const QJsonValue &value, QString *error)
{
    const auto fail = [&](const QString &reason) -> std::optional<Decimal> {
        if (error)
            *error = reason;
        return std::nullopt;
    };
    const QString expected =
            QStringLiteral("a string holding a decimal number, such as \"12.50\"");
    switch (value.type()) {
    case QJsonValue::String: {
        const QString text = value.toString();
        if (text.isEmpty())
            return fail(QStringLiteral("must be %1, not an empty string").arg(expected));
        QString reason;
        if (std::optional<Decimal> result = Detail::parse(text, &reason))
            return result;
        return fail(QStringLiteral("must be a decimal number such as \"12.50\" (%1: %2)")
                            .arg(quoted(text), reason));
    }
    case QJsonValue::Double:
        return fail(QStringLiteral("must be %1 (JSON numbers are not accepted for money)")
                            .arg(expected));
    case QJsonValue::Bool:
        return fail(QStringLiteral("must be %1, not %2")
                            .arg(expected, value.toBool() ? QStringLiteral("true")
                                                          : QStringLiteral("false")));
    case QJsonValue::Null:
        return fail(QStringLiteral("must be %1, not null").arg(expected));
    case QJsonValue::Array:
        return fail(QStringLiteral("must be %1, not an array").arg(expected));
    case QJsonValue::Object:
        return fail(QStringLiteral("must be %1, not an object").arg(expected));
    case QJsonValue::Undefined:
        break;
    }
    return fail(QStringLiteral("is required and must be %1").arg(expected));
}

std::optional<Decimal> Decimal::fromJsonNumber(QStringView text, QString *error)
{
    const auto fail = [&](const QString &reason) -> std::optional<Decimal> {
        if (error)
            *error = reason;
        return std::nullopt;
    };
    const auto invalid = [&](const QString &why) {
        return fail(QStringLiteral("%1 is not a JSON number: %2.").arg(quoted(text), why));
    };
    const auto unexpected = [&](qsizetype at) {
        const QChar c = text[at];
        if (c.isSpace())
            return invalid(QStringLiteral("whitespace is not allowed"));
        return invalid(QStringLiteral("unexpected character '%1' at position %2").arg(c).arg(at + 1));
    };

    if (text.isEmpty())
        return fail(QStringLiteral("The text is empty; expected a JSON number such as "
                                   "\"1.05e-05\"."));

    const qsizetype size = text.size();
    qsizetype i = 0;
    const bool negative = text.front() == u'-';
    if (negative)
        ++i;
    else if (text.front() == u'+')
        return invalid(QStringLiteral("a leading '+' is not allowed"));
    for (const char *special : { "nan", "snan", "inf", "infinity" }) {
        if (text.mid(i).compare(QLatin1StringView(special), Qt::CaseInsensitive) == 0)
            return invalid(QStringLiteral("NaN and Infinity are not JSON numbers"));
    }

    // int: 0 | [1-9][0-9]*
    const qsizetype intStart = i;
    while (i < size && isAsciiDigit(text[i]))
        ++i;
    const QStringView intPart = text.mid(intStart, i - intStart);
    if (intPart.isEmpty()) {
        if (i == size)
            return invalid(QStringLiteral("it contains no digits"));
        if (text[i] == u'.')
            return invalid(QStringLiteral("a digit is required before the decimal point"));
        return unexpected(i);
    }
    if (intPart.size() > 1 && intPart.front() == u'0')
        return invalid(QStringLiteral("leading zeros are not allowed"));

    // frac: . [0-9]+
    QStringView fracPart;
    if (i < size && text[i] == u'.') {
        const qsizetype fracStart = ++i;
        while (i < size && isAsciiDigit(text[i]))
            ++i;
        fracPart = text.mid(fracStart, i - fracStart);
        if (fracPart.isEmpty())
            return invalid(QStringLiteral("a digit is required after the decimal point"));
    }

    // exp: (e|E) [+|-] [0-9]+, its value saturated far beyond anything that can fit
    constexpr qint64 kExponentCap = Q_INT64_C(1000000000000000);
    qint64 exponent = 0;
    if (i < size && (text[i] == u'e' || text[i] == u'E')) {
        ++i;
        bool negativeExponent = false;
        if (i < size && (text[i] == u'+' || text[i] == u'-'))
            negativeExponent = text[i++] == u'-';
        const qsizetype expStart = i;
        for (; i < size && isAsciiDigit(text[i]); ++i) {
            if (exponent < kExponentCap)
                exponent = exponent * 10 + (text[i].unicode() - u'0');
        }
        if (i == expStart)
            return invalid(QStringLiteral("the exponent has no digits"));
        if (negativeExponent)
            exponent = -exponent;
    }
    if (i < size) {
        if (text[i] == u'.')
            return invalid(QStringLiteral("a decimal point is allowed only once, before the "
                                          "exponent"));
        return unexpected(i);
    }

    // value = digits x 10^power, digits without leading zeros
    QString digits = intPart.toString() + fracPart.toString();
    qsizetype first = 0;
    while (first < digits.size() && digits[first] == u'0')
        ++first;
    digits.remove(0, first);
    const qint64 power = exponent - fracPart.size();
    int scale = int(qBound(qint64(0), -power, qint64(kMaxScale)));
    if (digits.isEmpty())
        return Decimal(0, scale);

    const qint64 shift = power + scale; // the coefficient at `scale` is digits x 10^shift
    const auto tooLarge = [&]() {
        return invalid(QStringLiteral("it has more than %1 digits before the decimal point")
                               .arg(kMaxDigits));
    };
    if (shift > kMaxDigits) // scale is 0 here: an integer far beyond 38 digits
        return tooLarge();
    QString coefficient = shift >= 0 ? digits + QString(qsizetype(shift), u'0')
                                     : roundOffDigits(digits, -shift);
    // Written trailing zeros give way before the value is refused.
    while (coefficient.size() > kMaxDigits && scale > 0 && coefficient.back() == u'0') {
        coefficient.chop(1);
        --scale;
    }
    if (coefficient.size() > kMaxDigits) {
        if (coefficient.size() - scale > kMaxDigits)
            return tooLarge();
        return invalid(QStringLiteral("it needs more than %1 digits with its decimals (at most "
                                      "%2 kept)")
                               .arg(kMaxDigits)
                               .arg(kMaxScale));
    }
    U128 mag = 0;
    for (const QChar c : std::as_const(coefficient))
        mag = mag * 10 + U128(c.unicode() - u'0');
    const I128 v = I128(mag);
    return Decimal(negative ? -v : v, scale);
}

QString Decimal::toString() const
{
    QString s = digitsOf(Detail::magnitude(*this));
    if (m_scale > 0) {
        if (s.size() <= m_scale)
            s.prepend(QString(m_scale + 1 - s.size(), u'0'));
        s.insert(s.size() - m_scale, u'.');
    }
    if (m_coeff < 0)
        s.prepend(u'-');
    return s;
}

QString Decimal::toString(int scale) const
{
    scale = qBound(0, scale, kMaxScale);
    if (scale <= m_scale)
        return round(scale).toString();
    QString s = toString();
    if (m_scale == 0)
        s.append(u'.');
    s.append(QString(scale - m_scale, u'0'));
    return s;
}

QString Decimal::toStringTrimmed() const
{
    QString s = toString();
    if (m_scale == 0)
        return s;
    qsizetype end = s.size();
    while (s[end - 1] == u'0')
        --end;
    if (s[end - 1] == u'.')
        --end;
    s.truncate(end);
    return s;
}

Decimal Decimal::negated() const noexcept
{
    return Decimal(-m_coeff, m_scale);
}

Decimal Decimal::abs() const noexcept
{
    return m_coeff < 0 ? negated() : *this;
}

Decimal Decimal::round(int scale) const noexcept
{
    scale = qBound(0, scale, kMaxScale);
    if (scale >= m_scale)
        return *this;
    const U256 q = divRoundHalfEven(U256::from(Detail::magnitude(*this)), pow10(m_scale - scale));
    // Dividing by at least 10 keeps the magnitude well below 10^38.
    return *Detail::make(m_coeff < 0, q, scale);
}

std::optional<Decimal> Decimal::withScale(int scale) const
{
    if (scale < 0 || scale > kMaxScale)
        return std::nullopt;
    if (scale <= m_scale)
        return round(scale);
    return Detail::make(m_coeff < 0, Detail::scaledMagnitude(*this, scale), scale);
}

std::optional<Decimal> Decimal::add(const Decimal &other) const
{
    return Detail::addSigned(*this, other, false);
}

std::optional<Decimal> Decimal::sub(const Decimal &other) const
{
    return Detail::addSigned(*this, other, true);
}

std::optional<Decimal> Decimal::mul(const Decimal &other) const
{
    const bool negative = (m_coeff < 0) != (other.m_coeff < 0);
    const U256 product =
            mulU(U256::from(Detail::magnitude(*this)), U256::from(Detail::magnitude(other)));
    const int exactScale = m_scale + other.m_scale; // 0..36
    // Round once from the exact product to the largest scale <= 18 whose coefficient fits.
    for (int scale = qMin(exactScale, kMaxScale); scale >= 0; --scale) {
        const int drop = exactScale - scale;
        const U256 q = drop == 0 ? product : divRoundHalfEven(product, pow10(drop));
        if (auto result = Detail::make(negative, q, scale))
            return result;
    }
    return std::nullopt;
}

std::optional<Decimal> Decimal::mul(const Decimal &other, int scale) const
{
    if (scale < 0 || scale > kMaxScale)
        return std::nullopt;
    const bool negative = (m_coeff < 0) != (other.m_coeff < 0);
    const U256 product =
            mulU(U256::from(Detail::magnitude(*this)), U256::from(Detail::magnitude(other)));
    const std::optional<U256> q =
            scaledQuotient(product, U256::from(1), scale - (m_scale + other.m_scale));
    if (!q)
        return std::nullopt;
    return Detail::make(negative, *q, scale);
}

std::optional<Decimal> Decimal::mulDiv(const Decimal &a, const Decimal &b, const Decimal &c,
                                       int scale)
{
    if (scale < 0 || scale > kMaxScale || c.m_coeff == 0)
        return std::nullopt;
    // coefficient = round(|a||b| x 10^(scale + sc - sa - sb) / |c|), from the exact product
    const bool negative = ((a.m_coeff < 0) != (b.m_coeff < 0)) != (c.m_coeff < 0);
    const U256 product =
            mulU(U256::from(Detail::magnitude(a)), U256::from(Detail::magnitude(b)));
    const std::optional<U256> q = scaledQuotient(product, U256::from(Detail::magnitude(c)),
                                                 scale + c.m_scale - a.m_scale - b.m_scale);
    if (!q)
        return std::nullopt;
    return Detail::make(negative, *q, scale);
}

std::optional<Decimal> Decimal::div(const Decimal &divisor, int scale) const
{
    if (scale < 0 || scale > kMaxScale || divisor.m_coeff == 0)
        return std::nullopt;
    // quotient coefficient = round(a * 10^(scale + sb - sa) / b)
    const int shift = scale + divisor.m_scale - m_scale; // -36..36
    U256 numerator = U256::from(Detail::magnitude(*this));
    U256 denominator = U256::from(Detail::magnitude(divisor));
    if (shift >= 0)
        numerator = mulU(numerator, pow10(shift));
    else
        denominator = mulU(denominator, pow10(-shift));
    const bool negative = (m_coeff < 0) != (divisor.m_coeff < 0);
    return Detail::make(negative, divRoundHalfEven(numerator, denominator), scale);
}

int Decimal::compare(const Decimal &a, const Decimal &b) noexcept
{
    const int sa = a.signum();
    const int sb = b.signum();
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    // Same sign: compare magnitudes as (integer part, fraction scaled to 18 digits).
    const U128 ma = Detail::magnitude(a);
    const U128 mb = Detail::magnitude(b);
    const U128 pa = pow10u128(a.m_scale);
    const U128 pb = pow10u128(b.m_scale);
    const U128 ia = ma / pa;
    const U128 ib = mb / pb;
    int c = 0;
    if (ia != ib) {
        c = ia < ib ? -1 : 1;
    } else {
        const U128 fa = (ma % pa) * pow10u128(kMaxScale - a.m_scale);
        const U128 fb = (mb % pb) * pow10u128(kMaxScale - b.m_scale);
        c = fa == fb ? 0 : (fa < fb ? -1 : 1);
    }
    return sa < 0 ? -c : c;
}

size_t qHash(const Decimal &value, size_t seed) noexcept
{
    // Hash the normalized form (trailing fractional zeros removed) so 1.50 and 1.5 agree.
    I128 coeff = value.m_coeff;
    int scale = value.m_scale;
    if (coeff == 0)
        scale = 0;
    while (scale > 0 && coeff % 10 == 0) {
        coeff /= 10;
        --scale;
    }
    const U128 bits = U128(coeff);
    return qHashMulti(seed, quint64(bits), quint64(bits >> 64), scale);
}

} // namespace yieldhost
