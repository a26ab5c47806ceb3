// Add-RecipientPermission, Get-RecipientPermission and Remove-RecipientPermission end to end
// through the runner, against the in-process fake mail.v1.Directory server (fake_directory.h):
// the UpdateMailbox requests sent (add_send_as / remove_send_as on the trustee), the rows listed
// from every mailbox's send_as, confirmation, and errors.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl {
namespace {

using test::Outcome;

template <typename T>
std::vector<std::string> Strings(const T& repeated) {
  return std::vector<std::string>(repeated.begin(), repeated.end());
}

class RecipientPermissionCmdletsTest : public test::DirectoryCmdletsTest {
 protected:
  void SetUp() override {
    DirectoryCmdletsTest::SetUp();
    fake_.Add("alice");
    fake_.Add("bob");
    fake_.Add("helpdesk");
  }

  void SetSendAs(const std::string& name, std::vector<std::string> addresses) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    mail::v1::Mailbox& m = fake_.mailboxes[name];
    m.clear_send_as();
    for (const std::string& a : addresses) m.add_send_as(a);
  }

  std::vector<std::string> SendAsOf(const std::string& name) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return Strings(fake_.mailboxes[name].send_as());
  }

  std::vector<mail::v1::UpdateMailboxRequest> Updates() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.updates;
  }
};

TEST_F(RecipientPermissionCmdletsTest, AddGrantsSendAsToTheTrustee) {
  Outcome o =
      Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Identity Trustee          AccessControlType AccessRights\n"
            "-------- -------          ----------------- ------------\n"
            "helpdesk bob@example.test Allow             {SendAs}\n"
            "\n");
  const std::vector<mail::v1::UpdateMailboxRequest> updates = Updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].identity(), "bob");
  EXPECT_EQ(Strings(updates[0].update().add_send_as()),
            std::vector<std::string>{"helpdesk@example.test"});
  EXPECT_TRUE(updates[0].update().remove_send_as().empty());
  EXPECT_FALSE(updates[0].update().has_name());
  EXPECT_EQ(SendAsOf("bob"), std::vector<std::string>{"helpdesk@example.test"});
  EXPECT_TRUE(SendAsOf("helpdesk").empty());
  EXPECT_EQ(fake_.authorization.back(), "Bearer s3cret-token");
}

TEST_F(RecipientPermissionCmdletsTest, IdentitiesByAddressAndPipeline) {
  Outcome o =
      Run("Add-RecipientPermission -Identity helpdesk@example.test -Trustee "
          "alice@example.test -AccessRights sendas -Confirm:$false | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity          : helpdesk\n"
            "Trustee           : alice@example.test\n"
            "AccessControlType : Allow\n"
            "AccessRights      : {SendAs}\n"
            "IsInherited       : False\n"
            "InheritanceType   : None\n"
            "\n");
  EXPECT_EQ(SendAsOf("alice"), std::vector<std::string>{"helpdesk@example.test"});

  o =
      Run("Get-Mailbox helpdesk | Add-RecipientPermission -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(SendAsOf("bob"), std::vector<std::string>{"helpdesk@example.test"});
}

TEST_F(RecipientPermissionCmdletsTest, AddAsksForConfirmation) {
  Outcome o = Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Add-RecipientPermission: Adding recipient permission 'SendAs' for user 'bob' on "
            "recipient 'helpdesk' needs confirmation, but standard input is not a terminal, so "
            "adminctl cannot ask. Add -Confirm:$false to do it without a prompt.\n");
  EXPECT_TRUE(Updates().empty());

  terminal_.interactive = true;
  terminal_.answers = {"no"};
  o = Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_TRUE(Updates().empty());
  ASSERT_EQ(terminal_.prompts.size(), 1u);
  EXPECT_EQ(terminal_.prompts[0],
            "\nConfirm\nAre you sure you want to perform this action?\nAdding recipient "
            "permission 'SendAs' for user 'bob' on recipient 'helpdesk'.\n[Y] Yes  [N] No  "
            "(default is \"N\"): ");

  terminal_.answers = {"Y"};
  o = Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Updates().size(), 1u);
  EXPECT_EQ(SendAsOf("bob"), std::vector<std::string>{"helpdesk@example.test"});
}

TEST_F(RecipientPermissionCmdletsTest, AddWhatIsThereAlreadyOrToItselfSendsNothing) {
  SetSendAs("bob", {"helpdesk@example.test"});
  Outcome o =
      Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "WARNING: 'bob' already has the SendAs permission on 'helpdesk'.\n");
  EXPECT_NE(o.out.find("helpdesk bob@example.test"), std::string::npos);
  o = Run("Add-RecipientPermission bob -Trustee bob -AccessRights SendAs -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "WARNING: 'bob' can always send as its own addresses; nothing was added.\n");
  EXPECT_TRUE(Updates().empty());
}

