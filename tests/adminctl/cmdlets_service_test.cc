// Get-Service, Start-Service, Stop-Service, Restart-Service and Set-Service end to end through
// the runner, against the in-process fake mail.v1.Control server (fake_control.h): binding
// and service names (Exchange's aliases too), the exact SetServiceRequest sent, -WhatIf,
// -PassThru, piping Get-Service into the actions, the error texts and the printed views.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/cmdlet.h"
#include "adminctl/help.h"
#include "control.grpc.pb.h"
#include "tests/adminctl/fake_control.h"

namespace adminctl {
namespace {

using google::protobuf::util::MessageDifferencer;
using mail::v1::SetServiceRequest;
using test::Outcome;

SetServiceRequest Request(mail::v1::ServiceName service, std::string node,
                          mail::v1::ServiceAction action,
                          mail::v1::StartupType startup_type = mail::v1::STARTUP_TYPE_AUTOMATIC) {
  SetServiceRequest r;
  r.set_service(service);
  r.set_node(std::move(node));
  r.set_action(action);
  r.set_startup_type(startup_type);
  return r;
}

// "Name@MachineName" of each row of `line` | Format-Table Name,MachineName, in order.
std::vector<std::string> RowsOf(const std::string& table) {
  std::vector<std::string> rows;
  std::istringstream in(table);
  std::string line;
  bool body = false;
  while (std::getline(in, line)) {
    if (line.rfind("----", 0) == 0) {
      body = true;
      continue;
    }
    if (!body || line.empty()) continue;
    std::istringstream words(line);
    std::string name, machine;
    words >> name >> machine;
    rows.push_back(name + "@" + machine);
  }
  return rows;
}

class ServiceCmdletsTest : public test::ControlCmdletsTest {
 protected:
  std::vector<std::string> Rows(const std::string& line) {
    Outcome o = Run(line + " | Format-Table Name,MachineName");
    EXPECT_TRUE(o.ok) << line << "\n" << o.err;
    return RowsOf(o.out);
  }

  // Runs `line`, which must fail before sending anything, and returns its error text.
  std::string Refused(const std::string& line) {
    Outcome o = Run(line);
    EXPECT_FALSE(o.ok) << line;
    EXPECT_EQ(o.out, "") << line;
    EXPECT_TRUE(Sets().empty()) << line;
    ClearRequests();
    return o.err;
  }
};

// ---------------------------------------------------------------------------------------------
// Get-Service

TEST_F(ServiceCmdletsTest, DefaultTableHasOneRowPerNodeAndService) {
  Outcome o = Run("Get-Service");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Status      Name  DisplayName       MachineName StartType\n"
            "------      ----  -----------       ----------- ---------\n"
            "Running     IMAP4 IMAP4 (casd)      cas01       Automatic\n"
            "Running     POP3  POP3 (casd)       cas01       Automatic\n"
            "Running     IMAP4 IMAP4 (casd)      cas02       Automatic\n"
            "Stopped     POP3  POP3 (casd)       cas02       Manual\n"
            "Unreachable SMTP  SMTP (transportd) edge01      Automatic\n"
            "\n");
  const auto gets = Gets();
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].node(), "");
  EXPECT_EQ(gets[0].service(), mail::v1::SERVICE_NAME_UNSPECIFIED);
}

TEST_F(ServiceCmdletsTest, FormatListAddsVersionsAndHeartbeat) {
  Outcome o = Run("Get-Service POP3 -Server cas02 | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name            : POP3\n"
            "DisplayName     : POP3 (casd)\n"
            "Status          : Stopped\n"
            "DesiredStatus   : Stopped\n"
            "StartType       : Manual\n"
            "MachineName     : cas02\n"
            "SettingsVersion : 12\n"
            "LastHeartbeat   : 1/1/2025 12:00:01 PM\n"
            "Endpoints       :\n"
            "\n");
  o = Run("gsv smtp | fl Status,LastHeartbeat,SettingsVersion");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Status          : Unreachable\n"
            "LastHeartbeat   : 1/1/2025 11:00:00 AM\n"
            "SettingsVersion : 11\n"
            "\n");
}

