// tst_decimal.cpp — specification of yieldhost::Decimal, the SDK's exact decimal type for money.
//
// Each test function states one behaviour; the tables hold the cases. Covered: parsing and
// printing (strict client text, JSON numbers of trusted providers, money fields of a client's
// JSON body), sign and negation, add/sub/mul/div, mul(…, scale) and mulDiv rounding once from
// the exact (up to 256-bit) intermediate, rounding, comparison and hashing. The last two tests
// check a few thousand random operations against Python's decimal module (python3 is a declared
// test dependency; the tests fail, rather than skip, without it).

#include "yieldhost/Decimal.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSet>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryFile>
#include <QtCore/QTextStream>
#include <QtTest/QTest>

#include <iterator>
#include <limits>

using namespace Qt::Literals::StringLiterals;
using yieldhost::Decimal;

namespace {

const QString k38Nines = u"99999999999999999999999999999999999999"_s;

QString show(const std::optional<Decimal> &value)
{
    return value ? value->toString() : u"none"_s;
}

} // namespace

class TestDecimal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultConstructedIsZero();

    void parsesAndPrintsRoundTrip_data();
    void parsesAndPrintsRoundTrip();
    void refusesMalformedInput_data();
    void refusesMalformedInput();
    void printsAtRequestedScaleRoundingHalfEven_data();
    void printsAtRequestedScaleRoundingHalfEven();
    void printsTrimmedWithoutTrailingZeros_data();
    void printsTrimmedWithoutTrailingZeros();
    void reportsSignAndZero_data();
    void reportsSignAndZero();
    void fromIntCoversFullRange_data();
    void fromIntCoversFullRange();
    void negationAndAbsAreExact_data();
    void negationAndAbsAreExact();

    void jsonNumberTextIsReadExactly_data();
    void jsonNumberTextIsReadExactly();
    void jsonNumberTextRoundsHalfEvenOnlyBeyond18Decimals_data();
    void jsonNumberTextRoundsHalfEvenOnlyBeyond18Decimals();
    void jsonNumberTextOutsideRfc8259IsRefused_data();
    void jsonNumberTextOutsideRfc8259IsRefused();
    void clientTextStaysStrictWhereJsonNumbersAreLenient_data();
    void clientTextStaysStrictWhereJsonNumbersAreLenient();
    void moneyInJsonBodyIsReadFromStrings_data();
    void moneyInJsonBodyIsReadFromStrings();
    void moneyInJsonBodyRefusesOtherTypes_data();
    void moneyInJsonBodyRefusesOtherTypes();

    void addsAndSubtractsExactlyAtLargerScale_data();
    void addsAndSubtractsExactlyAtLargerScale();
    void multiplicationIsExactUpTo38Digits_data();
    void multiplicationIsExactUpTo38Digits();
    void multiplicationRoundsHalfEvenBeyondScale18_data();
    void multiplicationRoundsHalfEvenBeyondScale18();
    void multiplicationReducesScaleToFit38Digits_data();
    void multiplicationReducesScaleToFit38Digits();
    void divisionRoundsHalfEven_data();
    void divisionRoundsHalfEven();
    void divisionByZeroIsRefused_data();
    void divisionByZeroIsRefused();
    void divisionRefusesScaleOutsideRange();
    void overflowIsRefused_data();
    void overflowIsRefused();

    void scaledMultiplicationRoundsOnceHalfEven_data();
    void scaledMultiplicationRoundsOnceHalfEven();
    void scaledMultiplicationAvoidsDoubleRounding();
    void mulDivRoundsOnceHalfEven_data();
    void mulDivRoundsOnceHalfEven();
    void mulDivIsExactForHugeEthPrincipals();
    void mulDivAndScaledMultiplicationRefuse_data();
    void mulDivAndScaledMultiplicationRefuse();

    void roundingIsHalfEvenAndNeverRaisesScale_data();
    void roundingIsHalfEvenAndNeverRaisesScale();
    void withScaleRoundsOrPads_data();
    void withScaleRoundsOrPads();

    void comparesAcrossScales_data();
    void comparesAcrossScales();
    void equalValuesHashEqually();

    void matchesPythonDecimalReference();
    void scaledProductsAndMulDivMatchPythonDecimalReference();
};

void TestDecimal::defaultConstructedIsZero()
{
    const Decimal zero;
    QVERIFY(zero.isZero());
    QCOMPARE(zero.scale(), 0);
    QCOMPARE(zero.toString(), u"0"_s);
    QVERIFY(zero == Decimal::fromInt(0));
}

void TestDecimal::parsesAndPrintsRoundTrip_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("printed");
    QTest::addColumn<int>("scale");

    QTest::newRow("zero") << u"0"_s << u"0"_s << 0;
    QTest::newRow("one") << u"1"_s << u"1"_s << 0;
    QTest::newRow("minus one") << u"-1"_s << u"-1"_s << 0;
    QTest::newRow("explicit plus") << u"+1.5"_s << u"1.5"_s << 1;
    QTest::newRow("trailing zero kept") << u"1.50"_s << u"1.50"_s << 2;
    QTest::newRow("leading zeros dropped") << u"007"_s << u"7"_s << 0;
    QTest::newRow("negative with leading zeros") << u"-007.10"_s << u"-7.10"_s << 2;
    QTest::newRow("negative zero") << u"-0"_s << u"0"_s << 0;
    QTest::newRow("negative zero with scale") << u"-0.00"_s << u"0.00"_s << 2;
    QTest::newRow("smallest unit") << u"0.000000000000000001"_s << u"0.000000000000000001"_s
                                   << 18;
    QTest::newRow("18 decimals") << u"0.100000000000000000"_s << u"0.100000000000000000"_s << 18;
    QTest::newRow("ordinary") << u"12345.678"_s << u"12345.678"_s << 3;
    QTest::newRow("38 digits with scale 8")
            << u"123456789012345678901234567890.12345678"_s
            << u"123456789012345678901234567890.12345678"_s << 8;
    QTest::newRow("38 nines") << k38Nines << k38Nines << 0;
    QTest::newRow("38 digits with scale 18")
            << u"-99999999999999999999.999999999999999999"_s
            << u"-99999999999999999999.999999999999999999"_s << 18;
    QTest::newRow("leading zeros are not significant")
            << u"00000000000000000000000000000000000000000001.5"_s << u"1.5"_s << 1;
    QTest::newRow("fraction zeros after point are kept") << u"0.000"_s << u"0.000"_s << 3;
}

void TestDecimal::parsesAndPrintsRoundTrip()
{
    QFETCH(QString, input);
    QFETCH(QString, printed);
    QFETCH(int, scale);

    QString error;
    const std::optional<Decimal> value = Decimal::fromString(input, &error);
    QVERIFY2(value, qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(value->toString(), printed);
    QCOMPARE(value->scale(), scale);
    // Printing and parsing again gives the same value and scale.
    const std::optional<Decimal> again = Decimal::fromString(value->toString());
    QVERIFY(again);
    QCOMPARE(again->toString(), printed);
    QCOMPARE(again->scale(), scale);
}

void TestDecimal::refusesMalformedInput_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("reason"); // a fragment the error sentence must contain

    QTest::newRow("empty") << QString() << u"empty"_s;
    QTest::newRow("letters") << u"abc"_s << u"unexpected character 'a' at position 1"_s;
    QTest::newRow("exponent") << u"1e3"_s << u"exponent"_s;
    QTest::newRow("negative exponent") << u"1.5E-3"_s << u"exponent"_s;
    QTest::newRow("double minus") << u"--1"_s << u"sign"_s;
    QTest::newRow("plus minus") << u"+-1"_s << u"sign"_s;
    QTest::newRow("trailing minus") << u"1-"_s << u"sign"_s;
    QTest::newRow("two points") << u"1.2.3"_s << u"more than one decimal point"_s;
    QTest::newRow("leading space") << u" 1"_s << u"whitespace"_s;
    QTest::newRow("trailing space") << u"1 "_s << u"whitespace"_s;
    QTest::newRow("inner space") << u"1 000"_s << u"whitespace"_s;
    QTest::newRow("tab") << u"\t1"_s << u"whitespace"_s;
    QTest::newRow("newline") << u"1\n"_s << u"whitespace"_s;
    QTest::newRow("no integer digit") << u".5"_s << u"before the decimal point"_s;
    QTest::newRow("negative no integer digit") << u"-.5"_s << u"before the decimal point"_s;
    QTest::newRow("no fraction digit") << u"5."_s << u"after the decimal point"_s;
    QTest::newRow("lone point") << u"."_s << u"before the decimal point"_s;
    QTest::newRow("lone minus") << u"-"_s << u"no digits"_s;
    QTest::newRow("lone plus") << u"+"_s << u"no digits"_s;
    QTest::newRow("NaN") << u"NaN"_s << u"NaN and Infinity"_s;
    QTest::newRow("nan lower case") << u"nan"_s << u"NaN and Infinity"_s;
    QTest::newRow("Infinity") << u"Infinity"_s << u"NaN and Infinity"_s;
    QTest::newRow("negative infinity") << u"-Infinity"_s << u"NaN and Infinity"_s;
    QTest::newRow("inf") << u"inf"_s << u"NaN and Infinity"_s;
    QTest::newRow("comma") << u"1,5"_s << u"unexpected character ','"_s;
    QTest::newRow("hex") << u"0x10"_s << u"unexpected character 'x'"_s;
    QTest::newRow("underscore") << u"1_000"_s << u"unexpected character '_'"_s;
    QTest::newRow("non-ASCII digits") << u"\u0661\u0662"_s << u"unexpected character"_s;
    QTest::newRow("19 decimals") << u"0.0000000000000000001"_s
                                 << u"more than 18 digits after the decimal point"_s;
    QTest::newRow("19 decimals, all zero")
            << u"1.0000000000000000000"_s << u"more than 18 digits after the decimal point"_s;
    QTest::newRow("39 digits") << u"100000000000000000000000000000000000000"_s
                               << u"more than 38 significant digits"_s;
    QTest::newRow("41 digits with fraction") << u"12345678901234567890123.123456789012345678"_s
                                             << u"more than 38 significant digits"_s;
}