TEST_F(RecipientPermissionCmdletsTest, GetListsEverySendAsGrant) {
  SetSendAs("alice", {"helpdesk@example.test", "bob@example.test", "old@example.test"});
  SetSendAs("bob", {"helpdesk@example.test"});
  Outcome o = Run("Get-RecipientPermission");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Identity         Trustee            AccessControlType AccessRights\n"
            "--------         -------            ----------------- ------------\n"
            "helpdesk         alice@example.test Allow             {SendAs}\n"
            "bob              alice@example.test Allow             {SendAs}\n"
            "old@example.test alice@example.test Allow             {SendAs}\n"
            "helpdesk         bob@example.test   Allow             {SendAs}\n"
            "\n");

  struct Case {
    std::string parameters;
    std::vector<std::string> rows;  // "Identity Trustee".
  };
  for (const Case& c : std::vector<Case>{
           {"helpdesk", {"helpdesk alice@example.test", "helpdesk bob@example.test"}},
           {"-Identity bob@example.test", {"bob alice@example.test"}},
           {"-Trustee bob", {"helpdesk bob@example.test"}},
           // An address no mailbox has any more is shown as it is.
           {"-Trustee alice -AccessRights SendAs",
            {"helpdesk alice@example.test", "bob alice@example.test",
             "old@example.test alice@example.test"}},
           {"helpdesk -Trustee alice", {"helpdesk alice@example.test"}},
           {"alice", {}},
           {"-Trustee helpdesk", {}},
       }) {
    o = Run("Get-RecipientPermission " + c.parameters + " | Format-Table Identity,Trustee");
    EXPECT_TRUE(o.ok) << c.parameters << ": " << o.err;
    std::vector<std::string> rows;
    size_t start = 0;
    int line = 0;
    while (start < o.out.size()) {
      size_t end = o.out.find('\n', start);
      std::string text = o.out.substr(start, end - start);
      if (line >= 3 && !text.empty()) {
        // Collapse the column padding.
        std::string row;
        for (char ch : text) {
          if (ch == ' ' && !row.empty() && row.back() == ' ') continue;
          row += ch;
        }
        rows.push_back(row);
      }
      ++line;
      start = end + 1;
    }
    EXPECT_EQ(rows, c.rows) << c.parameters << "\n" << o.out;
  }
}

TEST_F(RecipientPermissionCmdletsTest, RemoveTakesTheGrantAway) {
  SetSendAs("bob", {"helpdesk@example.test", "alice@example.test"});
  Outcome o =
      Run("Remove-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  const std::vector<mail::v1::UpdateMailboxRequest> updates = Updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].identity(), "bob");
  EXPECT_EQ(Strings(updates[0].update().remove_send_as()),
            std::vector<std::string>{"helpdesk@example.test"});
  EXPECT_TRUE(updates[0].update().add_send_as().empty());
  EXPECT_EQ(SendAsOf("bob"), std::vector<std::string>{"alice@example.test"});

  o =
      Run("Remove-RecipientPermission helpdesk -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: The recipient permission 'SendAs' for 'bob' on recipient 'helpdesk' "
            "doesn't exist.\n");
  EXPECT_EQ(Updates().size(), 1u);

  EXPECT_FALSE(Run("Remove-RecipientPermission alice -Trustee bob -AccessRights SendAs").ok);
  EXPECT_EQ(Updates().size(), 1u);
}

TEST_F(RecipientPermissionCmdletsTest, Errors) {
  Outcome o =
      Run("Add-RecipientPermission zed -Trustee bob -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Add-RecipientPermission: The operation couldn't be performed because object 'zed' "
            "couldn't be found.\n");
  o =
      Run("Remove-RecipientPermission helpdesk -Trustee zed -AccessRights SendAs "
          "-Confirm:$false");
  EXPECT_EQ(o.err,
            "Remove-RecipientPermission: The operation couldn't be performed because object "
            "'zed' couldn't be found.\n");
  o = Run("Get-RecipientPermission -Trustee zed");
  EXPECT_FALSE(o.ok);
  o =
      Run("Add-RecipientPermission helpdesk -Trustee bob -AccessRights FullAccess "
          "-Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("Unable to match the identifier name FullAccess"), std::string::npos)
      << o.err;
  o = Run("Add-RecipientPermission helpdesk -Trustee bob -Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("missing mandatory parameters: AccessRights"), std::string::npos) << o.err;
  o = Run("Add-RecipientPermission helpdesk -AccessRights SendAs -Confirm:$false");
  EXPECT_NE(o.err.find("missing mandatory parameters: Trustee"), std::string::npos) << o.err;
  EXPECT_TRUE(Updates().empty());

  fake_.fail_with = grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused");
  o = Run("Get-RecipientPermission");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-RecipientPermission: Cannot connect to the mailbox store at " + endpoint_ +
                       ": connection refused\n");
}

}  // namespace
}  // namespace adminctl
