#include "StatementDocument.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <memory>

namespace yieldhost::investments {

namespace {

QByteArray csvField(const QString &text, bool freeText)
{
    QString value = text;
    // A reference a user typed must not become a formula in someone's spreadsheet.
    if (freeText && !value.isEmpty() && QStringLiteral("=+-@\t\r").contains(value.front()))
        value.prepend(u'\'');
    if (value.contains(u',') || value.contains(u'"') || value.contains(u'\n') || value.contains(u'\r'))
        value = u'"' + QString(value).replace(u'"', QStringLiteral("\"\"")) + u'"';
    return value.toUtf8();
}

QByteArray csvLine(std::initializer_list<std::pair<QString, bool>> fields)
{
    QByteArray line;
    bool first = true;
    for (const auto &[text, freeText] : fields) {
        if (!first)
            line.append(',');
        line.append(csvField(text, freeText));
        first = false;
    }
    line.append("\r\n");
    return line;
}

QString utc(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODate);
}

struct CairoDeleter
{
    void operator()(cairo_t *cr) const { cairo_destroy(cr); }
    void operator()(cairo_surface_t *s) const { cairo_surface_destroy(s); }
    void operator()(PangoLayout *l) const { g_object_unref(l); }
    void operator()(PangoFontDescription *f) const { pango_font_description_free(f); }
};

cairo_status_t appendTo(void *closure, const unsigned char *data, unsigned int length)
{
    static_cast<QByteArray *>(closure)->append(reinterpret_cast<const char *>(data), qsizetype(length));
    return CAIRO_STATUS_SUCCESS;
}

// Lines of text on A4 pages, a new page when one is full.
class PdfWriter
{
public:
    static constexpr double Width = 595.0; // A4 in points
    static constexpr double Height = 842.0;
    static constexpr double Margin = 50.0;

    explicit PdfWriter(QByteArray *out)
        : m_surface(cairo_pdf_surface_create_for_stream(appendTo, out, Width, Height))
        , m_cr(cairo_create(m_surface.get()))
        , m_layout(pango_cairo_create_layout(m_cr.get()))
    {
        cairo_pdf_surface_set_metadata(m_surface.get(), CAIRO_PDF_METADATA_CREATOR, "Yieldhost");
    }
    ~PdfWriter() = default;

    // size in points; columns at x offsets (from the margin), one text each.
    void line(const QList<std::pair<double, QString>> &columns, double size = 9.5, bool bold = false)
    {
        const double height = size * 1.6;
        if (m_y + height > Height - Margin)
            newPage();
        const QString font = QStringLiteral("DejaVu Sans %1%2").arg(bold ? QStringLiteral("Bold ") : QString()).arg(size);
        std::unique_ptr<PangoFontDescription, CairoDeleter> description(pango_font_description_from_string(font.toUtf8().constData()));
        pango_layout_set_font_description(m_layout.get(), description.get());
        for (const auto &[x, text] : columns) {
            const QByteArray utf8 = text.toUtf8();
            pango_layout_set_text(m_layout.get(), utf8.constData(), int(utf8.size()));
            cairo_move_to(m_cr.get(), Margin + x, m_y);
            pango_cairo_show_layout(m_cr.get(), m_layout.get());
        }
        m_y += height;
    }
    void space(double points) { m_y += points; }
    QString finish()
    {
        cairo_show_page(m_cr.get());
        m_layout.reset();
        m_cr.reset();
        cairo_surface_finish(m_surface.get());
        const cairo_status_t status = cairo_surface_status(m_surface.get());
        m_surface.reset();
        return status == CAIRO_STATUS_SUCCESS ? QString() : QString::fromUtf8(cairo_status_to_string(status));
    }

private:
    void newPage()
    {
        cairo_show_page(m_cr.get());
        m_y = Margin;
    }

    std::unique_ptr<cairo_surface_t, CairoDeleter> m_surface;
    std::unique_ptr<cairo_t, CairoDeleter> m_cr;
    std::unique_ptr<PangoLayout, CairoDeleter> m_layout;
    double m_y = Margin;
};

} // namespace