void TestDecimal::refusesMalformedInput()
{
    QFETCH(QString, input);
    QFETCH(QString, reason);

    QString error;
    const std::optional<Decimal> value = Decimal::fromString(input, &error);
    QVERIFY2(!value, qPrintable(u"accepted as "_s + show(value)));
    QVERIFY2(error.contains(reason), qPrintable(error));
    // The error is an English sentence: capitalised or quoting the input, ending with a period.
    QVERIFY2(error.front().isUpper() || error.startsWith(u'"'), qPrintable(error));
    QVERIFY2(error.endsWith(u'.'), qPrintable(error));
    // Passing no error pointer is allowed.
    QVERIFY(!Decimal::fromString(input));
}

void TestDecimal::printsAtRequestedScaleRoundingHalfEven_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("printed");

    QTest::newRow("2.5 to even 2") << u"2.5"_s << 0 << u"2"_s;
    QTest::newRow("3.5 to even 4") << u"3.5"_s << 0 << u"4"_s;
    QTest::newRow("-2.5 to even -2") << u"-2.5"_s << 0 << u"-2"_s;
    QTest::newRow("-3.5 to even -4") << u"-3.5"_s << 0 << u"-4"_s;
    QTest::newRow("0.5 to even 0") << u"0.5"_s << 0 << u"0"_s;
    QTest::newRow("1.005 tie down") << u"1.005"_s << 2 << u"1.00"_s;
    QTest::newRow("1.015 tie up") << u"1.015"_s << 2 << u"1.02"_s;
    QTest::newRow("above tie") << u"1.0051"_s << 2 << u"1.01"_s;
    QTest::newRow("no negative zero") << u"-0.004"_s << 2 << u"0.00"_s;
    QTest::newRow("negative tie to zero") << u"-0.005"_s << 2 << u"0.00"_s;
    QTest::newRow("negative tie away") << u"-0.015"_s << 2 << u"-0.02"_s;
    QTest::newRow("carry into integer") << u"9.99"_s << 1 << u"10.0"_s;
    QTest::newRow("pads decimals") << u"1.5"_s << 3 << u"1.500"_s;
    QTest::newRow("pads integer") << u"7"_s << 2 << u"7.00"_s;
    QTest::newRow("pads beyond 38 digits") << k38Nines << 2 << k38Nines + u".00"_s;
    QTest::newRow("negative scale clamps to 0") << u"1.23"_s << -1 << u"1"_s;
    QTest::newRow("scale above 18 clamps") << u"1.23"_s << 25 << u"1.230000000000000000"_s;
}

void TestDecimal::printsAtRequestedScaleRoundingHalfEven()
{
    QFETCH(QString, value);
    QFETCH(int, scale);
    QFETCH(QString, printed);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    QCOMPARE(d->toString(scale), printed);
}

void TestDecimal::printsTrimmedWithoutTrailingZeros_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("trimmed");

    QTest::newRow("1.500") << u"1.500"_s << u"1.5"_s;
    QTest::newRow("2.000") << u"2.000"_s << u"2"_s;
    QTest::newRow("-2.000") << u"-2.000"_s << u"-2"_s;
    QTest::newRow("integer zeros kept") << u"100"_s << u"100"_s;
    QTest::newRow("integer zeros kept with fraction") << u"120.0"_s << u"120"_s;
    QTest::newRow("zero") << u"0.000"_s << u"0"_s;
    QTest::newRow("negative zero") << u"-0.0"_s << u"0"_s;
    QTest::newRow("inner zero kept") << u"10.10"_s << u"10.1"_s;
    QTest::newRow("nothing to trim") << u"0.000000000000000001"_s << u"0.000000000000000001"_s;
}

void TestDecimal::printsTrimmedWithoutTrailingZeros()
{
    QFETCH(QString, value);
    QFETCH(QString, trimmed);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    QCOMPARE(d->toStringTrimmed(), trimmed);
}

void TestDecimal::reportsSignAndZero_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("signum");
    QTest::addColumn<bool>("zero");
    QTest::addColumn<bool>("negative");

    QTest::newRow("zero") << u"0"_s << 0 << true << false;
    QTest::newRow("negative zero") << u"-0.00"_s << 0 << true << false;
    QTest::newRow("small positive") << u"0.01"_s << 1 << false << false;
    QTest::newRow("small negative") << u"-0.01"_s << -1 << false << true;
    QTest::newRow("positive") << u"5"_s << 1 << false << false;
    QTest::newRow("most negative") << u"-"_s + k38Nines << -1 << false << true;
}

void TestDecimal::reportsSignAndZero()
{
    QFETCH(QString, value);
    QFETCH(int, signum);
    QFETCH(bool, zero);
    QFETCH(bool, negative);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    QCOMPARE(d->signum(), signum);
    QCOMPARE(d->isZero(), zero);
    QCOMPARE(d->isNegative(), negative);
}

void TestDecimal::fromIntCoversFullRange_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<QString>("printed");

    QTest::newRow("zero") << qint64(0) << u"0"_s;
    QTest::newRow("one") << qint64(1) << u"1"_s;
    QTest::newRow("minus one") << qint64(-1) << u"-1"_s;
    QTest::newRow("max") << std::numeric_limits<qint64>::max() << u"9223372036854775807"_s;
    QTest::newRow("min") << std::numeric_limits<qint64>::min() << u"-9223372036854775808"_s;
}

void TestDecimal::fromIntCoversFullRange()
{
    QFETCH(qint64, value);
    QFETCH(QString, printed);

    const Decimal d = Decimal::fromInt(value);
    QCOMPARE(d.toString(), printed);
    QCOMPARE(d.scale(), 0);
}

void TestDecimal::negationAndAbsAreExact_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("negated");
    QTest::addColumn<QString>("absolute");

    QTest::newRow("zero stays unsigned") << u"0.0"_s << u"0.0"_s << u"0.0"_s;
    QTest::newRow("positive") << u"1.50"_s << u"-1.50"_s << u"1.50"_s;
    QTest::newRow("negative") << u"-2"_s << u"2"_s << u"2"_s;
    QTest::newRow("most negative") << u"-"_s + k38Nines << k38Nines << k38Nines;
}

void TestDecimal::negationAndAbsAreExact()
{
    QFETCH(QString, value);
    QFETCH(QString, negated);
    QFETCH(QString, absolute);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    QCOMPARE(d->negated().toString(), negated);
    QCOMPARE((-*d).toString(), negated);
    QCOMPARE(d->abs().toString(), absolute);
}

void TestDecimal::jsonNumberTextIsReadExactly_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("printed");
    QTest::addColumn<int>("scale");

    QTest::newRow("CoinGecko small price") << u"1.05e-05"_s << u"0.0000105"_s << 7;
    QTest::newRow("upper-case exponent") << u"1.05E-05"_s << u"0.0000105"_s << 7;
    QTest::newRow("positive exponent with sign") << u"6.7E+4"_s << u"67000"_s << 0;
    QTest::newRow("1E+2") << u"1E+2"_s << u"100"_s << 0;
    QTest::newRow("1e2") << u"1e2"_s << u"100"_s << 0;
    QTest::newRow("1e+0") << u"1e+0"_s << u"1"_s << 0;
    QTest::newRow("exponent keeps written decimals") << u"1.000e2"_s << u"100.0"_s << 1;
    QTest::newRow("exponent moves the point left") << u"12.5e-1"_s << u"1.25"_s << 2;
    QTest::newRow("zero") << u"0"_s << u"0"_s << 0;
    QTest::newRow("0e0") << u"0e0"_s << u"0"_s << 0;
    QTest::newRow("-0") << u"-0"_s << u"0"_s << 0;
    QTest::newRow("-0.0") << u"-0.0"_s << u"0.0"_s << 1;
    QTest::newRow("zero with a huge exponent") << u"0e999999999999999999999"_s << u"0"_s << 0;
    QTest::newRow("zero with a tiny exponent") << u"0e-400"_s << u"0.000000000000000000"_s
                                               << 18;
    QTest::newRow("fraction") << u"0.5"_s << u"0.5"_s << 1;
    QTest::newRow("negative with trailing zero") << u"-12.50"_s << u"-12.50"_s << 2;
    QTest::newRow("smallest unit") << u"1e-18"_s << u"0.000000000000000001"_s << 18;
    QTest::newRow("huge value") << u"123456789012345678901234.5"_s
                                << u"123456789012345678901234.5"_s << 1;
    QTest::newRow("38 digits") << k38Nines << k38Nines << 0;
    QTest::newRow("38 digits by exponent") << u"9.9999999999999999999999999999999999999e37"_s
                                           << k38Nines << 0;
    QTest::newRow("10^37") << u"1e37"_s << u"1"_s + QString(37, u'0') << 0;
    QTest::newRow("38 digits at scale 18") << u"-99999999999999999999.999999999999999999"_s
                                           << u"-99999999999999999999.999999999999999999"_s
                                           << 18;
    // 23 + 18 digits: the written zeros give way so the value fits 38 digits, still exact.
    QTest::newRow("trailing zeros dropped to fit")
            << u"12345678901234567890123.100000000000000000"_s
            << u"12345678901234567890123.100000000000000"_s << 15;
}