TEST_F(ServiceCmdletsTest, NodeSettingsVersionWhenTheRowHasNone) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.State("cas01", mail::v1::SERVICE_NAME_IMAP4)->set_settings_version(0);
    fake_.State("cas01", mail::v1::SERVICE_NAME_IMAP4)
        ->set_status(mail::v1::SERVICE_STATUS_UNSPECIFIED);
    fake_.State("cas01", mail::v1::SERVICE_NAME_IMAP4)
        ->set_startup_type(static_cast<mail::v1::StartupType>(7));
  }
  Outcome o = Run("Get-Service IMAP4 -Server cas01 | fl Status,StartType,SettingsVersion");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Status          : Unknown\n"
            "StartType       : 7\n"
            "SettingsVersion : 12\n"
            "\n");
}

struct GetCase {
  std::string line;
  mail::v1::ServiceName service_sent;
  std::string node_sent;
  std::vector<std::string> rows;
};

TEST_F(ServiceCmdletsTest, GetServiceNamesAliasesAndWildcards) {
  const GetCase cases[] = {
      {"Get-Service",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "",
       {"IMAP4@cas01", "POP3@cas01", "IMAP4@cas02", "POP3@cas02", "SMTP@edge01"}},
      {"Get-Service *",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "",
       {"IMAP4@cas01", "POP3@cas01", "IMAP4@cas02", "POP3@cas02", "SMTP@edge01"}},
      {"Get-Service POP3", mail::v1::SERVICE_NAME_POP3, "", {"POP3@cas01", "POP3@cas02"}},
      {"Get-Service -Name pop3", mail::v1::SERVICE_NAME_POP3, "", {"POP3@cas01", "POP3@cas02"}},
      {"Get-Service MSExchangePOP3", mail::v1::SERVICE_NAME_POP3, "", {"POP3@cas01", "POP3@cas02"}},
      {"Get-Service msexchangeimap4",
       mail::v1::SERVICE_NAME_IMAP4,
       "",
       {"IMAP4@cas01", "IMAP4@cas02"}},
      {"Get-Service MSExchangeTransport", mail::v1::SERVICE_NAME_SMTP, "", {"SMTP@edge01"}},
      {"Get-Service MSExchangeFrontEndTransport", mail::v1::SERVICE_NAME_SMTP, "", {"SMTP@edge01"}},
      {"Get-Service -ServiceName SMTP", mail::v1::SERVICE_NAME_SMTP, "", {"SMTP@edge01"}},
      {"Get-Service POP3,MSExchangePOP3",
       mail::v1::SERVICE_NAME_POP3,
       "",
       {"POP3@cas01", "POP3@cas02"}},
      {"Get-Service POP3,SMTP",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "",
       {"POP3@cas01", "POP3@cas02", "SMTP@edge01"}},
      {"Get-Service MSExchange*",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "",
       {"IMAP4@cas01", "POP3@cas01", "IMAP4@cas02", "POP3@cas02", "SMTP@edge01"}},
      {"Get-Service *Transport", mail::v1::SERVICE_NAME_UNSPECIFIED, "", {"SMTP@edge01"}},
      {"Get-Service I*", mail::v1::SERVICE_NAME_UNSPECIFIED, "", {"IMAP4@cas01", "IMAP4@cas02"}},
      {"Get-Service Nothing*", mail::v1::SERVICE_NAME_UNSPECIFIED, "", {}},
      {"Get-Service -Server cas01",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "cas01",
       {"IMAP4@cas01", "POP3@cas01"}},
      {"Get-Service IMAP4 -ComputerName CAS02",
       mail::v1::SERVICE_NAME_IMAP4,
       "CAS02",
       {"IMAP4@cas02"}},
      {"Get-Service -Server cas*",
       mail::v1::SERVICE_NAME_UNSPECIFIED,
       "",
       {"IMAP4@cas01", "POP3@cas01", "IMAP4@cas02", "POP3@cas02"}},
      {"Get-Service POP3 -Server *02", mail::v1::SERVICE_NAME_POP3, "", {"POP3@cas02"}},
  };
  for (const GetCase& c : cases) {
    ClearRequests();
    EXPECT_EQ(Rows(c.line), c.rows) << c.line;
    const auto gets = Gets();
    ASSERT_EQ(gets.size(), 1u) << c.line;
    EXPECT_EQ(gets[0].service(), c.service_sent) << c.line;
    EXPECT_EQ(gets[0].node(), c.node_sent) << c.line;
    EXPECT_TRUE(Sets().empty()) << c.line;
  }
}

