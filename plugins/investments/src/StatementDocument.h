// StatementDocument.h — what a monthly statement says, and its two renderings: CSV (one table,
// a record column saying what each line is) and PDF (cairo's PDF surface with Pango laying out
// the text; the host has no Qt Gui, so QPdfWriter cannot paint there).
#pragma once

#include "yieldhost/Decimal.h"

#include <QtCore/QByteArray>
#include <QtCore/QDate>
#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

namespace yieldhost::investments {

struct StatementDocument
{
    struct Entry
    {
        QDateTime at;
        QString kind;
        Decimal amount; // signed
        Decimal balanceAfter;
        QString reference;
    };
    struct Wallet
    {
        QString id;
        QString currency;
        int decimals = 2;
        Decimal opening;
        Decimal closing;
        QList<Entry> entries;
    };
    struct Position
    {
        QString id;
        QString currency;
        int decimals = 2;
        Decimal amountInvested;
        QString status;
        QDateTime openedAt;
    };
    struct Yield
    {
        QString positionId;
        QString currency;
        int decimals = 2;
        QDate periodEnd;
        Decimal amount;
        QString txHash;
    };

    QString userId;
    QString period; // "2026-10"
    QDate from;     // first day
    QDate to;       // first day of the next month
    QDateTime generatedAt;
    QList<Wallet> wallets;
    QList<Position> positions;
    QList<Yield> yields;

    // record,currency,wallet_id,position_id,date,kind,amount,balance_after,reference — RFC 4180,
    // text fields that a spreadsheet would run as a formula (=, +, -, @) prefixed with '.
    QByteArray toCsv() const;
    // A4 pages; empty with *error set when cairo or Pango fail.
    QByteArray toPdf(QString *error) const;
};

} // namespace yieldhost::investments