void TestDecimal::jsonNumberTextIsReadExactly()
{
    QFETCH(QString, input);
    QFETCH(QString, printed);
    QFETCH(int, scale);

    QString error;
    const std::optional<Decimal> value = Decimal::fromJsonNumber(input, &error);
    QVERIFY2(value, qPrintable(error));
    QCOMPARE(value->toString(), printed);
    QCOMPARE(value->scale(), scale);
    // Exact: the value equals the plain decimal it prints as.
    QCOMPARE(*value, *Decimal::fromString(printed));
}

void TestDecimal::jsonNumberTextRoundsHalfEvenOnlyBeyond18Decimals_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("printed"); // always at scale 18

    QTest::newRow("0.1 unit to zero") << u"1e-19"_s << u"0.000000000000000000"_s;
    QTest::newRow("half unit to even zero") << u"5e-19"_s << u"0.000000000000000000"_s;
    QTest::newRow("1.5 units to 2") << u"15e-19"_s << u"0.000000000000000002"_s;
    QTest::newRow("2.5 units to 2") << u"25e-19"_s << u"0.000000000000000002"_s;
    QTest::newRow("3.5 units to 4") << u"0.0000000000000000035"_s << u"0.000000000000000004"_s;
    QTest::newRow("-2.5 units to -2") << u"-25e-19"_s << u"-0.000000000000000002"_s;
    QTest::newRow("-3.5 units to -4") << u"-35e-19"_s << u"-0.000000000000000004"_s;
    QTest::newRow("just above a tie rounds up")
            << u"0.0000000000000000025000000000000001"_s << u"0.000000000000000003"_s;
    QTest::newRow("just below a tie rounds down")
            << u"0.0000000000000000034999999999999999"_s << u"0.000000000000000003"_s;
    QTest::newRow("no negative zero") << u"-0.0000000000000000001"_s
                                      << u"0.000000000000000000"_s;
    QTest::newRow("carry into the integer part") << u"0.9999999999999999999"_s
                                                 << u"1.000000000000000000"_s;
    QTest::newRow("far below a unit") << u"1e-400"_s << u"0.000000000000000000"_s;
    QTest::newRow("exponent and fraction") << u"1.23456789012345678951e-1"_s
                                           << u"0.123456789012345679"_s;
    QTest::newRow("huge with many decimals")
            << u"12345678901234567890.1234567890123456785"_s
            << u"12345678901234567890.123456789012345678"_s;
}

void TestDecimal::jsonNumberTextRoundsHalfEvenOnlyBeyond18Decimals()
{
    QFETCH(QString, input);
    QFETCH(QString, printed);

    QString error;
    const std::optional<Decimal> value = Decimal::fromJsonNumber(input, &error);
    QVERIFY2(value, qPrintable(error));
    QCOMPARE(value->toString(), printed);
    QCOMPARE(value->scale(), Decimal::MaxScale);
}

void TestDecimal::jsonNumberTextOutsideRfc8259IsRefused_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("reason"); // a fragment the error sentence must contain

    QTest::newRow("empty") << QString() << u"empty"_s;
    QTest::newRow("exponent without digits") << u"1e"_s << u"exponent has no digits"_s;
    QTest::newRow("exponent sign without digits") << u"1e+"_s << u"exponent has no digits"_s;
    QTest::newRow("E- without digits") << u"2.5E-"_s << u"exponent has no digits"_s;
    QTest::newRow("no integer digit") << u".5"_s << u"before the decimal point"_s;
    QTest::newRow("negative no integer digit") << u"-.5"_s << u"before the decimal point"_s;
    QTest::newRow("no fraction digit") << u"5."_s << u"after the decimal point"_s;
    QTest::newRow("no fraction digit before exponent") << u"5.e3"_s
                                                       << u"after the decimal point"_s;
    // RFC 8259: int = zero / ( digit1-9 *DIGIT ), so a leading zero is not JSON.
    QTest::newRow("leading zero") << u"01"_s << u"leading zeros"_s;
    QTest::newRow("double zero") << u"00"_s << u"leading zeros"_s;
    QTest::newRow("negative leading zero") << u"-01.5"_s << u"leading zeros"_s;
    QTest::newRow("NaN") << u"NaN"_s << u"NaN and Infinity"_s;
    QTest::newRow("Infinity") << u"Infinity"_s << u"NaN and Infinity"_s;
    QTest::newRow("-Infinity") << u"-Infinity"_s << u"NaN and Infinity"_s;
    QTest::newRow("leading space") << u" 1"_s << u"whitespace"_s;
    QTest::newRow("trailing space") << u"1 "_s << u"whitespace"_s;
    QTest::newRow("trailing newline") << u"1.5\n"_s << u"whitespace"_s;
    QTest::newRow("plus sign") << u"+1"_s << u"leading '+'"_s;
    QTest::newRow("lone minus") << u"-"_s << u"no digits"_s;
    QTest::newRow("double minus") << u"--1"_s << u"unexpected character '-' at position 2"_s;
    QTest::newRow("letters") << u"abc"_s << u"unexpected character 'a' at position 1"_s;
    QTest::newRow("hex") << u"0x10"_s << u"unexpected character 'x' at position 2"_s;
    QTest::newRow("comma") << u"1,5"_s << u"unexpected character ','"_s;
    QTest::newRow("two exponents") << u"1e1e1"_s << u"unexpected character 'e' at position 4"_s;
    QTest::newRow("two points") << u"1.2.3"_s << u"decimal point is allowed only once"_s;
    QTest::newRow("point in the exponent") << u"1e5.5"_s << u"decimal point is allowed only once"_s;
    QTest::newRow("39 integer digits") << u"1e38"_s << u"more than 38 digits before"_s;
    QTest::newRow("39 written digits") << u"123456789012345678901234567890123456789"_s
                                       << u"more than 38 digits before"_s;
    QTest::newRow("exponent far too large") << u"1e999999999999999999999"_s
                                            << u"more than 38 digits before"_s;
    QTest::newRow("23 + 18 digits") << u"12345678901234567890123.123456789012345678"_s
                                    << u"more than 38 digits with its decimals"_s;
    QTest::newRow("38 nines and a half") << k38Nines + u".5"_s
                                         << u"more than 38 digits with its decimals"_s;
}

void TestDecimal::jsonNumberTextOutsideRfc8259IsRefused()
{
    QFETCH(QString, input);
    QFETCH(QString, reason);

    QString error;
    const std::optional<Decimal> value = Decimal::fromJsonNumber(input, &error);
    QVERIFY2(!value, qPrintable(u"accepted as "_s + show(value)));
    QVERIFY2(error.contains(reason), qPrintable(error));
    QVERIFY2(error.front().isUpper() || error.startsWith(u'"'), qPrintable(error));
    QVERIFY2(error.endsWith(u'.'), qPrintable(error));
    QVERIFY(!Decimal::fromJsonNumber(input));
}

void TestDecimal::clientTextStaysStrictWhereJsonNumbersAreLenient_data()
{
    QTest::addColumn<QString>("input");

    QTest::newRow("1e3") << u"1e3"_s;
    QTest::newRow("1.05e-05") << u"1.05e-05"_s;
    QTest::newRow("6.7E+4") << u"6.7E+4"_s;
    QTest::newRow("19 decimals") << u"0.0000000000000000001"_s;
}

void TestDecimal::clientTextStaysStrictWhereJsonNumbersAreLenient()
{
    QFETCH(QString, input);

    QVERIFY(Decimal::fromJsonNumber(input));
    QVERIFY(!Decimal::fromString(input));
    QVERIFY(!Decimal::fromJson(QJsonValue(input)));
}

