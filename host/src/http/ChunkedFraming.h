// ChunkedFraming.h — a strict check of a chunked request body's framing, before http_parser sees it.
//
// Debian builds http_parser without HTTP_PARSER_STRICT, so it takes a bare LF for CRLF between
// chunks, spaces after a chunk size and other leniencies; a proxy in front that reads the same
// bytes strictly would frame them differently — the stuff of request smuggling. This reads the
// RFC 9112 §7.1 grammar exactly, incrementally across reads, and says where the message ends so
// the parser is never handed bytes of the next pipelined request before they are checked.
#pragma once

#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace yieldhost {

class ChunkedFraming
{
public:
    struct Step
    {
        qsizetype accepted = 0; // bytes of this message that are well framed
        bool complete = false;  // the last chunk and the trailer section ended within them
        QString error;          // set when the framing is broken at byte `accepted`
    };

    explicit ChunkedFraming(qint64 maxTrailerBytes = 16 << 10)
        : m_maxTrailerBytes(maxTrailerBytes)
    {
    }

    // Reads on from where the previous call stopped.
    Step feed(QByteArrayView bytes);

private:
    enum class State { Size, SizeTail, Extension, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, EndLf, Done };

    State m_state = State::Size;
    int m_digits = 0;
    bool m_spaceAfterSize = false;
    qint64 m_remaining = 0; // data bytes left in the current chunk
    qint64 m_trailerBytes = 0;
    qint64 m_maxTrailerBytes;
};

} // namespace yieldhost
