#include "http/StaffAudit.h"

#include "core/Logging.h"

namespace yieldhost {

void auditStaffChange(const HttpRequest &request, const QString &what)
{
    const std::optional<AuthenticatedUser> &user = request.user();
    qCInfo(lcAudit).noquote() << QStringLiteral("staff %1 <%2> from %3: %4 rid=%5")
                                     .arg(user ? user->id : QStringLiteral("-"), user ? user->email : QStringLiteral("-"),
                                          request.peerAddress().toString(), what, request.requestId());
}

} // namespace yieldhost