void TestDecimal::moneyInJsonBodyIsReadFromStrings_data()
{
    QTest::addColumn<QByteArray>("body"); // {"amount": …}
    QTest::addColumn<QString>("printed");

    QTest::newRow("cents") << QByteArray(R"({"amount": "12.50"})") << u"12.50"_s;
    QTest::newRow("negative smallest unit") << QByteArray(R"({"amount": "-0.000000000000000001"})")
                                            << u"-0.000000000000000001"_s;
    QTest::newRow("38 digits a double cannot hold")
            << QByteArray(R"({"amount": "12345678901234567890.123456789012345678"})")
            << u"12345678901234567890.123456789012345678"_s;
}

void TestDecimal::moneyInJsonBodyIsReadFromStrings()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, printed);

    const QJsonValue amount = QJsonDocument::fromJson(body).object().value(u"amount"_s);
    QString error;
    const std::optional<Decimal> value = Decimal::fromJson(amount, &error);
    QVERIFY2(value, qPrintable(error));
    QCOMPARE(value->toString(), printed);
}

void TestDecimal::moneyInJsonBodyRefusesOtherTypes_data()
{
    QTest::addColumn<QByteArray>("body"); // {"amount": …}, or {} for a missing field
    QTest::addColumn<QString>("error");

    const QString expected = uR"(must be a string holding a decimal number, such as "12.50")"_s;
    const QString numbers = expected + u" (JSON numbers are not accepted for money)"_s;
    QTest::newRow("number") << QByteArray(R"({"amount": 12.5})") << numbers;
    QTest::newRow("integer") << QByteArray(R"({"amount": 12})") << numbers;
    QTest::newRow("0.1 as a double") << QByteArray(R"({"amount": 0.1})") << numbers;
    QTest::newRow("exponent number") << QByteArray(R"({"amount": 1e3})") << numbers;
    QTest::newRow("true") << QByteArray(R"({"amount": true})") << expected + u", not true"_s;
    QTest::newRow("false") << QByteArray(R"({"amount": false})") << expected + u", not false"_s;
    QTest::newRow("null") << QByteArray(R"({"amount": null})") << expected + u", not null"_s;
    QTest::newRow("object") << QByteArray(R"({"amount": {"value": "1"}})")
                            << expected + u", not an object"_s;
    QTest::newRow("array") << QByteArray(R"({"amount": ["1"]})") << expected + u", not an array"_s;
    QTest::newRow("missing") << QByteArray("{}")
                             << uR"(is required and must be a string holding a decimal number, such as "12.50")"_s;
    QTest::newRow("empty string") << QByteArray(R"({"amount": ""})")
                                  << expected + u", not an empty string"_s;
    QTest::newRow("exponent string")
            << QByteArray(R"({"amount": "1e3"})")
            << uR"(must be a decimal number such as "12.50" ("1e3": exponent notation is not supported))"_s;
    QTest::newRow("padded string")
            << QByteArray(R"({"amount": " 12.50"})")
            << uR"(must be a decimal number such as "12.50" (" 12.50": whitespace is not allowed))"_s;
    QTest::newRow("decimal comma")
            << QByteArray(R"({"amount": "12,50"})")
            << uR"(must be a decimal number such as "12.50" ("12,50": unexpected character ',' at position 3))"_s;
}

void TestDecimal::moneyInJsonBodyRefusesOtherTypes()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, error);

    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    const QJsonValue amount = document.object().value(u"amount"_s);
    QString actual;
    const std::optional<Decimal> value = Decimal::fromJson(amount, &actual);
    QVERIFY2(!value, qPrintable(u"accepted as "_s + show(value)));
    QCOMPARE(actual, error);
    QVERIFY(!Decimal::fromJson(amount));
}

void TestDecimal::addsAndSubtractsExactlyAtLargerScale_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("sum");
    QTest::addColumn<QString>("difference");

    QTest::newRow("integers") << u"1"_s << u"2"_s << u"3"_s << u"-1"_s;
    QTest::newRow("mixed scales") << u"1.5"_s << u"1.25"_s << u"2.75"_s << u"0.25"_s;
    QTest::newRow("0.1 + 0.2 is 0.3") << u"0.1"_s << u"0.2"_s << u"0.3"_s << u"-0.1"_s;
    QTest::newRow("scale kept on zero") << u"1.50"_s << u"1.5"_s << u"3.00"_s << u"0.00"_s;
    QTest::newRow("sum to zero") << u"-1.5"_s << u"1.5"_s << u"0.0"_s << u"-3.0"_s;
    QTest::newRow("integer and thousandth") << u"10"_s << u"0.001"_s << u"10.001"_s
                                            << u"9.999"_s;
    QTest::newRow("smallest unit") << u"-0.000000000000000001"_s << u"0"_s
                                   << u"-0.000000000000000001"_s << u"-0.000000000000000001"_s;
    QTest::newRow("up to 38 nines") << u"99999999999999999999999999999999999998"_s << u"1"_s
                                    << k38Nines << u"99999999999999999999999999999999999997"_s;
    QTest::newRow("most negative and zero") << u"-"_s + k38Nines << u"-0"_s << u"-"_s + k38Nines
                                            << u"-"_s + k38Nines;
    QTest::newRow("38 digits at scale 18") << u"12345678901234567890.123456789012345678"_s
                                           << u"0.000000000000000002"_s
                                           << u"12345678901234567890.123456789012345680"_s
                                           << u"12345678901234567890.123456789012345676"_s;
    // Aligning 10^20 to scale 18 needs 39 digits, yet the sum fits: intermediates are wide.
    QTest::newRow("wide alignment") << u"100000000000000000000"_s
                                    << u"-99999999999999999999.999999999999999999"_s
                                    << u"0.000000000000000001"_s << u"none"_s;
}

void TestDecimal::addsAndSubtractsExactlyAtLargerScale()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, sum);
    QFETCH(QString, difference);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    QCOMPARE(show(x->add(*y)), sum);
    QCOMPARE(show(y->add(*x)), sum);
    QCOMPARE(show(x->sub(*y)), difference);
    if (const std::optional<Decimal> s = x->add(*y))
        QCOMPARE(s->scale(), qMax(x->scale(), y->scale()));
}

void TestDecimal::multiplicationIsExactUpTo38Digits_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("product");

    QTest::newRow("integers") << u"2"_s << u"3"_s << u"6"_s;
    QTest::newRow("scales add") << u"1.5"_s << u"1.5"_s << u"2.25"_s;
    QTest::newRow("scale kept") << u"1.10"_s << u"1.10"_s << u"1.2100"_s;
    QTest::newRow("negative") << u"-1.5"_s << u"2"_s << u"-3.0"_s;
    QTest::newRow("zero is unsigned") << u"0.00"_s << u"-5"_s << u"0.00"_s;
    QTest::newRow("negative times zero") << u"-0.1"_s << u"0"_s << u"0.0"_s;
    QTest::newRow("two negatives") << u"-3.14159"_s << u"-2.71828"_s << u"8.5397212652"_s;
    QTest::newRow("scale 18 exactly") << u"0.000000001"_s << u"0.000000001"_s
                                      << u"0.000000000000000001"_s;
    QTest::newRow("38-digit product") << u"12345678901234567890"_s << u"1234567890123456789"_s
                                      << u"15241578753238836750190519987501905210"_s;
    QTest::newRow("19 nines squared") << u"9999999999999999999"_s << u"9999999999999999999"_s
                                      << u"99999999999999999980000000000000000001"_s;
    QTest::newRow("qint64 max squared") << u"9223372036854775807"_s << u"9223372036854775807"_s
                                        << u"85070591730234615847396907784232501249"_s;
    QTest::newRow("negative 38-digit") << u"-"_s + k38Nines << u"1"_s << u"-"_s + k38Nines;
}

void TestDecimal::multiplicationIsExactUpTo38Digits()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, product);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    QCOMPARE(show(x->mul(*y)), product);
    QCOMPARE(show(y->mul(*x)), product);
}

void TestDecimal::multiplicationRoundsHalfEvenBeyondScale18_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("product");

    QTest::newRow("half unit to even zero") << u"0.000000001"_s << u"0.0000000005"_s
                                            << u"0.000000000000000000"_s;
    QTest::newRow("1.5 units to 2") << u"0.000000003"_s << u"0.0000000005"_s
                                    << u"0.000000000000000002"_s;
    QTest::newRow("2.5 units to 2") << u"0.000000005"_s << u"0.0000000005"_s
                                    << u"0.000000000000000002"_s;
    QTest::newRow("negative 2.5 units to -2") << u"-0.000000005"_s << u"0.0000000005"_s
                                              << u"-0.000000000000000002"_s;
    QTest::newRow("tie up to even") << u"0.123456789012345679"_s << u"0.5"_s
                                    << u"0.061728394506172840"_s;
    QTest::newRow("tie down to even") << u"0.123456789012345677"_s << u"0.5"_s
                                      << u"0.061728394506172838"_s;
    QTest::newRow("scale 36 to 18") << u"1.111111111111111111"_s << u"1.111111111111111111"_s
                                    << u"1.234567901234567901"_s;
    QTest::newRow("below half unit") << u"3.333333333333333333"_s << u"3.333333333333333333"_s
                                     << u"11.111111111111111109"_s;
    QTest::newRow("underflows to zero") << u"0.000000000000000001"_s << u"0.000000000000000001"_s
                                        << u"0.000000000000000000"_s;
}