TEST_F(ServiceCmdletsTest, GetServiceUnknownNameIsRefusedBeforeAsking) {
  Outcome o = Run("Get-Service Spooler");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-Service: Cannot find any service with service name 'Spooler'. The services are "
            "POP3, IMAP4 and SMTP (MSExchangePOP3, MSExchangeIMAP4, MSExchangeTransport and "
            "MSExchangeFrontEndTransport name them too).\n");
  EXPECT_TRUE(Gets().empty());
  o = Run("Get-Service ''");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Service: Cannot validate argument on parameter 'Name'. The argument is null or "
            "empty. Provide an argument that is not null or empty, and then try the command "
            "again.\n");
  o = Run("Get-Service @{Add='POP3'}");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Service: -Name takes service names or wildcards such as POP3,IMAP4 or "
            "MSExchange*, not @{...}.\n");
  EXPECT_TRUE(Gets().empty());
}

TEST_F(ServiceCmdletsTest, GetServiceNamedButNotRunAnywhere) {
  Outcome o = Run("Get-Service POP3 -Server edge01");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-Service: Cannot find any service with service name 'POP3' on node 'edge01'.\n");
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.nodes.pop_back();  // No transportd node.
  }
  o = Run("Get-Service MSExchangeTransport");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Service: Cannot find any service with service name 'MSExchangeTransport': no "
            "node that runs it has registered with the mailbox store at " +
                endpoint_ + ".\n");
  // Some of the names found: the rows, and a warning for the others.
  o = Run("Get-Service POP3,SMTP | ft Name,MachineName");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(RowsOf(o.out), (std::vector<std::string>{"POP3@cas01", "POP3@cas02"}));
  EXPECT_EQ(o.err, "WARNING: Cannot find any service with service name 'SMTP'.\n");
}

TEST_F(ServiceCmdletsTest, GetServiceUnknownNode) {
  Outcome o = Run("Get-Service -Server cas09");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-Service: Cannot find node 'cas09': no such node has registered with the "
            "mailbox store at " +
                endpoint_ + ". Get-Service without -Server lists the nodes.\n");
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.fail_with = grpc::Status(grpc::StatusCode::NOT_FOUND, "no node named cas09");
  }
  EXPECT_EQ(Run("Get-Service POP3 -Server cas09").err, o.err);
}

TEST_F(ServiceCmdletsTest, NoNodeRegisteredWarns) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.nodes.clear();
  }
  Outcome o = Run("Get-Service");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "WARNING: No casd or transportd node has registered with the mailbox store at " +
                       endpoint_ + "; a node registers when it starts.\n");
}

// ---------------------------------------------------------------------------------------------
// Start-Service, Stop-Service, Restart-Service, Set-Service: what is sent

struct ActionCase {
  std::string line;
  SetServiceRequest sent;
};

