// Status.h — success or a sentence saying what failed, returned across module edges instead of
// throwing. A plugin's initialize() may end like this, compiled in sdk/examples/snippets
// (snippet "status"):
//   if (ctx.config().value(u"rate").toString().isEmpty())
//       return Status::failure(u"config key \"rate\" is missing"_s);
//   return {};
#pragma once

#include "yieldhost/Global.h"

#include <QtCore/QString>

namespace yieldhost {

class Status
{
public:
    Status() = default; // success
    static Status failure(QString error) { Status s; s.m_ok = false; s.m_error = std::move(error); return s; }

    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const QString &error() const { return m_error; }

private:
    bool m_ok = true;
    QString m_error;
};

} // namespace yieldhost