void TestDecimal::multiplicationRoundsHalfEvenBeyondScale18()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, product);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    const std::optional<Decimal> p = x->mul(*y);
    QCOMPARE(show(p), product);
    QCOMPARE(p->scale(), Decimal::MaxScale);
}

void TestDecimal::multiplicationReducesScaleToFit38Digits_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("product");

    QTest::newRow("39 digits at scale 1, tie to even")
            << k38Nines << u"0.5"_s << u"50000000000000000000000000000000000000"_s;
    QTest::newRow("39 digits at scale 1, exact") << k38Nines << u"1.0"_s << k38Nines;
    QTest::newRow("scale 18 to 17") << u"10000000000000000000.000000000000000001"_s << u"10"_s
                                    << u"100000000000000000000.00000000000000001"_s;
    QTest::newRow("38 nines and .36 to scale 0") << u"9999999999999999999.2"_s
                                                << u"10000000000000000000.8"_s << k38Nines;
    QTest::newRow("scale 9 to 6") << u"12345678901234567890.12345678"_s << u"1000000000000.5"_s
                                  << u"12345678901240740729574074063945.061728"_s;
}

void TestDecimal::multiplicationReducesScaleToFit38Digits()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, product);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    QCOMPARE(show(x->mul(*y)), product);
    QCOMPARE(show(x->negated().mul(*y)), u"-"_s + product);
}

void TestDecimal::divisionRoundsHalfEven_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("quotient");

    QTest::newRow("1/3") << u"1"_s << u"3"_s << 2 << u"0.33"_s;
    QTest::newRow("2/3") << u"2"_s << u"3"_s << 2 << u"0.67"_s;
    QTest::newRow("-2/3") << u"-2"_s << u"3"_s << 2 << u"-0.67"_s;
    QTest::newRow("1/-3") << u"1"_s << u"-3"_s << 5 << u"-0.33333"_s;
    QTest::newRow("1/8 tie down") << u"1"_s << u"8"_s << 2 << u"0.12"_s;
    QTest::newRow("3/8 tie up") << u"3"_s << u"8"_s << 2 << u"0.38"_s;
    QTest::newRow("-1/8 tie down") << u"-1"_s << u"8"_s << 2 << u"-0.12"_s;
    QTest::newRow("5/2 to 2") << u"5"_s << u"2"_s << 0 << u"2"_s;
    QTest::newRow("7/2 to 4") << u"7"_s << u"2"_s << 0 << u"4"_s;
    QTest::newRow("-5/2 to -2") << u"-5"_s << u"2"_s << 0 << u"-2"_s;
    QTest::newRow("10/4 to 2") << u"10"_s << u"4"_s << 0 << u"2"_s;
    QTest::newRow("1/7 to 0") << u"1"_s << u"7"_s << 0 << u"0"_s;
    QTest::newRow("1/3 at 18") << u"1"_s << u"3"_s << 18 << u"0.333333333333333333"_s;
    QTest::newRow("price per unit") << u"59.97"_s << u"7"_s << 2 << u"8.57"_s;
    QTest::newRow("by a thousandth") << u"100"_s << u"0.001"_s << 0 << u"100000"_s;
    QTest::newRow("exact at higher scale") << u"1.5"_s << u"0.5"_s << 3 << u"3.000"_s;
    QTest::newRow("tiny to zero") << u"0.000000000000000001"_s << u"1000"_s << 18
                                  << u"0.000000000000000000"_s;
    QTest::newRow("half unit to even zero") << u"0.000000000000000005"_s << u"10"_s << 18
                                            << u"0.000000000000000000"_s;
    QTest::newRow("1.5 units to 2") << u"0.000000000000000015"_s << u"10"_s << 18
                                    << u"0.000000000000000002"_s;
    QTest::newRow("no negative zero") << u"-0.001"_s << u"3"_s << 2 << u"0.00"_s;
    QTest::newRow("38 digits by one") << u"12345678901234567890123456789012345678"_s << u"1"_s
                                      << 0 << u"12345678901234567890123456789012345678"_s;
    QTest::newRow("38 nines by itself") << k38Nines << k38Nines << 18
                                        << u"1.000000000000000000"_s;
    QTest::newRow("scale 18 dividend, scale 0 result")
            << u"2.500000000000000000"_s << u"1"_s << 0 << u"2"_s;
}

void TestDecimal::divisionRoundsHalfEven()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, scale);
    QFETCH(QString, quotient);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    const std::optional<Decimal> q = x->div(*y, scale);
    QCOMPARE(show(q), quotient);
    QCOMPARE(q->scale(), scale);
}

void TestDecimal::divisionByZeroIsRefused_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("zero");

    QTest::newRow("one by 0") << u"1"_s << u"0"_s;
    QTest::newRow("zero by 0") << u"0"_s << u"0"_s;
    QTest::newRow("negative by 0.00") << u"-5.5"_s << u"0.00"_s;
    QTest::newRow("by negative zero") << u"3"_s << u"-0.0"_s;
}

void TestDecimal::divisionByZeroIsRefused()
{
    QFETCH(QString, a);
    QFETCH(QString, zero);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(zero);
    QVERIFY(x && y);
    for (int scale = 0; scale <= Decimal::MaxScale; ++scale)
        QVERIFY(!x->div(*y, scale));
}

void TestDecimal::divisionRefusesScaleOutsideRange()
{
    const Decimal one = Decimal::fromInt(1);
    const Decimal three = Decimal::fromInt(3);
    QVERIFY(!one.div(three, -1));
    QVERIFY(!one.div(three, 19));
    QVERIFY(one.div(three, 0));
    QVERIFY(one.div(three, 18));
}

void TestDecimal::overflowIsRefused_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("scale"); // only for div

    QTest::newRow("add past 38 nines") << u"add"_s << k38Nines << u"1"_s << 0;
    QTest::newRow("sub past -38 nines") << u"sub"_s << u"-"_s + k38Nines << u"1"_s << 0;
    QTest::newRow("add carries into 39th digit")
            << u"add"_s << u"99999999999999999999.999999999999999999"_s
            << u"0.000000000000000001"_s << 0;
    QTest::newRow("add needs 39 digits at scale 18")
            << u"add"_s << u"100000000000000000000"_s << u"0.000000000000000001"_s << 0;
    QTest::newRow("mul to 10^38") << u"mul"_s << u"10000000000000000000"_s
                                  << u"10000000000000000000"_s << 0;
    QTest::newRow("mul 38 nines squared") << u"mul"_s << k38Nines << k38Nines << 0;
    QTest::newRow("mul integer part too large") << u"mul"_s << k38Nines
                                                << u"1.00000000000000001"_s << 0;
    // 38 nines and .75: the integer part fits, but rounding it to scale 0 gives 10^38.
    QTest::newRow("mul rounds up into 39 digits") << u"mul"_s << u"9999999999999999999.5"_s
                                                  << u"10000000000000000000.5"_s << 0;
    QTest::newRow("div by a tenth") << u"div"_s << k38Nines << u"0.1"_s << 0;
    QTest::newRow("div needs 39 digits at scale 18") << u"div"_s << u"1000"_s
                                                     << u"0.000000000000000001"_s << 18;
    QTest::newRow("div needs 39 digits at scale 1") << u"div"_s << k38Nines << u"1"_s << 1;
    QTest::newRow("div doubles past 38 digits") << u"div"_s << k38Nines << u"0.5"_s << 0;
}

void TestDecimal::overflowIsRefused()
{
    QFETCH(QString, operation);
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, scale);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    std::optional<Decimal> result;
    if (operation == u"add")
        result = x->add(*y);
    else if (operation == u"sub")
        result = x->sub(*y);
    else if (operation == u"mul")
        result = x->mul(*y);
    else if (operation == u"div")
        result = x->div(*y, scale);
    else
        QFAIL("unknown operation in test data");
    QVERIFY2(!result, qPrintable(u"got "_s + show(result)));
}