QByteArray StatementDocument::toCsv() const
{
    QByteArray out = csvLine({{QStringLiteral("record"), false}, {QStringLiteral("currency"), false}, {QStringLiteral("wallet_id"), false},
                              {QStringLiteral("position_id"), false}, {QStringLiteral("date"), false}, {QStringLiteral("kind"), false},
                              {QStringLiteral("amount"), false}, {QStringLiteral("balance_after"), false}, {QStringLiteral("reference"), false}});
    for (const Wallet &w : wallets) {
        out += csvLine({{QStringLiteral("opening_balance"), false}, {w.currency, false}, {w.id, false}, {QString(), false},
                        {from.toString(Qt::ISODate), false}, {QString(), false}, {QString(), false}, {w.opening.toString(w.decimals), false}, {QString(), false}});
        for (const Entry &e : w.entries)
            out += csvLine({{QStringLiteral("entry"), false}, {w.currency, false}, {w.id, false}, {QString(), false}, {utc(e.at), false},
                            {e.kind, false}, {e.amount.toString(w.decimals), false}, {e.balanceAfter.toString(w.decimals), false}, {e.reference, true}});
        out += csvLine({{QStringLiteral("closing_balance"), false}, {w.currency, false}, {w.id, false}, {QString(), false},
                        {to.toString(Qt::ISODate), false}, {QString(), false}, {QString(), false}, {w.closing.toString(w.decimals), false}, {QString(), false}});
    }
    for (const Position &p : positions)
        out += csvLine({{QStringLiteral("position"), false}, {p.currency, false}, {QString(), false}, {p.id, false}, {utc(p.openedAt), false},
                        {p.status, false}, {p.amountInvested.toString(p.decimals), false}, {QString(), false}, {QString(), false}});
    for (const Yield &y : yields)
        out += csvLine({{QStringLiteral("yield"), false}, {y.currency, false}, {QString(), false}, {y.positionId, false},
                        {y.periodEnd.toString(Qt::ISODate), false}, {QStringLiteral("yield"), false}, {y.amount.toString(y.decimals), false},
                        {QString(), false}, {y.txHash, false}});
    return out;
}

QByteArray StatementDocument::toPdf(QString *error) const
{
    QByteArray out;
    PdfWriter pdf(&out);
    pdf.line({{0, QStringLiteral("Yieldhost statement %1").arg(period)}}, 18, true);
    pdf.line({{0, QStringLiteral("Account %1 · %2 to %3 (UTC) · generated %4")
                      .arg(userId, from.toString(Qt::ISODate), to.addDays(-1).toString(Qt::ISODate), utc(generatedAt))}}, 8.5);
    pdf.space(10);
    for (const Wallet &w : wallets) {
        pdf.line({{0, QStringLiteral("%1 wallet").arg(w.currency)}, {300, w.id}}, 12, true);
        pdf.line({{0, QStringLiteral("Opening balance")}, {300, QStringLiteral("%1 %2").arg(w.opening.toString(w.decimals), w.currency)}});
        pdf.line({{0, QStringLiteral("Date (UTC)")}, {120, QStringLiteral("Kind")}, {210, QStringLiteral("Amount")}, {330, QStringLiteral("Balance after")},
                  {440, QStringLiteral("Reference")}}, 8.5, true);
        for (const Entry &e : w.entries)
            pdf.line({{0, e.at.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm"))}, {120, e.kind}, {210, e.amount.toString(w.decimals)},
                      {330, e.balanceAfter.toString(w.decimals)}, {440, e.reference.left(24)}}, 8.5);
        pdf.line({{0, QStringLiteral("Closing balance")}, {300, QStringLiteral("%1 %2").arg(w.closing.toString(w.decimals), w.currency)}}, 9.5, true);
        pdf.space(12);
    }
    if (!positions.isEmpty()) {
        pdf.line({{0, QStringLiteral("Positions")}}, 12, true);
        for (const Position &p : positions)
            pdf.line({{0, p.openedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd"))}, {120, p.status},
                      {210, QStringLiteral("%1 %2").arg(p.amountInvested.toString(p.decimals), p.currency)}, {330, p.id}}, 8.5);
        pdf.space(12);
    }
    if (!yields.isEmpty()) {
        pdf.line({{0, QStringLiteral("Yield paid")}}, 12, true);
        for (const Yield &y : yields)
            pdf.line({{0, y.periodEnd.toString(Qt::ISODate)}, {120, QStringLiteral("%1 %2").arg(y.amount.toString(y.decimals), y.currency)},
                      {240, y.txHash.left(24) + (y.txHash.size() > 24 ? QStringLiteral("…") : QString())}}, 8.5);
    }
    const QString failed = pdf.finish();
    if (!failed.isEmpty()) {
        if (error)
            *error = failed;
        return {};
    }
    return out;
}

} // namespace yieldhost::investments