TEST_F(ServiceCmdletsTest, EachCmdletSendsOneExactRequest) {
  using mail::v1::SERVICE_ACTION_RESTART;
  using mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE;
  using mail::v1::SERVICE_ACTION_START;
  using mail::v1::SERVICE_ACTION_STOP;
  using mail::v1::SERVICE_NAME_IMAP4;
  using mail::v1::SERVICE_NAME_POP3;
  using mail::v1::SERVICE_NAME_SMTP;
  const ActionCase cases[] = {
      {"Start-Service POP3", Request(SERVICE_NAME_POP3, "", SERVICE_ACTION_START)},
      {"Start-Service -Name msexchangepop3", Request(SERVICE_NAME_POP3, "", SERVICE_ACTION_START)},
      {"sasv MSExchangeIMAP4 -Server cas01",
       Request(SERVICE_NAME_IMAP4, "cas01", SERVICE_ACTION_START)},
      {"Stop-Service POP3", Request(SERVICE_NAME_POP3, "", SERVICE_ACTION_STOP)},
      {"Stop-Service -Name imap4 -Server cas02",
       Request(SERVICE_NAME_IMAP4, "cas02", SERVICE_ACTION_STOP)},
      {"spsv MSExchangeFrontEndTransport -ComputerName edge01",
       Request(SERVICE_NAME_SMTP, "edge01", SERVICE_ACTION_STOP)},
      {"Restart-Service MSExchangeTransport",
       Request(SERVICE_NAME_SMTP, "", SERVICE_ACTION_RESTART)},
      {"Restart-Service -ServiceName Imap4 -Server cas01",
       Request(SERVICE_NAME_IMAP4, "cas01", SERVICE_ACTION_RESTART)},
      {"Set-Service POP3 -StartupType Manual",
       Request(SERVICE_NAME_POP3, "", SERVICE_ACTION_SET_STARTUP_TYPE,
               mail::v1::STARTUP_TYPE_MANUAL)},
      {"Set-Service -Name SMTP -StartupType disabled -Server edge01",
       Request(SERVICE_NAME_SMTP, "edge01", SERVICE_ACTION_SET_STARTUP_TYPE,
               mail::v1::STARTUP_TYPE_DISABLED)},
      {"Set-Service MSExchangeIMAP4 -StartType Automatic",
       Request(SERVICE_NAME_IMAP4, "", SERVICE_ACTION_SET_STARTUP_TYPE,
               mail::v1::STARTUP_TYPE_AUTOMATIC)},
      {"Set-Service imap4 -StartMode MANUAL -Server cas01",
       Request(SERVICE_NAME_IMAP4, "cas01", SERVICE_ACTION_SET_STARTUP_TYPE,
               mail::v1::STARTUP_TYPE_MANUAL)},
  };
  for (const ActionCase& c : cases) {
    ClearRequests();
    Outcome o = Run(c.line);
    EXPECT_TRUE(o.ok) << c.line << "\n" << o.err;
    EXPECT_EQ(o.out, "") << c.line;  // Nothing on success, as in PowerShell.
    const auto sets = Sets();
    ASSERT_EQ(sets.size(), 1u) << c.line;
    EXPECT_TRUE(MessageDifferencer::Equals(sets[0], c.sent))
        << c.line << "\nsent: " << sets[0].ShortDebugString()
        << "\nwant: " << c.sent.ShortDebugString();
    EXPECT_TRUE(Gets().empty()) << c.line;
  }
}

TEST_F(ServiceCmdletsTest, ActionsChangeTheDesiredState) {
  Outcome o = Run("Stop-Service IMAP4 -Server cas01");
  ASSERT_TRUE(o.ok) << o.err;
  o = Run("Set-Service POP3 -StartupType Disabled -Server cas02");
  ASSERT_TRUE(o.ok) << o.err;
  o = Run("Get-Service -Server cas0* | ft Name,MachineName,DesiredStatus,StartType");
  EXPECT_EQ(o.out,
            "\n"
            "Name  MachineName DesiredStatus StartType\n"
            "----  ----------- ------------- ---------\n"
            "IMAP4 cas01       Stopped       Automatic\n"
            "POP3  cas01       Running       Automatic\n"
            "IMAP4 cas02       Running       Automatic\n"
            "POP3  cas02       Stopped       Disabled\n"
            "\n");
}