void TestDecimal::scaledMultiplicationRoundsOnceHalfEven_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("product");

    QTest::newRow("2.5 to even 2") << u"2.5"_s << u"1"_s << 0 << u"2"_s;
    QTest::newRow("3.5 to even 4") << u"3.5"_s << u"1"_s << 0 << u"4"_s;
    QTest::newRow("-2.5 to even -2") << u"-2.5"_s << u"1"_s << 0 << u"-2"_s;
    QTest::newRow("-3.5 to even -4") << u"3.5"_s << u"-1"_s << 0 << u"-4"_s;
    QTest::newRow("0.5 to even 0") << u"0.25"_s << u"2"_s << 0 << u"0"_s;
    QTest::newRow("2.25 tie down") << u"1.5"_s << u"1.5"_s << 1 << u"2.2"_s;
    QTest::newRow("3.75 tie up") << u"1.5"_s << u"2.5"_s << 1 << u"3.8"_s;
    QTest::newRow("-2.25 tie down") << u"-1.5"_s << u"1.5"_s << 1 << u"-2.2"_s;
    QTest::newRow("-3.75 tie up") << u"-1.5"_s << u"-2.5"_s << 1 << u"3.8"_s;
    QTest::newRow("amount x rate, below a tie") << u"0.00000001"_s
                                                << u"1.499999999999999999"_s << 8
                                                << u"0.00000001"_s;
    QTest::newRow("amount x rate, above a tie") << u"0.00000001"_s
                                                << u"2.500000000000000001"_s << 8
                                                << u"0.00000003"_s;
    QTest::newRow("fee") << u"19.99"_s << u"0.000000014999999999"_s << 8 << u"0.00000030"_s;
    QTest::newRow("pads to scale") << u"1.5"_s << u"2"_s << 4 << u"3.0000"_s;
    QTest::newRow("pads to 18") << u"1"_s << u"1"_s << 18 << u"1.000000000000000000"_s;
    QTest::newRow("scale 36 to 18") << u"1.111111111111111111"_s << u"1.111111111111111111"_s
                                    << 18 << u"1.234567901234567901"_s;
    QTest::newRow("scale 36 to 0") << u"1.111111111111111111"_s << u"1.111111111111111111"_s
                                   << 0 << u"1"_s;
    QTest::newRow("no negative zero") << u"-0.000000001"_s << u"0.000000001"_s << 8
                                      << u"0.00000000"_s;
    QTest::newRow("zero keeps the scale") << u"-0.5"_s << u"0"_s << 2 << u"0.00"_s;
    QTest::newRow("38 digits") << k38Nines << u"1"_s << 0 << k38Nines;
    QTest::newRow("38 digits at scale 2")
            << k38Nines << u"0.01"_s << 2 << u"999999999999999999999999999999999999.99"_s;
    // 10^38 x 10^9: the exact product needs 157 bits.
    QTest::newRow("wide product to 18") << u"99999999999999999999.999999999999999999"_s
                                        << u"0.000000001000000000"_s << 18
                                        << u"100000000000.000000000000000000"_s;
    QTest::newRow("wide product to 8") << u"99999999999999999999.999999999999999999"_s
                                       << u"0.000000001000000000"_s << 8
                                       << u"100000000000.00000000"_s;
}

void TestDecimal::scaledMultiplicationRoundsOnceHalfEven()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, scale);
    QFETCH(QString, product);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    const std::optional<Decimal> p = x->mul(*y, scale);
    QCOMPARE(show(p), product);
    QCOMPARE(show(y->mul(*x, scale)), product);
    QVERIFY(p);
    QCOMPARE(p->scale(), scale);
}

void TestDecimal::scaledMultiplicationAvoidsDoubleRounding()
{
    // amount (scale 8) x rate (scale 18) is exactly 0.00000001499999999999999999. mul() rounds
    // it to 18 decimals first (0.000000015000000000), which then ties at 8 decimals and goes to
    // the even 0.00000002; rounding the exact product once gives 0.00000001.
    const Decimal amount = *Decimal::fromString(u"0.00000001");
    const Decimal rate = *Decimal::fromString(u"1.499999999999999999");
    QCOMPARE(show(amount.mul(rate)->withScale(8)), u"0.00000002"_s);
    QCOMPARE(show(amount.mul(rate, 8)), u"0.00000001"_s);
}

void TestDecimal::mulDivRoundsOnceHalfEven_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("c");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("result");

    QTest::newRow("yield of 1000.00 for 30 days at 5 %") << u"1000.00"_s << u"1.50"_s
                                                         << u"365"_s << 2 << u"4.11"_s;
    QTest::newRow("1/8 tie down") << u"1"_s << u"1"_s << u"8"_s << 2 << u"0.12"_s;
    QTest::newRow("3/8 tie up") << u"3"_s << u"1"_s << u"8"_s << 2 << u"0.38"_s;
    QTest::newRow("-1/8 tie down") << u"-1"_s << u"1"_s << u"8"_s << 2 << u"-0.12"_s;
    QTest::newRow("-3/8 tie up") << u"1"_s << u"-3"_s << u"8"_s << 2 << u"-0.38"_s;
    QTest::newRow("5/2 to 2") << u"5"_s << u"1"_s << u"2"_s << 0 << u"2"_s;
    QTest::newRow("7/2 to 4") << u"7"_s << u"1"_s << u"2"_s << 0 << u"4"_s;
    QTest::newRow("-5/-2 to 2") << u"-5"_s << u"1"_s << u"-2"_s << 0 << u"2"_s;
    QTest::newRow("10/-4 to -2") << u"10"_s << u"1"_s << u"-4"_s << 0 << u"-2"_s;
    QTest::newRow("three negatives") << u"-7"_s << u"-1"_s << u"-2"_s << 0 << u"-4"_s;
    QTest::newRow("2/3 at scale 0") << u"2"_s << u"1"_s << u"3"_s << 0 << u"1"_s;
    QTest::newRow("1/3 at scale 18") << u"1"_s << u"1"_s << u"3"_s << 18
                                     << u"0.333333333333333333"_s;
    QTest::newRow("no negative zero") << u"-1"_s << u"1"_s << u"1000"_s << 2 << u"0.00"_s;
    QTest::newRow("zero numerator") << u"0"_s << u"5"_s << u"-3"_s << 3 << u"0.000"_s;
    QTest::newRow("by the smallest unit") << u"1"_s << u"1"_s << u"0.000000000000000001"_s << 18
                                          << u"1000000000000000000.000000000000000000"_s;
    // Both operands have 38 digits: the product needs 76 digits (252 bits).
    QTest::newRow("a x b / b is a")
            << u"12345678901234567890.123456789012345678"_s
            << u"98765432109876543210.987654321098765432"_s
            << u"98765432109876543210.987654321098765432"_s << 18
            << u"12345678901234567890.123456789012345678"_s;
    QTest::newRow("38 nines squared by 38 nines") << k38Nines << k38Nines << k38Nines << 0
                                                  << k38Nines;
    // 41-digit product, divisor at scale 18: the dividend would need 10^18 more.
    QTest::newRow("wide product, scaled dividend")
            << k38Nines << u"1000"_s << u"12345678901234567890.123456789012345678"_s << 0
            << u"8100000072900000663390"_s;
}

void TestDecimal::mulDivRoundsOnceHalfEven()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, c);
    QFETCH(int, scale);
    QFETCH(QString, result);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    const std::optional<Decimal> z = Decimal::fromString(c);
    QVERIFY(x && y && z);
    const std::optional<Decimal> r = Decimal::mulDiv(*x, *y, *z, scale);
    QCOMPARE(show(r), result);
    QCOMPARE(show(Decimal::mulDiv(*y, *x, *z, scale)), result);
    QVERIFY(r);
    QCOMPARE(r->scale(), scale);
}

void TestDecimal::mulDivIsExactForHugeEthPrincipals()
{
    // 30 days of 5 % a year on the largest principal with 18 decimals (38 digits):
    // round(P x apy x days / 365). apy x days is exact (1.5000); P x 1.5000 has a 43-digit
    // coefficient (142 bits), and with an 18-decimal rate a 57-digit one (187 bits).
    const Decimal principal = *Decimal::fromString(u"99999999999999999999.999999999999999999");
    const Decimal apy = *Decimal::fromString(u"0.0500");
    const std::optional<Decimal> apyDays = apy.mul(Decimal::fromInt(30));
    QCOMPARE(show(apyDays), u"1.5000"_s);
    const Decimal days365 = Decimal::fromInt(365);

    QCOMPARE(show(Decimal::mulDiv(principal, *apyDays, days365, 18)),
             u"410958904109589041.095890410958904110"_s);
    QCOMPARE(show(Decimal::mulDiv(principal, *apyDays, days365, 2)),
             u"410958904109589041.10"_s);
    const Decimal apy18 = *Decimal::fromString(u"1.500000000000000000");
    QCOMPARE(show(Decimal::mulDiv(principal, apy18, days365, 18)),
             u"410958904109589041.095890410958904110"_s);
    QCOMPARE(show(Decimal::mulDiv(principal.negated(), apy18, days365, 18)),
             u"-410958904109589041.095890410958904110"_s);
}

