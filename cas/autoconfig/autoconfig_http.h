// The autoconfiguration HTTP resources, answered from a fresh NodeSnapshot per request:
//   GET  /.well-known/autoconfig/mail/config-v1.1.xml[?emailaddress=a@b]   Thunderbird
//   GET  /mail/config-v1.1.xml?emailaddress=a@b                           Thunderbird
//   POST /autodiscover/autodiscover.xml (any case)                         Outlook (POX)
//   GET  /apple/mail.mobileconfig?emailaddress=a@b                         Apple profile
// HEAD works wherever GET does. 400 for a bad address or request, 404 for other paths, 405
// (with Allow) for other methods, 503 when no incoming mail service runs on this node.
#pragma once

#include <functional>

#include "cas/autoconfig/client_settings.h"
#include "cas/autoconfig/http_connection.h"

namespace cas::autoconfig {

using SnapshotFn = std::function<NodeSnapshot()>;

HttpResponse HandleAutoconfigRequest(const HttpRequest& request, const SnapshotFn& snapshot);

}  // namespace cas::autoconfig
