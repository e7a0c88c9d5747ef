#include "http/ChunkedFraming.h"

#include <algorithm>

namespace yieldhost {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Field and extension text: visible characters, space, tab and obs-text; never CTLs.
bool isText(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

} // namespace

ChunkedFraming::Step ChunkedFraming::feed(QByteArrayView bytes)
{
    Step step;
    qsizetype i = 0;
    const auto fail = [&](const QString &why) {
        step.accepted = i;
        step.error = why;
        return step;
    };
    while (i < bytes.size() && m_state != State::Done) {
        const char c = bytes[i];
        switch (m_state) {
        case State::Size: {
            const int v = hexValue(c);
            if (v < 0) {
                if (m_digits == 0)
                    return fail(QStringLiteral("A chunk must start with its size in hexadecimal."));
                m_state = State::SizeTail;
                continue; // look at this byte again
            }
            if (++m_digits > 15)
                return fail(QStringLiteral("A chunk size has more than 15 hexadecimal digits."));
            m_remaining = m_remaining * 16 + v;
            break;
        }
        case State::SizeTail: // BWS before a chunk extension, or the CRLF
            if (c == ' ' || c == '\t')
                m_spaceAfterSize = true;
            else if (c == ';')
                m_state = State::Extension;
            else if (c == '\r' && !m_spaceAfterSize)
                m_state = State::SizeLf;
            else
                return fail(QStringLiteral("A chunk size line must be the size, optional extensions, then CRLF."));
            break;
        case State::Extension:
            if (c == '\r')
                m_state = State::SizeLf;
            else if (!isText(c))
                return fail(QStringLiteral("A chunk extension holds a control character."));
            break;
        case State::SizeLf:
            if (c != '\n')
                return fail(QStringLiteral("A chunk size line must end with CRLF."));
            m_digits = 0;
            m_spaceAfterSize = false;
            m_state = m_remaining == 0 ? State::TrailerStart : State::Data;
            break;
        case State::Data: {
            const qsizetype take = qsizetype(std::min<qint64>(m_remaining, bytes.size() - i));
            m_remaining -= take;
            i += take;
            if (m_remaining == 0)
                m_state = State::DataCr;
            continue;
        }
        case State::DataCr:
            if (c != '\r')
                return fail(QStringLiteral("Chunk data must be followed by CRLF, after exactly the declared size."));
            m_state = State::DataLf;
            break;
        case State::DataLf:
            if (c != '\n')
                return fail(QStringLiteral("Chunk data must be followed by CRLF."));
            m_state = State::Size;
            break;
        case State::TrailerStart: // a trailer field line, or the CRLF ending the message
            if (c == '\r') {
                m_state = State::EndLf;
                break;
            }
            m_state = State::TrailerLine;
            continue;
        case State::TrailerLine:
            if (++m_trailerBytes > m_maxTrailerBytes)
                return fail(QStringLiteral("The trailer section exceeds %1 bytes.").arg(m_maxTrailerBytes));
            if (c == '\r')
                m_state = State::TrailerLf;
            else if (!isText(c))
                return fail(QStringLiteral("A trailer line holds a control character or a bare LF."));
            break;
        case State::TrailerLf:
            if (c != '\n')
                return fail(QStringLiteral("A trailer line must end with CRLF."));
            m_state = State::TrailerStart;
            break;
        case State::EndLf:
            if (c != '\n')
                return fail(QStringLiteral("A chunked body must end with CRLF."));
            m_state = State::Done;
            break;
        case State::Done:
            break;
        }
        ++i;
    }
    step.accepted = i;
    step.complete = m_state == State::Done;
    return step;
}

} // namespace yieldhost
