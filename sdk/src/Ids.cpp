#include "yieldhost/Ids.h"

#include <QtCore/QDateTime>
#include <QtCore/QUuid>

namespace yieldhost {

bool isUuid(QStringView text)
{
    if (text.size() != 36)
        return false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != u'-')
                return false;
        } else if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F'))) {
            return false;
        }
    }
    return true;
}

QString createOrderedUuid()
{
    QByteArray bytes = QUuid::createUuid().toRfc4122(); // version 4: 122 random bits to start from
    const quint64 ms = quint64(QDateTime::currentMSecsSinceEpoch());
    for (int i = 0; i < 6; ++i)
        bytes[i] = char(ms >> (40 - 8 * i)); // big-endian, so the text sorts by time
    bytes[6] = char((uchar(bytes[6]) & 0x0F) | 0x70); // version 7; the variant bits stay 10
    return QUuid::fromRfc4122(bytes).toString(QUuid::WithoutBraces);
}

} // namespace yieldhost