void TestDecimal::mulDivAndScaledMultiplicationRefuse_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("c"); // empty: mul(a, b, scale); otherwise mulDiv(a, b, c, scale)
    QTest::addColumn<int>("scale");

    QTest::newRow("mul scale 19") << u"1"_s << u"1"_s << QString() << 19;
    QTest::newRow("mul scale -1") << u"1"_s << u"1"_s << QString() << -1;
    QTest::newRow("mul 38 nines at scale 1") << k38Nines << u"1"_s << QString() << 1;
    QTest::newRow("mul to 10^38") << u"10000000000000000000"_s << u"10000000000000000000"_s
                                  << QString() << 0;
    QTest::newRow("mul 38 nines squared") << k38Nines << k38Nines << QString() << 0;
    QTest::newRow("mul rounds up into 39 digits") << u"9999999999999999999.5"_s
                                                  << u"10000000000000000000.5"_s << QString()
                                                  << 0;
    QTest::newRow("mulDiv by zero") << u"1"_s << u"1"_s << u"0"_s << 2;
    QTest::newRow("mulDiv zero by zero") << u"0"_s << u"1"_s << u"0.00"_s << 2;
    QTest::newRow("mulDiv by negative zero") << u"1"_s << u"1"_s << u"-0.0"_s << 2;
    QTest::newRow("mulDiv scale 19") << u"1"_s << u"1"_s << u"3"_s << 19;
    QTest::newRow("mulDiv scale -1") << u"1"_s << u"1"_s << u"3"_s << -1;
    QTest::newRow("mulDiv 38 nines x 10") << k38Nines << u"10"_s << u"1"_s << 0;
    QTest::newRow("mulDiv 38 nines by a tenth") << k38Nines << u"1"_s << u"0.1"_s << 0;
    QTest::newRow("mulDiv 38 nines at scale 1") << k38Nines << u"1"_s << u"1"_s << 1;
    QTest::newRow("mulDiv by the smallest unit") << u"1000"_s << u"1"_s
                                                 << u"0.000000000000000001"_s << 18;
    QTest::newRow("mulDiv rounds up into 39 digits") << u"9999999999999999999.5"_s
                                                     << u"10000000000000000000.5"_s << u"1"_s
                                                     << 0;
    QTest::newRow("mulDiv 76 digits by 1") << k38Nines << k38Nines << u"1"_s << 0;
    // Far too large, and chosen so that the scaled quotient x 10^shift, taken modulo 2^256,
    // would look like a fitting 38-digit coefficient: the overflow must be caught before it.
    QTest::newRow("mul whose scaled product wraps 256 bits")
            << u"1157920892373161954301"_s << u"99999999999999999994361432603629028124"_s
            << QString() << 18;
    QTest::newRow("mulDiv whose scaled quotient wraps 256 bits")
            << u"11579208923731619542357098500868790788"_s
            << u"99999999999999999999999999999999999977"_s
            << u"10000000000000000.000000000000000000"_s << 18;
}

void TestDecimal::mulDivAndScaledMultiplicationRefuse()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, c);
    QFETCH(int, scale);

    const std::optional<Decimal> x = Decimal::fromString(a);
    const std::optional<Decimal> y = Decimal::fromString(b);
    QVERIFY(x && y);
    std::optional<Decimal> result;
    if (c.isEmpty()) {
        result = x->mul(*y, scale);
    } else {
        const std::optional<Decimal> z = Decimal::fromString(c);
        QVERIFY(z);
        result = Decimal::mulDiv(*x, *y, *z, scale);
    }
    QVERIFY2(!result, qPrintable(u"got "_s + show(result)));
}

void TestDecimal::roundingIsHalfEvenAndNeverRaisesScale_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("rounded");

    QTest::newRow("2.5 to 2") << u"2.5"_s << 0 << u"2"_s;
    QTest::newRow("3.5 to 4") << u"3.5"_s << 0 << u"4"_s;
    QTest::newRow("2.51 to 3") << u"2.51"_s << 0 << u"3"_s;
    QTest::newRow("-2.5 to -2") << u"-2.5"_s << 0 << u"-2"_s;
    QTest::newRow("-0.4 to unsigned zero") << u"-0.4"_s << 0 << u"0"_s;
    QTest::newRow("0.125 to 0.12") << u"0.125"_s << 2 << u"0.12"_s;
    QTest::newRow("0.135 to 0.14") << u"0.135"_s << 2 << u"0.14"_s;
    QTest::newRow("1.2345 to 1.234") << u"1.2345"_s << 3 << u"1.234"_s;
    QTest::newRow("1.2355 to 1.236") << u"1.2355"_s << 3 << u"1.236"_s;
    QTest::newRow("18 to 0 decimals") << u"0.500000000000000001"_s << 0 << u"1"_s;
    QTest::newRow("scale not raised") << u"1.5"_s << 3 << u"1.5"_s;
    QTest::newRow("same scale") << u"1.50"_s << 2 << u"1.50"_s;
    QTest::newRow("carry keeps 38 digits")
            << u"99999999999999999999999999999999999.999"_s << 2
            << u"100000000000000000000000000000000000.00"_s;
}

void TestDecimal::roundingIsHalfEvenAndNeverRaisesScale()
{
    QFETCH(QString, value);
    QFETCH(int, scale);
    QFETCH(QString, rounded);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    QCOMPARE(d->round(scale).toString(), rounded);
}

void TestDecimal::withScaleRoundsOrPads_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("scale");
    QTest::addColumn<QString>("result");

    QTest::newRow("pads") << u"1.5"_s << 3 << u"1.500"_s;
    QTest::newRow("rounds") << u"1.25"_s << 1 << u"1.2"_s;
    QTest::newRow("unchanged") << u"7"_s << 0 << u"7"_s;
    QTest::newRow("pads to 18") << u"1"_s << 18 << u"1.000000000000000000"_s;
    QTest::newRow("pads to 38 digits") << u"12345678901234567890"_s << 18
                                       << u"12345678901234567890.000000000000000000"_s;
    QTest::newRow("padding would need 39 digits") << u"123456789012345678901"_s << 18
                                                  << u"none"_s;
    QTest::newRow("38 nines cannot gain a decimal") << k38Nines << 1 << u"none"_s;
    QTest::newRow("scale 19 refused") << u"1"_s << 19 << u"none"_s;
    QTest::newRow("negative scale refused") << u"1"_s << -1 << u"none"_s;
}

void TestDecimal::withScaleRoundsOrPads()
{
    QFETCH(QString, value);
    QFETCH(int, scale);
    QFETCH(QString, result);

    const std::optional<Decimal> d = Decimal::fromString(value);
    QVERIFY(d);
    const std::optional<Decimal> r = d->withScale(scale);
    QCOMPARE(show(r), result);
    if (r) {
        QCOMPARE(r->scale(), scale);
        QCOMPARE(r->toString(), d->toString(scale));
    }
}

void TestDecimal::comparesAcrossScales_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("order"); // sign of a - b

    QTest::newRow("1.50 == 1.5") << u"1.50"_s << u"1.5"_s << 0;
    QTest::newRow("123.456 == 123.4560000") << u"123.456"_s << u"123.4560000"_s << 0;
    QTest::newRow("0 == -0.000") << u"0"_s << u"-0.000"_s << 0;
    QTest::newRow("1 == 1.000000000000000000") << u"1"_s << u"1.000000000000000000"_s << 0;
    QTest::newRow("1.49 < 1.5") << u"1.49"_s << u"1.5"_s << -1;
    QTest::newRow("1.51 > 1.5") << u"1.51"_s << u"1.5"_s << 1;
    QTest::newRow("-1.51 < -1.5") << u"-1.51"_s << u"-1.5"_s << -1;
    QTest::newRow("-1 < 1") << u"-1"_s << u"1"_s << -1;
    QTest::newRow("2 < 10") << u"2"_s << u"10"_s << -1;
    QTest::newRow("-10 < -2") << u"-10"_s << u"-2"_s << -1;
    QTest::newRow("smallest unit > 0") << u"0.000000000000000001"_s << u"0"_s << 1;
    QTest::newRow("-smallest unit < 0") << u"-0.000000000000000001"_s << u"0.0"_s << -1;
    QTest::newRow("10 > 9.999999999999999999") << u"10"_s << u"9.999999999999999999"_s << 1;
    QTest::newRow("fraction decides") << u"99999999999999999999.999999999999999999"_s
                                      << u"99999999999999999999"_s << 1;
    QTest::newRow("integer part decides") << k38Nines
                                          << u"99999999999999999999.999999999999999999"_s << 1;
    QTest::newRow("extremes") << u"-"_s + k38Nines << k38Nines << -1;
}

void TestDecimal::comparesAcrossScales()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, order);

    const std::optional<Decimal> ox = Decimal::fromString(a);
    const std::optional<Decimal> oy = Decimal::fromString(b);
    QVERIFY(ox && oy);
    const Decimal x = *ox;
    const Decimal y = *oy;
    const std::strong_ordering expected = order < 0 ? std::strong_ordering::less
            : order > 0                             ? std::strong_ordering::greater
                                                    : std::strong_ordering::equal;
    QVERIFY((x <=> y) == expected);
    QVERIFY((y <=> x) == (0 <=> (x <=> y))); // antisymmetric
    QCOMPARE(x == y, order == 0);
    QCOMPARE(x != y, order != 0);
    QCOMPARE(x < y, order < 0);
    QCOMPARE(x > y, order > 0);
    QCOMPARE(x <= y, order <= 0);
    QCOMPARE(x >= y, order >= 0);
    if (order == 0)
        QCOMPARE(qHash(x), qHash(y));
}

void TestDecimal::equalValuesHashEqually()
{
    QSet<Decimal> set;
    for (const QString &text : { u"1.5"_s, u"1.50"_s, u"1.500000000000000000"_s, u"+01.5"_s })
        set.insert(*Decimal::fromString(text));
    QCOMPARE(set.size(), 1);
    set.insert(*Decimal::fromString(u"-1.5"));
    set.insert(*Decimal::fromString(u"0.000"));
    set.insert(Decimal());
    QCOMPARE(set.size(), 3);
    QVERIFY(set.contains(Decimal::fromInt(0)));
    QCOMPARE(qHash(*Decimal::fromString(u"-0.00"), 42), qHash(Decimal(), 42));
}