TEST_F(ServiceCmdletsTest, WhatIfSendsNothing) {
  const std::pair<std::string, std::string> cases[] = {
      {"Stop-Service POP3 -WhatIf",
       "What if: Performing the operation \"Stop-Service\" on target \"POP3 (casd) (POP3)\".\n"},
      {"Start-Service MSExchangeIMAP4 -WhatIf",
       "What if: Performing the operation \"Start-Service\" on target \"IMAP4 (casd) "
       "(IMAP4)\".\n"},
      {"Restart-Service MSExchangeTransport -Server edge01 -WhatIf",
       "What if: Performing the operation \"Restart-Service\" on target \"SMTP (transportd) "
       "(SMTP) on node edge01\".\n"},
      {"Set-Service pop3 -StartupType Disabled -WhatIf",
       "What if: Performing the operation \"Set-Service\" on target \"POP3 (casd) (POP3)\".\n"},
      {"Stop-Service POP3 -WhatIf -PassThru",
       "What if: Performing the operation \"Stop-Service\" on target \"POP3 (casd) (POP3)\".\n"},
  };
  for (const auto& [line, text] : cases) {
    Outcome o = Run(line);
    EXPECT_TRUE(o.ok) << line << "\n" << o.err;
    EXPECT_EQ(o.out, text) << line;
    EXPECT_EQ(o.err, "") << line;
    EXPECT_TRUE(Sets().empty()) << line;
    EXPECT_TRUE(Gets().empty()) << line;
  }
}

TEST_F(ServiceCmdletsTest, PassThruShowsTheResultingRows) {
  Outcome o = Run("Stop-Service POP3 -PassThru");
  EXPECT_TRUE(o.ok) << o.err;
  // Status is as last reported; the nodes stop POP3 at their next heartbeat.
  EXPECT_EQ(o.out,
            "\n"
            "Status  Name DisplayName MachineName StartType\n"
            "------  ---- ----------- ----------- ---------\n"
            "Running POP3 POP3 (casd) cas01       Automatic\n"
            "Stopped POP3 POP3 (casd) cas02       Manual\n"
            "\n");
  o =
      Run("Set-Service IMAP4 -StartupType Manual -Server cas02 -PassThru | fl Name,MachineName,"
          "StartType");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name        : IMAP4\n"
            "MachineName : cas02\n"
            "StartType   : Manual\n"
            "\n");
  o = Run("Restart-Service POP3 -Server cas01 -PassThru | fl DesiredStatus");
  EXPECT_EQ(o.out, "\nDesiredStatus : Running\n\n");
  EXPECT_EQ(fake_.State("cas01", mail::v1::SERVICE_NAME_POP3)->restart_generation(), 1u);
}

TEST_F(ServiceCmdletsTest, NamesRefusedBeforeSending) {
  for (const std::string cmdlet : {"Start-Service", "Stop-Service", "Restart-Service"}) {
    EXPECT_EQ(Refused(cmdlet + " POP*"),
              cmdlet + ": Wildcard characters are not allowed in -Name: " + cmdlet +
                  " acts on one service, POP3, IMAP4 or SMTP. To act on several, pipe them in: "
                  "Get-Service 'POP*' | " +
                  cmdlet + ".\n");
    EXPECT_EQ(Refused(cmdlet + " *"),
              cmdlet + ": Wildcard characters are not allowed in -Name: " + cmdlet +
                  " acts on one service, POP3, IMAP4 or SMTP. To act on several, pipe them in: "
                  "Get-Service '*' | " +
                  cmdlet + ".\n");
    EXPECT_EQ(Refused(cmdlet + " Spooler"),
              cmdlet +
                  ": Cannot find any service with service name 'Spooler'. The services are "
                  "POP3, IMAP4 and SMTP (MSExchangePOP3, MSExchangeIMAP4, "
                  "MSExchangeTransport and MSExchangeFrontEndTransport name them too).\n");
    EXPECT_EQ(Refused(cmdlet + " ''"),
              cmdlet +
                  ": Cannot bind argument to parameter 'Name' because it is an empty "
                  "string.\n");
    EXPECT_EQ(Refused(cmdlet + " POP3 -Server ''"),
              cmdlet +
                  ": Cannot validate argument on parameter 'Server'. The argument is null "
                  "or empty. Provide an argument that is not null or empty, and then try "
                  "the command again.\n");
    EXPECT_EQ(Refused(cmdlet + " POP3 -Server cas*"),
              cmdlet +
                  ": Wildcard characters are not allowed in -Server: give one node name, "
                  "or none for every node.\n");
    EXPECT_EQ(Refused(cmdlet),
              cmdlet +
                  ": Cannot process command because of one or more missing mandatory "
                  "parameters: Name.\n");
  }
  EXPECT_EQ(Refused("Set-Service POP3* -StartupType Manual"),
            "Set-Service: Wildcard characters are not allowed in -Name: Set-Service acts on one "
            "service, POP3, IMAP4 or SMTP. To act on several, pipe them in: Get-Service 'POP3*' "
            "| Set-Service.\n");
  EXPECT_EQ(Refused("Set-Service POP3 -StartupType Boot"),
            "Set-Service: Cannot bind parameter 'StartupType'. Cannot convert value \"Boot\" to "
            "type \"System.ServiceProcess.ServiceStartMode\". Error: \"Unable to match the "
            "identifier name Boot to a valid enumerator name. Specify one of the following "
            "enumerator names and try again: Automatic, Manual, Disabled\"\n");
  EXPECT_EQ(Refused("Set-Service POP3"),
            "Set-Service: Cannot process command because of one or more missing mandatory "
            "parameters: StartupType.\n");
}

