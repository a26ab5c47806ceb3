// The client settings the autoconfig documents offer are computed by common/client_settings.h,
// which adminctl shares; these are the names the documents use for them.
#pragma once

#include "common/client_settings.h"

namespace cas::autoconfig {

using common::BindingPort;
using common::ClientSettings;
using common::ComputeClientSettings;
using common::NodeSnapshot;
using common::OpenPort;
using common::OpenPortsFromPortLines;
using common::ServerEndpoint;
using Protocol = common::ClientProtocol;
using Security = common::ClientSecurity;
using ServiceState = common::ClientServiceState;

}  // namespace cas::autoconfig