// --- randomized comparison with Python's decimal module -----------------------------------------

namespace {

// Reads "a b k" lines and prints "a+b a-b a*b a/b" with Decimal's rules: add/sub exact at the
// larger scale; mul exact, then rounded half-even once, from the exact product, to the largest
// scale <= 18 whose coefficient fits 38 digits; div quantized half-even to k decimals. "none"
// stands for overflow or division by zero. With 200 digits of precision a quotient of operands
// below 10^38 (divisor scaled by at most 10^36) is never rounded onto a false tie before the
// final quantize, so the reference is exact.
constexpr char kReferenceScript[] = R"PY(
import sys
from decimal import Decimal, getcontext, ROUND_HALF_EVEN
getcontext().prec = 200
LIMIT = 10 ** 38

def coefficient(d):
    return int(''.join(map(str, d.as_tuple().digits)))

def show(d):
    if coefficient(d) >= LIMIT:
        return 'none'
    if d.is_zero():
        d = d.copy_abs()
    return format(d, 'f')

def quantize(d, scale):
    return d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)

def mul(a, b):
    p = a * b
    exact_scale = -p.as_tuple().exponent
    for scale in range(min(exact_scale, 18), -1, -1):
        r = quantize(p, scale)
        if coefficient(r) < LIMIT:
            return show(r)
    return 'none'

def div(a, b, k):
    if b.is_zero():
        return 'none'
    return show(quantize(a / b, k))

with open(sys.argv[1]) as f:
    for line in f:
        a, b, k = line.split()
        a, b, k = Decimal(a), Decimal(b), int(k)
        print(show(a + b), show(a - b), mul(a, b), div(a, b, k))
)PY";

// A random valid decimal: scale 0..18, 1..38 significant digits (often few), random sign,
// sometimes zero and sometimes a divisor that makes exact ties likely.
QString randomOperand(QRandomGenerator &rng)
{
    const int scale = int(rng.bounded(Decimal::MaxScale + 1));
    const int kind = int(rng.bounded(20));
    if (kind == 0)
        return scale == 0 ? u"0"_s : u"0."_s + QString(scale, u'0');
    if (kind == 1) {
        static const QString tieMakers[] = { u"2"_s, u"4"_s, u"8"_s, u"0.5"_s, u"16"_s,
                                             u"20"_s, u"0.25"_s, u"0.08"_s, u"-2"_s, u"-0.5"_s };
        return tieMakers[rng.bounded(int(std::size(tieMakers)))];
    }
    const int digitCount =
            1 + int(kind < 10 ? rng.bounded(10) : rng.bounded(Decimal::MaxDigits));
    QString digits;
    digits.append(QChar(u'1' + int(rng.bounded(9))));
    for (int i = 1; i < digitCount; ++i)
        digits.append(QChar(u'0' + int(rng.bounded(10))));
    QString text;
    if (digitCount <= scale)
        text = u"0."_s + QString(scale - digitCount, u'0') + digits;
    else if (scale == 0)
        text = digits;
    else
        text = digits.left(digitCount - scale) + u'.' + digits.right(scale);
    return rng.bounded(2) ? u"-"_s + text : text;
}

// Reads "a b c k" lines and prints "mul(a, b, k) mulDiv(a, b, c, k)": the exact product, and
// the exact product divided by c with 300 digits of precision (no false tie for operands below
// 10^38, as above), each quantized half-even once to k decimals; "none" for overflow or c == 0.
constexpr char kScaledReferenceScript[] = R"PY(
import sys
from decimal import Decimal, getcontext, ROUND_HALF_EVEN
getcontext().prec = 300
LIMIT = 10 ** 38

def show(d):
    if int(''.join(map(str, d.as_tuple().digits))) >= LIMIT:
        return 'none'
    if d.is_zero():
        d = d.copy_abs()
    return format(d, 'f')

def quantize(d, scale):
    return d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)

with open(sys.argv[1]) as f:
    for line in f:
        a, b, c, k = line.split()
        a, b, c, k = Decimal(a), Decimal(b), Decimal(c), int(k)
        muldiv = 'none' if c.is_zero() else show(quantize(a * b / c, k))
        print(show(quantize(a * b, k)), muldiv)
)PY";

// Runs `script` on `lines` (one operation each) and returns its output lines, or fails the test.
QStringList runPythonReference(const char *script, const QStringList &lines, QString *failure)
{
    QTemporaryFile input;
    if (!input.open()) {
        *failure = u"cannot create a temporary file: "_s + input.errorString();
        return {};
    }
    {
        QTextStream out(&input);
        for (const QString &line : lines)
            out << line << '\n';
    }
    input.close();

    QProcess python;
    python.start(u"python3"_s, { u"-c"_s, QString::fromUtf8(script), input.fileName() });
    if (!python.waitForStarted(30000)) {
        *failure = u"python3 could not be started (it is a declared test dependency): "_s
                + python.errorString();
        return {};
    }
    if (!python.waitForFinished(300000)) {
        *failure = u"python3 did not finish within 5 minutes"_s;
        return {};
    }
    if (python.exitStatus() != QProcess::NormalExit || python.exitCode() != 0) {
        *failure = u"python3 failed: "_s + QString::fromUtf8(python.readAllStandardError());
        return {};
    }
    return QString::fromUtf8(python.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
}

// Compares our results with Python's line by line; empty when all agree.
QString describeMismatches(const QStringList &operations, const QStringList &ours,
                           const QStringList &reference, const QString &columns)
{
    if (reference.size() != ours.size())
        return u"python3 printed %1 lines for %2 operations"_s.arg(reference.size()).arg(ours.size());
    QStringList mismatches;
    int mismatchCount = 0;
    for (qsizetype i = 0; i < ours.size(); ++i) {
        if (ours[i] == reference[i].trimmed())
            continue;
        if (++mismatchCount <= 10) {
            mismatches << u"  %1\n    ours:   %2 (%3)\n    python: %4"_s.arg(operations[i], ours[i],
                                                                              columns, reference[i]);
        }
    }
    if (mismatchCount == 0)
        return {};
    return u"%1 of %2 lines differ from Python's decimal; first ones:\n%3"_s.arg(mismatchCount)
            .arg(ours.size())
            .arg(mismatches.join(u'\n'));
}

} // namespace

void TestDecimal::matchesPythonDecimalReference()
{
    constexpr int pairCount = 2000;
    QRandomGenerator rng(20240611u);

    QStringList operations;
    QStringList ours;
    for (int i = 0; i < pairCount; ++i) {
        const QString a = randomOperand(rng);
        const QString b = randomOperand(rng);
        const int k = int(rng.bounded(Decimal::MaxScale + 1));
        const std::optional<Decimal> x = Decimal::fromString(a);
        const std::optional<Decimal> y = Decimal::fromString(b);
        QVERIFY2(x && y, qPrintable(a + u' ' + b));
        operations << a + u' ' + b + u' ' + QString::number(k);
        ours << QStringList { show(x->add(*y)), show(x->sub(*y)), show(x->mul(*y)),
                              show(x->div(*y, k)) }
                        .join(u' ');
    }

    QString failure;
    const QStringList reference = runPythonReference(kReferenceScript, operations, &failure);
    if (!failure.isEmpty())
        QFAIL(qPrintable(failure));
    const QString mismatches =
            describeMismatches(operations, ours, reference, u"add sub mul div; a b scale"_s);
    if (!mismatches.isEmpty())
        QFAIL(qPrintable(mismatches));
}

void TestDecimal::scaledProductsAndMulDivMatchPythonDecimalReference()
{
    constexpr int operationCount = 2000;
    QRandomGenerator rng(20250117u);

    QStringList operations;
    QStringList ours;
    for (int i = 0; i < operationCount; ++i) {
        const QString a = randomOperand(rng);
        const QString b = randomOperand(rng);
        const QString c = randomOperand(rng);
        const int k = int(rng.bounded(Decimal::MaxScale + 1));
        const std::optional<Decimal> x = Decimal::fromString(a);
        const std::optional<Decimal> y = Decimal::fromString(b);
        const std::optional<Decimal> z = Decimal::fromString(c);
        QVERIFY2(x && y && z, qPrintable(a + u' ' + b + u' ' + c));
        operations << QStringList { a, b, c, QString::number(k) }.join(u' ');
        ours << show(x->mul(*y, k)) + u' ' + show(Decimal::mulDiv(*x, *y, *z, k));
    }

    QString failure;
    const QStringList reference = runPythonReference(kScaledReferenceScript, operations, &failure);
    if (!failure.isEmpty())
        QFAIL(qPrintable(failure));
    const QString mismatches =
            describeMismatches(operations, ours, reference, u"mul mulDiv; a b c scale"_s);
    if (!mismatches.isEmpty())
        QFAIL(qPrintable(mismatches));
}

QTEST_APPLESS_MAIN(TestDecimal)

#include "tst_decimal.moc"