// ---------------------------------------------------------------------------------------------
// Errors from the store

TEST_F(ServiceCmdletsTest, StartingADisabledServiceFailsInPowerShellShape) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.State("cas01", mail::v1::SERVICE_NAME_POP3)
        ->set_startup_type(mail::v1::STARTUP_TYPE_DISABLED);
  }
  Outcome o = Run("Start-Service POP3");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Start-Service: Service 'POP3 (casd) (POP3)' cannot be started due to the following "
            "error: the service is disabled (Set-Service -StartupType).\n");
  o = Run("Restart-Service MSExchangePOP3 -Server cas01");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Restart-Service: Service 'POP3 (casd) (POP3)' cannot be restarted on node 'cas01' "
            "due to the following error: the service is disabled (Set-Service -StartupType).\n");
  // The store's text gets a final period when it has none.
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.disabled_message = "POP3 is disabled on cas01";
  }
  o = Run("Start-Service POP3");
  EXPECT_EQ(o.err,
            "Start-Service: Service 'POP3 (casd) (POP3)' cannot be started due to the following "
            "error: POP3 is disabled on cas01.\n");
  // Stopping it is fine.
  o = Run("Stop-Service POP3");
  EXPECT_TRUE(o.ok) << o.err;
}

TEST_F(ServiceCmdletsTest, ExitCodeThroughTheProgram) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.State("cas02", mail::v1::SERVICE_NAME_POP3)
        ->set_startup_type(mail::v1::STARTUP_TYPE_DISABLED);
  }
  // The program's own connection, so that its Control stub is the one used.
  Options options;
  options.mode = Options::Mode::kLine;
  options.endpoint = endpoint_;
  options.transport_endpoint = endpoint_;
  options.line = "Start-Service POP3 -Server cas02";
  std::ostringstream out, err;
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            "Start-Service: Service 'POP3 (casd) (POP3)' cannot be started on node 'cas02' due "
            "to the following error: the service is disabled (Set-Service -StartupType).\n");
  options.line = "Stop-Service POP3 -Server cas02";
  std::ostringstream out2, err2;
  EXPECT_EQ(RunAdminctl(options, out2, err2, terminal_), kExitOk) << err2.str();
  EXPECT_EQ(out2.str(), "");
  EXPECT_EQ(Sets().size(), 2u);
}

