// Decimal.h — exact fixed-point decimal numbers for money and quantities.
//
// A Decimal is a signed coefficient of at most 38 decimal digits plus a scale of 0..18 digits
// after the point (value = coefficient / 10^scale). Every operation is either exact or rounds
// half-to-even at a scale you can see; nothing goes through binary floating point, and there is
// deliberately no conversion from or to double. Operations that can overflow return
// std::nullopt instead of a wrong value.
//
// Text is the interchange format. fromString() accepts exactly [+|-]digits[.digits]: no
// exponent, no whitespace, no NaN/Infinity, and no ".5" or "5." (a digit is required on both
// sides of the point). toString() prints the value with its own scale ("1.50" stays "1.50").
// For PostgreSQL, bind a Decimal as its toString() text and read NUMERIC columns back as text
// through fromString(); nothing else is needed. In a client's JSON body money must be a string
// ("12.50"): fromJson() refuses JSON numbers, which QJsonDocument has already turned into
// doubles. fromJsonNumber() is for the raw number text of trusted providers ("1.05e-05").
//
// When a result has to be rounded to a scale you choose (amount x rate to 8 decimals, yield
// P x apy x days / 365 to the asset's decimals), use mul(…, scale) and mulDiv(…, scale): they
// round once, from the exact product or quotient. Rounding an already rounded result again
// (mul() then withScale()) can be off by one unit at the last place.
//
// Example (snippet "decimal", compiled in sdk/examples/snippets):
//     using yieldhost::Decimal;
//     const std::optional<Decimal> price = Decimal::fromString(u"19.99");  // scale 2
//     const std::optional<Decimal> total = price->mul(Decimal::fromInt(3)); // 59.97
//     const std::optional<Decimal> each = total->div(Decimal::fromInt(7), 2); // 8.57, half-even
//     const std::optional<Decimal> rate = Decimal::fromString(u"0.000000014999999999"); // scale 18
//     const std::optional<Decimal> fee = price->mul(*rate, 8);               // 0.00000030, once
//     // 30 days of 5 % a year on 1000.00, to the cent: round(1000.00 x 0.05 x 30 / 365, 2)
//     const std::optional<Decimal> yield = Decimal::mulDiv(*Decimal::fromString(u"1000.00"),
//                                                          *Decimal::fromString(u"1.50"), // 0.05 x 30
//                                                          Decimal::fromInt(365), 2); // 4.11
//     if (each && fee && yield)
//         qInfo() << each->toString() << fee->toString() << yield->toString();
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/qstring.h>
#include <QtCore/qstringview.h>

#include <compare>
#include <cstddef>
#include <optional>

class QJsonValue;

namespace yieldhost {

class YIELDHOST_SDK_EXPORT Decimal
{
public:
    static constexpr int MaxScale = 18; // most digits after the point
    static constexpr int MaxDigits = 38; // most digits in the coefficient

    // Zero with scale 0.
    constexpr Decimal() noexcept = default;

    static Decimal fromInt(qint64 value) noexcept;

    // Parses [+|-]digits[.digits] with at most 18 digits after the point and at most 38
    // significant digits. Leading zeros ("007") are fine; "-0" is zero. On failure returns
    // nullopt and, if error is given, an English sentence saying what is wrong.
    static std::optional<Decimal> fromString(QStringView text, QString *error = nullptr);

    // A money field of a client's JSON body (SDK 1.1). Accepts only a JSON string in
    // fromString()'s grammar; a JSON number is refused, because QJsonDocument has already
    // turned it into a double (0.1 is not 0.1 there). On failure the error completes the field's
    // name, like the other field errors of a 422 reply: "must be a string holding a decimal
    // number, such as "12.50" (JSON numbers are not accepted for money)".
    static std::optional<Decimal> fromJson(const QJsonValue &value, QString *error = nullptr);

    // The text of a JSON number from a TRUSTED provider (SDK 1.1): RFC 8259's grammar
    // -?(0|[1-9]digits)[.digits][(e|E)[+|-]digits], so exponents ("1.05e-05", "6.7E+4") are
    // read, while "+1", "01", ".5", "1.", "1e", whitespace, NaN and Infinity are not. The result
    // is the exact value with the number of decimals the text has (the exponent counted: "1.05e-05"
    // has scale 7, "6.7E+4" scale 0), except in two cases. More than 18 decimals are rounded
    // half-even to 18: this is the only rounding, and it is below 1e-18 ("1e-19" becomes
    // 0.000000000000000000). Written trailing zeros are dropped when the value would otherwise
    // need more than 38 digits. nullopt, with an English sentence in error, for text that is not
    // a JSON number or a value that needs more than 38 digits (before the point and up to 18
    // after it). Never use it for client input: a client's money is a string (fromJson()).
    static std::optional<Decimal> fromJsonNumber(QStringView text, QString *error = nullptr);

