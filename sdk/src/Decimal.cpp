// Decimal.cpp — exact fixed-point arithmetic for yieldhost::Decimal.
//
// Values are kept as a signed 128-bit coefficient below 10^38 and a scale of 0..18. Intermediate
// results (aligned sums, full products, scaled dividends) can need up to 76 digits, so they are
// computed on unsigned 256-bit magnitudes (four 64-bit limbs) with the sign kept separately, and
// rounded half-even exactly once, from the exact intermediate.

#include "yieldhost/Decimal.h"

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
    const auto fail = [&](const QString &reason) -> std::optional<Decimal> {
        if (error)
            *error = reason;
        return std::nullopt;
    };
    const auto invalid = [&](const QString &why) {
        return fail(QStringLiteral("%1 is not a valid decimal number: %2.").arg(quoted(text), why));
    };

    if (text.isEmpty())
        return fail(QStringLiteral("The text is empty; expected a decimal number such as "
                                   "\"-12.34\"."));

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
        if (c >= u'0' && c <= u'9') {
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