TEST_F(ServiceCmdletsTest, UnknownNodeAndOtherFailures) {
  Outcome o = Run("Stop-Service POP3 -Server cas09");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Stop-Service: Cannot find node 'cas09': no such node has registered with the "
            "mailbox store at " +
                endpoint_ + ". Get-Service without -Server lists the nodes.\n");
  struct FailureCase {
    grpc::Status status;
    std::string err;
  };
  const FailureCase cases[] = {
      {grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""),
       "Set-Service: The mailbox store at " + endpoint_ +
           " does not serve service control (mail.v1.Control); upgrade it.\n"},
      {grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "startup_type out of range"),
       "Set-Service: Service 'POP3 (casd) (POP3)' cannot be configured due to the following "
       "error: startup_type out of range.\n"},
      {grpc::Status(grpc::StatusCode::NOT_FOUND, ""),
       "Set-Service: Cannot find any service with service name 'POP3'.\n"},
      {grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin endpoint only"),
       "Set-Service: Access denied by the mailbox store at " + endpoint_ +
           ": admin endpoint only\n"},
  };
  for (const FailureCase& c : cases) {
    {
      std::lock_guard<std::mutex> lock(fake_.mu);
      fake_.fail_with = c.status;
    }
    o = Run("Set-Service POP3 -StartupType Manual");
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, c.err);
  }
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.fail_with = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  }
  o = Run("Get-Service");
  EXPECT_EQ(o.err, "Get-Service: The mailbox store at " + endpoint_ +
                       " does not serve service control (mail.v1.Control); upgrade it.\n");
}

TEST_F(ServiceCmdletsTest, StoppedServerIsUnavailable) {
  server_->Shutdown();
  Outcome o = Run("Stop-Service POP3");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(
      o.err.rfind("Stop-Service: Cannot connect to the mailbox store at " + endpoint_ + ": ", 0),
      0u)
      << o.err;
}

// ---------------------------------------------------------------------------------------------
// Warnings

TEST_F(ServiceCmdletsTest, WarnsWhenANodeIsUnreachable) {
  Outcome o = Run("Restart-Service SMTP");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "WARNING: Node 'edge01' is Unreachable (it has missed its heartbeats); SMTP there "
            "changes when the node heartbeats again.\n");
  o = Run("Restart-Service IMAP4");
  EXPECT_EQ(o.err, "");
}

TEST_F(ServiceCmdletsTest, WarnsThatDisabledDoesNotStopARunningService) {
  Outcome o = Run("Set-Service IMAP4 -StartupType Disabled -Server cas01");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: IMAP4 is Disabled but still running; Disabled only keeps it from being "
            "started. To stop it too: Stop-Service IMAP4 -Server cas01.\n");
  // cas02's POP3 is stopped already.
  o = Run("Set-Service POP3 -StartupType Disabled -Server cas02");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  o = Run("Set-Service POP3 -StartupType Manual");
  EXPECT_EQ(o.err, "");
}

// ---------------------------------------------------------------------------------------------
// The pipeline

TEST_F(ServiceCmdletsTest, GetServicePipedIntoStopServiceActsPerNode) {
  Outcome o = Run("Get-Service POP3 | Stop-Service");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  auto sets = Sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_TRUE(MessageDifferencer::Equals(
      sets[0], Request(mail::v1::SERVICE_NAME_POP3, "cas01", mail::v1::SERVICE_ACTION_STOP)))
      << sets[0].ShortDebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(
      sets[1], Request(mail::v1::SERVICE_NAME_POP3, "cas02", mail::v1::SERVICE_ACTION_STOP)))
      << sets[1].ShortDebugString();

  ClearRequests();
  o = Run("Get-Service -Server cas02 | Restart-Service -PassThru | ft Name,MachineName");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(RowsOf(o.out), (std::vector<std::string>{"IMAP4@cas02", "POP3@cas02"}));
  sets = Sets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].service(), mail::v1::SERVICE_NAME_IMAP4);
  EXPECT_EQ(sets[1].service(), mail::v1::SERVICE_NAME_POP3);
  for (const SetServiceRequest& r : sets) {
    EXPECT_EQ(r.node(), "cas02");
    EXPECT_EQ(r.action(), mail::v1::SERVICE_ACTION_RESTART);
  }

  // -Server on the command line wins over the piped row's node.
  ClearRequests();
  o = Run("Get-Service IMAP4 -Server cas01 | Set-Service -StartupType Manual -Server cas02");
  EXPECT_TRUE(o.ok) << o.err;
  sets = Sets();
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_TRUE(MessageDifferencer::Equals(
      sets[0], Request(mail::v1::SERVICE_NAME_IMAP4, "cas02",
                       mail::v1::SERVICE_ACTION_SET_STARTUP_TYPE, mail::v1::STARTUP_TYPE_MANUAL)))
      << sets[0].ShortDebugString();
}