    // The value with its own scale: "-1.50", "0.000", "42". Zero never prints a minus sign.
    QString toString() const;
    // Exactly `scale` decimals (clamped to 0..18): rounds half-even or pads with zeros.
    QString toString(int scale) const;
    // Trailing fractional zeros removed: "1.500" -> "1.5", "2.000" -> "2".
    QString toStringTrimmed() const;

    int scale() const noexcept { return m_scale; }
    bool isZero() const noexcept { return m_coeff == 0; }
    bool isNegative() const noexcept { return m_coeff < 0; }
    int signum() const noexcept { return m_coeff < 0 ? -1 : (m_coeff > 0 ? 1 : 0); }

    // Never overflow: the coefficient range is symmetric.
    Decimal negated() const noexcept;
    Decimal abs() const noexcept;

    // Rounds half-even to `scale` decimals (clamped to 0..18). A value that already has at
    // most `scale` decimals is returned unchanged (its scale is not raised).
    Decimal round(int scale) const noexcept;
    // Exactly `scale` decimals: rounds half-even or pads with zeros. nullopt if `scale` is
    // outside 0..18 or padding would need more than 38 digits.
    std::optional<Decimal> withScale(int scale) const;

    // Exact; the result has the larger of the two scales. nullopt if it needs more than 38
    // digits at that scale.
    std::optional<Decimal> add(const Decimal &other) const;
    std::optional<Decimal> sub(const Decimal &other) const;
    // Exact product with scale a.scale + b.scale when that is at most 18 and fits 38 digits;
    // otherwise rounded half-even (once, from the exact product) to the largest scale <= 18
    // that fits. nullopt only if the rounded integer part alone needs more than 38 digits.
    std::optional<Decimal> mul(const Decimal &other) const;
    // The exact product rounded half-even once to exactly `scale` decimals (SDK 1.1), e.g.
    // an amount at scale 8 times a rate at scale 18 to 8 decimals. nullopt if `scale` is
    // outside 0..18 or the result needs more than 38 digits.
    std::optional<Decimal> mul(const Decimal &other, int scale) const;
    // a x b / c rounded half-even once to exactly `scale` decimals, from the exact quotient of
    // the exact (up to 76-digit) product (SDK 1.1). This is how yield is computed:
    // mulDiv(principal, apy x days, 365, decimals). nullopt if c is zero, `scale` is outside
    // 0..18 or the result needs more than 38 digits.
    static std::optional<Decimal> mulDiv(const Decimal &a, const Decimal &b, const Decimal &c,
                                         int scale);
    // Quotient rounded half-even to exactly `scale` decimals (0..18). nullopt on division by
    // zero, a scale outside 0..18, or a quotient that needs more than 38 digits.
    std::optional<Decimal> div(const Decimal &divisor, int scale) const;

    friend Decimal operator-(const Decimal &value) noexcept { return value.negated(); }

    // Values are compared, not representations: 1.50 == 1.5.
    friend bool operator==(const Decimal &a, const Decimal &b) noexcept
    {
        return compare(a, b) == 0;
    }
    friend std::strong_ordering operator<=>(const Decimal &a, const Decimal &b) noexcept
    {
        return compare(a, b) <=> 0;
    }

private:
    __extension__ typedef __int128 Int128;
    struct Detail;

    constexpr Decimal(Int128 coeff, int scale) noexcept : m_coeff(coeff), m_scale(scale) { }
    static int compare(const Decimal &a, const Decimal &b) noexcept;
    friend YIELDHOST_SDK_EXPORT size_t qHash(const Decimal &value, size_t seed) noexcept;

    Int128 m_coeff = 0; // |m_coeff| < 10^38
    int m_scale = 0; // 0..18
};

// Consistent with operator==: equal values hash equally whatever their scale.
YIELDHOST_SDK_EXPORT size_t qHash(const Decimal &value, size_t seed = 0) noexcept;

} // namespace yieldhost

Q_DECLARE_TYPEINFO(yieldhost::Decimal, Q_RELOCATABLE_TYPE);
