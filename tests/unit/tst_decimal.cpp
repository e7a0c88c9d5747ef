// tst_decimal.cpp — specification of yieldhost::Decimal, the SDK's exact decimal type for money.
//
// Each test function states one behaviour; the tables hold the cases. The last test checks
// about 2000 random operations against Python's decimal module (python3 is a declared test
// dependency; the test fails, rather than skips, without it).

#include "yieldhost/Decimal.h"

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

    void roundingIsHalfEvenAndNeverRaisesScale_data();
    void roundingIsHalfEvenAndNeverRaisesScale();
    void withScaleRoundsOrPads_data();
    void withScaleRoundsOrPads();

    void comparesAcrossScales_data();
    void comparesAcrossScales();
    void equalValuesHashEqually();

    void matchesPythonDecimalReference();
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

} // namespace

void TestDecimal::matchesPythonDecimalReference()
{
    constexpr int pairCount = 2000;
    QRandomGenerator rng(20240611u);

    QTemporaryFile input;
    QVERIFY(input.open());
    QStringList operations;
    QStringList ours;
    {
        QTextStream out(&input);
        for (int i = 0; i < pairCount; ++i) {
            const QString a = randomOperand(rng);
            const QString b = randomOperand(rng);
            const int k = int(rng.bounded(Decimal::MaxScale + 1));
            const std::optional<Decimal> x = Decimal::fromString(a);
            const std::optional<Decimal> y = Decimal::fromString(b);
            QVERIFY2(x && y, qPrintable(a + u' ' + b));
            const QString operation = a + u' ' + b + u' ' + QString::number(k);
            operations << operation;
            out << operation << '\n';
            ours << QStringList { show(x->add(*y)), show(x->sub(*y)), show(x->mul(*y)),
                                  show(x->div(*y, k)) }
                            .join(u' ');
        }
    }
    input.close();

    QProcess python;
    python.start(u"python3"_s,
                 { u"-c"_s, QString::fromUtf8(kReferenceScript), input.fileName() });
    if (!python.waitForStarted(30000))
        QFAIL(qPrintable(u"python3 could not be started (it is a declared test dependency): "_s
                         + python.errorString()));
    if (!python.waitForFinished(300000))
        QFAIL("python3 did not finish within 5 minutes");
    const QString stderrText = QString::fromUtf8(python.readAllStandardError());
    QVERIFY2(python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
             qPrintable(u"python3 failed: "_s + stderrText));

    const QStringList reference =
            QString::fromUtf8(python.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(reference.size(), ours.size());

    QStringList mismatches;
    int mismatchCount = 0;
    for (qsizetype i = 0; i < ours.size(); ++i) {
        if (ours[i] == reference[i].trimmed())
            continue;
        if (++mismatchCount <= 10) {
            mismatches << u"  %1 (a b scale)\n    ours:   %2 (add sub mul div)\n    python: %3"_s
                                  .arg(operations[i], ours[i], reference[i]);
        }
    }
    if (mismatchCount > 0) {
        QFAIL(qPrintable(u"%1 of %2 lines differ from Python's decimal; first ones:\n%3"_s.arg(
                mismatchCount)
                                 .arg(ours.size())
                                 .arg(mismatches.join(u'\n'))));
    }
}

QTEST_APPLESS_MAIN(TestDecimal)

#include "tst_decimal.moc"