TEST_F(ServiceCmdletsTest, PipedWhatIfNamesEachRow) {
  Outcome o = Run("Get-Service MSExchange* | Stop-Service -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Stop-Service\" on target \"IMAP4 (casd) (IMAP4) "
            "on node cas01\".\n"
            "What if: Performing the operation \"Stop-Service\" on target \"POP3 (casd) (POP3) "
            "on node cas01\".\n"
            "What if: Performing the operation \"Stop-Service\" on target \"IMAP4 (casd) (IMAP4) "
            "on node cas02\".\n"
            "What if: Performing the operation \"Stop-Service\" on target \"POP3 (casd) (POP3) "
            "on node cas02\".\n"
            "What if: Performing the operation \"Stop-Service\" on target \"SMTP (transportd) "
            "(SMTP) on node edge01\".\n");
  EXPECT_TRUE(Sets().empty());
}

TEST_F(ServiceCmdletsTest, PipedFailureDoesNotStopTheOthers) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.State("cas01", mail::v1::SERVICE_NAME_POP3)
        ->set_startup_type(mail::v1::STARTUP_TYPE_DISABLED);
  }
  Outcome o = Run("Get-Service POP3 | Start-Service");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Start-Service: Service 'POP3 (casd) (POP3)' cannot be started on node 'cas01' due "
            "to the following error: the service is disabled (Set-Service -StartupType).\n");
  EXPECT_EQ(Sets().size(), 2u);
  EXPECT_TRUE(fake_.State("cas02", mail::v1::SERVICE_NAME_POP3)->want_running());
}

// ---------------------------------------------------------------------------------------------
// Help

TEST(ServiceHelpTest, EveryParameterIsDescribedAndPagesFit) {
  const CmdletRegistry registry = DefaultRegistry();
  for (const char* name :
       {"Get-Service", "Start-Service", "Stop-Service", "Restart-Service", "Set-Service"}) {
    const Cmdlet* cmdlet = registry.Find(name);
    ASSERT_NE(cmdlet, nullptr) << name;
    const CmdletHelp* help = FindCmdletHelp(name);
    ASSERT_NE(help, nullptr) << name;
    EXPECT_FALSE(help->examples.empty()) << name;
    EXPECT_LE(help->synopsis.size(), kMaxSynopsis) << name;
    for (const parser::ParameterSpec& spec : cmdlet->schema.parameters) {
      EXPECT_NE(help->FindParameter(spec.name), nullptr) << name << " -" << spec.name;
    }
    std::istringstream page(RenderHelp(*cmdlet, true));
    for (std::string line; std::getline(page, line);) {
      if (line.rfind("    [PS] casmail> ", 0) == 0) continue;
      EXPECT_LE(line.size(), kHelpWidth) << name << ": " << line;
    }
  }
}

TEST(ServiceHelpTest, StartupTypeExplainsEveryValue) {
  const CmdletHelp* help = FindCmdletHelp("Set-Service");
  ASSERT_NE(help, nullptr);
  const ParameterHelp* p = help->FindParameter("StartupType");
  ASSERT_NE(p, nullptr);
  for (const char* value : {"Automatic", "Manual", "Disabled"}) {
    EXPECT_NE(p->description.find("  " + std::string(value) + ":"), std::string::npos) << value;
  }
}

TEST(ServiceHelpTest, AliasesFindTheCmdlets) {
  const CmdletRegistry registry = DefaultRegistry();
  EXPECT_EQ(registry.Find("gsv")->schema.name, "Get-Service");
  EXPECT_EQ(registry.Find("sasv")->schema.name, "Start-Service");
  EXPECT_EQ(registry.Find("spsv")->schema.name, "Stop-Service");
  EXPECT_EQ(SyntaxText(registry.Find("Set-Service")->schema, 1000),
            "Set-Service [-Name] {POP3 | IMAP4 | SMTP} -StartupType {Automatic | Manual | "
            "Disabled} [-Server <String>] [-PassThru] [-WhatIf]");
}

}  // namespace
}  // namespace adminctl
