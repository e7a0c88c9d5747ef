// Status.h — success or a sentence saying what failed, returned across module edges instead of
// throwing. Example:
//   yieldhost::Status initialize(PluginContext &ctx) override {
//       if (ctx.config().value("rate").toString().isEmpty())
//           return yieldhost::Status::failure(u"config key \"rate\" is missing"_s);
//       return {};
//   }
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
