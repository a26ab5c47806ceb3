// Get-Queue, Get-Message, Retry-Queue, Suspend-Queue, Resume-Queue, Suspend-Message,
// Resume-Message and Remove-Message end to end through the runner, against the in-process fake
// of transportd's queue service (fake_queue.h): queue and message identities in every form
// Exchange writes them, the views, the requests sent (next hop, id, with_ndr), confirmation,
// warnings, errors in PowerShell's shape, and the --transport-endpoint option.
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/options.h"
#include "adminctl/queue_identity.h"
#include "tests/adminctl/fake_queue.h"

namespace adminctl {
namespace {

using mail::v1::QueuedMessage;
using test::Outcome;

// ---------------------------------------------------------------------------------------------
// Identities

TEST(QueueIdentityTest, Queues) {
  struct Case {
    const char* text;
    std::optional<QueueIdentity> want;
  };
  for (const Case& c : std::vector<Case>{
           {"mbx01\\relay.example.net:25", QueueIdentity{"mbx01", "relay.example.net:25"}},
           {"relay.example.net:25", QueueIdentity{"", "relay.example.net:25"}},
           {"MBX01\\Mailbox Delivery", QueueIdentity{"MBX01", "Mailbox Delivery"}},
           {"  mbx01 \\ example.org ", QueueIdentity{"mbx01", "example.org"}},
           {"[192.0.2.1]:25", QueueIdentity{"", "[192.0.2.1]:25"}},
           {"", std::nullopt},
           {"mbx01\\", std::nullopt},
           {"\\example.org", std::nullopt},
           {"mbx01\\example.org\\12", std::nullopt},
       }) {
    std::optional<QueueIdentity> got = ParseQueueIdentity(c.text);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.text;
    if (!got) continue;
    EXPECT_EQ(got->server, c.want->server) << c.text;
    EXPECT_EQ(got->next_hop, c.want->next_hop) << c.text;
  }
}

TEST(QueueIdentityTest, Messages) {
  struct Case {
    const char* text;
    std::optional<MessageIdentity> want;
  };
  for (const Case& c : std::vector<Case>{
           {"42", MessageIdentity{"", "", 42}},
           {" 42 ", MessageIdentity{"", "", 42}},
           {"mbx01\\relay.example.net:25\\42",
            MessageIdentity{"mbx01", "relay.example.net:25", 42}},
           {"Mailbox Delivery\\7", MessageIdentity{"", "Mailbox Delivery", 7}},
           {"18446744073709551615", MessageIdentity{"", "", 18446744073709551615ull}},
           {"18446744073709551616", std::nullopt},
           {"0", std::nullopt},
           {"-1", std::nullopt},
           {"4x", std::nullopt},
           {"", std::nullopt},
           {"mbx01\\relay.example.net:25", std::nullopt},
           {"\\42", std::nullopt},
           {"a\\b\\c\\42", std::nullopt},
       }) {
    std::optional<MessageIdentity> got = ParseMessageIdentity(c.text);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.text;
    if (!got) continue;
    EXPECT_EQ(got->server, c.want->server) << c.text;
    EXPECT_EQ(got->next_hop, c.want->next_hop) << c.text;
    EXPECT_EQ(got->id, c.want->id) << c.text;
  }
}

// ---------------------------------------------------------------------------------------------
// The option

TEST(TransportEndpointOptionTest, FlagEnvironmentAndDefault) {
  auto parse = [](const std::vector<std::string>& args, const char* env) {
    Options o;
    EXPECT_EQ(ParseOptions(
                  args,
                  [env](const char* name) -> const char* {
                    return std::string(name) == "MAIL_TRANSPORT_ENDPOINT" ? env : nullptr;
                  },
                  &o),
              "");
    return o;
  };
  EXPECT_EQ(parse({"Get-Queue"}, nullptr).transport_endpoint, "unix:/run/casmail/transportd.sock");
  EXPECT_EQ(parse({"Get-Queue"}, "").transport_endpoint, "unix:/run/casmail/transportd.sock");
  EXPECT_EQ(parse({"Get-Queue"}, "unix:/tmp/t.sock").transport_endpoint, "unix:/tmp/t.sock");
  Options o = parse({"--transport-endpoint", "127.0.0.1:7402", "Get-Queue"}, "unix:/tmp/t.sock");
  EXPECT_EQ(o.transport_endpoint, "127.0.0.1:7402");
  EXPECT_EQ(o.endpoint, "unix:/run/casmail/admin.sock");  // The store's is separate.
  EXPECT_EQ(o.line, "Get-Queue");
  EXPECT_EQ(
      parse({"--transport-endpoint=unix:/x.sock", "-c", "Get-Queue"}, nullptr).transport_endpoint,
      "unix:/x.sock");
  Options bad;
  EXPECT_EQ(ParseOptions(
                {"--transport-endpoint"}, [](const char*) { return nullptr; }, &bad),
            "option --transport-endpoint needs a value");
  EXPECT_EQ(ParseOptions(
                {"--transport-endpoint="}, [](const char*) { return nullptr; }, &bad),
            "the transport endpoint is empty");
  EXPECT_NE(UsageText().find("--transport-endpoint"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Cmdlets

constexpr int64_t kFarFuture = 4102444800;  // 1/1/2100 12:00:00 AM UTC.

class QueueTest : public test::QueueCmdletsTest {
 protected:
  void SetUp() override {
    QueueCmdletsTest::SetUp();
    // 41: to a smart host, failed twice, next attempt later: Retry.
    QueuedMessage m;
    m.set_id(41);
    m.set_sender("alice@example.test");
    auto* bob = m.add_recipients();
    bob->set_address("bob@example.org");
    bob->set_attempts(2);
    bob->set_last_response("451 4.4.1 Connection refused");
    auto* carol = m.add_recipients();
    carol->set_address("carol@example.org");
    carol->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
    carol->set_attempts(1);
    carol->set_last_response("250 2.0.0 OK");
    m.set_next_hop("relay.example.net:25");
    m.set_received_unix(test::kCreated);
    m.set_next_attempt_unix(kFarFuture);
    m.set_expires_unix(test::kCreated + 172800);
    m.set_size(4120);
    m.set_subject("Quarterly report");
    m.set_attempts(2);
    m.set_last_error("451 4.4.1 Connection refused");
    fake_.Add(m);
    // 42: a DSN for local delivery, not tried yet: Ready.
    m.Clear();
    m.set_id(42);
    auto* alice = m.add_recipients();
    alice->set_address("alice@example.test");
    m.set_next_hop("Mailbox Delivery");
    m.set_received_unix(test::kCreated + 60);
    m.set_next_attempt_unix(test::kCreated + 60);
    m.set_expires_unix(test::kCreated + 60 + 172800);
    m.set_size(2048);
    m.set_subject("Undeliverable: Hello");
    fake_.Add(m);
    // 43: suspended, same smart host.
    m.Clear();
    m.set_id(43);
    m.set_sender("carol@example.test");
    m.add_recipients()->set_address("dave@example.net");
    m.set_next_hop("relay.example.net:25");
    m.set_received_unix(test::kCreated + 120);
    m.set_next_attempt_unix(test::kCreated + 120);
    m.set_expires_unix(test::kCreated + 120 + 172800);
    m.set_size(512);
    m.set_subject("Lunch");
    m.set_suspended(true);
    fake_.Add(m);
  }

  std::vector<mail::v1::GetQueuedMessagesRequest> MessageGets() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.message_gets;
  }

  void ClearRequests() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.actions.clear();
    fake_.message_gets.clear();
  }

  bool Suspended(uint64_t id) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.messages.at(id).suspended();
  }

  size_t MessageCount() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.messages.size();
  }
};

TEST_F(QueueTest, GetQueueTable) {
  Outcome o = Run("Get-Queue");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Identity                   DeliveryType          Status MessageCount NextHopDomain  "
            "   LastError\n"
            "--------                   ------------          ------ ------------ -------------  "
            "   ---------\n"
            "mbx01\\Mailbox Delivery     SmtpDeliveryToMailbox Ready  1            Mailbox "
            "Delivery\n"
            "mbx01\\relay.example.net:25 SmtpRelayToSmartHost  Retry  2            "
            "relay.example.net 451 4.4.1 Connection refused\n"
            "\n");
  // transportd is sent no token: its socket's file mode guards it.
  std::lock_guard<std::mutex> lock(fake_.mu);
  for (const std::string& a : fake_.authorization) EXPECT_EQ(a, "");
}

TEST_F(QueueTest, GetQueueByIdentity) {
  Outcome o = Run("Get-Queue mbx01\\relay.example.net:25 | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity      : mbx01\\relay.example.net:25\n"
            "DeliveryType  : SmtpRelayToSmartHost\n"
            "Status        : Retry\n"
            "MessageCount  : 2\n"
            "NextHopDomain : relay.example.net\n"
            "LastError     : 451 4.4.1 Connection refused\n"
            "NextRetryTime : 1/1/2100 12:00:00 AM\n"
            "\n");
  struct Case {
    const char* identity;
    std::vector<std::string> found;
  };
  for (const Case& c : std::vector<Case>{
           {"relay.example.net:25", {"mbx01\\relay.example.net:25"}},
           {"'MBX01\\RELAY.example.net:25'", {"mbx01\\relay.example.net:25"}},
           {"'Mailbox Delivery'", {"mbx01\\Mailbox Delivery"}},
           {"*", {"mbx01\\Mailbox Delivery", "mbx01\\relay.example.net:25"}},
           {"mbx01\\*", {"mbx01\\Mailbox Delivery", "mbx01\\relay.example.net:25"}},
           {"*relay*", {"mbx01\\relay.example.net:25"}},
           {"mbx02\\*", {}},
       }) {
    o = Run(std::string("Get-Queue ") + c.identity + " | Format-List Identity");
    EXPECT_TRUE(o.ok) << c.identity << ": " << o.err;
    std::string want = c.found.empty() ? "" : "\n";
    for (const std::string& f : c.found) want += "Identity : " + f + "\n\n";
    EXPECT_EQ(o.out, want) << c.identity;
  }
  o = Run("Get-Queue mbx02\\relay.example.net:25");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Queue: The operation couldn't be performed because object "
            "'mbx02\\relay.example.net:25' couldn't be found.\n");
  o = Run("Get-Queue example.org");
  EXPECT_EQ(o.err,
            "Get-Queue: The operation couldn't be performed because object 'example.org' "
            "couldn't be found.\n");
  o = Run("Get-Queue 'a\\b\\c'");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Queue: 'a\\b\\c' is not a valid queue identity. Give <server>\\<next hop> or the "
            "next hop, for example mbx01\\relay.example.net:25.\n");
}

TEST_F(QueueTest, GetMessageTableAndList) {
  Outcome o = Run("Get-Message");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Identity                      FromAddress        Status    Size                   "
            "SCL Queue                      MessageSourceName Subject\n"
            "--------                      -----------        ------    ----                   "
            "--- -----                      ----------------- -------\n"
            "mbx01\\relay.example.net:25\\41 alice@example.test Retry     4.023 KB (4,120 bytes) "
            "-1  mbx01\\relay.example.net:25 SMTP              Quarterly report\n"
            "mbx01\\Mailbox Delivery\\42     <>                 Ready     2 KB (2,048 bytes)     "
            "-1  mbx01\\Mailbox Delivery     DSN               Undeliverable: Hello\n"
            "mbx01\\relay.example.net:25\\43 carol@example.test Suspended 512 B (512 bytes)      "
            "-1  mbx01\\relay.example.net:25 SMTP              Lunch\n"
            "\n");
  o = Run("Get-Message 41 | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity          : mbx01\\relay.example.net:25\\41\n"
            "FromAddress       : alice@example.test\n"
            "Status            : Retry\n"
            "Size              : 4.023 KB (4,120 bytes)\n"
            "SCL               : -1\n"
            "Queue             : mbx01\\relay.example.net:25\n"
            "MessageSourceName : SMTP\n"
            "Subject           : Quarterly report\n"
            "Recipients        : {bob@example.org (Retry: 451 4.4.1 Connection refused), "
            "carol@example.org (Delivered: 250 2.0.0 OK)}\n"
            "DateReceived      : 11/26/2024 5:36:12 AM\n"
            "ExpirationTime    : 11/28/2024 5:36:12 AM\n"
            "RetryCount        : 2\n"
            "LastError         : 451 4.4.1 Connection refused\n"
            "NextRetryTime     : 1/1/2100 12:00:00 AM\n"
            "\n");
  o = Run("Get-Message 42 | Format-List Status,Recipients,NextRetryTime,RetryCount");
  EXPECT_EQ(o.out,
            "\n"
            "Status        : Ready\n"
            "Recipients    : {alice@example.test (Ready)}\n"
            "NextRetryTime : 11/26/2024 5:37:12 AM\n"
            "RetryCount    : 0\n"
            "\n");
  o = Run("Get-Message 43 | Format-List Status,NextRetryTime");
  EXPECT_EQ(o.out, "\nStatus        : Suspended\nNextRetryTime :\n\n");
}

TEST_F(QueueTest, MessageWithNoRecipientLeftIsFailed) {
  QueuedMessage m;
  m.set_id(44);
  m.set_sender("alice@example.test");
  auto* r = m.add_recipients();
  r->set_address("nobody@example.org");
  r->set_state(mail::v1::RECIPIENT_STATE_FAILED);
  r->set_attempts(1);
  r->set_last_response("550 5.1.1 User unknown");
  m.set_next_hop("relay.example.net:25");
  m.set_attempts(1);
  fake_.Add(m);
  Outcome o = Run("Get-Message 44 | Format-List Status,Recipients");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Status     : Failed\n"
            "Recipients : {nobody@example.org (Failed: 550 5.1.1 User unknown)}\n"
            "\n");
}

TEST_F(QueueTest, GetMessageIdentityForms) {
  struct Case {
    std::string identity;
    std::string next_hop;  // Sent.
    uint64_t id;
  };
  for (const Case& c : std::vector<Case>{
           {"41", "", 41},
           {"'relay.example.net:25\\41'", "relay.example.net:25", 41},
           {"mbx01\\relay.example.net:25\\41", "relay.example.net:25", 41},
           {"'MBX01\\relay.example.net:25\\41'", "relay.example.net:25", 41},
           {"-Identity 'mbx01\\Mailbox Delivery\\42'", "Mailbox Delivery", 42},
       }) {
    ClearRequests();
    Outcome o = Run("Get-Message " + c.identity + " | Format-List Identity");
    EXPECT_TRUE(o.ok) << c.identity << ": " << o.err;
    std::vector<mail::v1::GetQueuedMessagesRequest> gets = MessageGets();
    ASSERT_EQ(gets.size(), 1u) << c.identity;
    EXPECT_EQ(gets[0].next_hop(), c.next_hop) << c.identity;
    EXPECT_EQ(gets[0].id(), c.id) << c.identity;
  }

  ClearRequests();
  Outcome o = Run("Get-Message 99");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Message: The message 99 wasn't found.\n");
  o = Run("Get-Message 'Mailbox Delivery\\41'");  // 41 is in another queue.
  EXPECT_EQ(o.err, "Get-Message: The message 41 wasn't found.\n");
  EXPECT_EQ(MessageGets().size(), 2u);
  // Message ids are per server: another server's message is not this one's.
  o = Run("Get-Message mbx02\\relay.example.net:25\\41");
  EXPECT_EQ(o.err,
            "Get-Message: The operation couldn't be performed because object "
            "'mbx02\\relay.example.net:25\\41' couldn't be found.\n");
  o = Run("Get-Message mbx01\\relay.example.net:25");
  EXPECT_EQ(o.err,
            "Get-Message: 'mbx01\\relay.example.net:25' is not a valid message identity. Give "
            "<server>\\<next hop>\\<id> or the id, for example mbx01\\relay.example.net:25\\42 or "
            "42.\n");
  EXPECT_FALSE(Run("Get-Message 0").ok);
  EXPECT_EQ(MessageGets().size(), 2u);
}

TEST_F(QueueTest, GetMessageOfAQueue) {
  Outcome o = Run("Get-Message -Queue 'mbx01\\Mailbox Delivery' | Format-List Identity");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nIdentity : mbx01\\Mailbox Delivery\\42\n\n");
  EXPECT_EQ(MessageGets().back().next_hop(), "Mailbox Delivery");
  EXPECT_EQ(MessageGets().back().id(), 0u);

  o = Run("Get-Queue relay.example.net:25 | Get-Message | Format-List Identity");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity : mbx01\\relay.example.net:25\\41\n"
            "\n"
            "Identity : mbx01\\relay.example.net:25\\43\n"
            "\n");

  ClearRequests();
  o = Run("Get-Message -Queue example.org");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Message: The operation couldn't be performed because object 'example.org' "
            "couldn't be found.\n");
  o = Run("Get-Message 41 -Queue relay.example.net:25");
  EXPECT_EQ(o.err,
            "Get-Message: Give -Identity or -Queue, not both: a message identity names its "
            "queue already.\n");
  EXPECT_TRUE(MessageGets().empty());
}

TEST_F(QueueTest, RetryQueue) {
  Outcome o = Run("Retry-Queue");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  std::vector<test::FakeQueue::Action> actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].method, "RetryQueue");
  EXPECT_EQ(actions[0].request.next_hop(), "");  // Every queue.
  EXPECT_EQ(actions[0].request.id(), 0u);

  ClearRequests();
  o = Run("Retry-Queue -Identity mbx01\\relay.example.net:25");
  EXPECT_TRUE(o.ok) << o.err;
  actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].request.next_hop(), "relay.example.net:25");

  ClearRequests();
  o = Run("Get-Queue | Retry-Queue");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Actions().size(), 2u);

  ClearRequests();
  o = Run("Retry-Queue example.org");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Retry-Queue: The operation couldn't be performed because object 'example.org' "
            "couldn't be found.\n");
  EXPECT_TRUE(Actions().empty());
}

TEST_F(QueueTest, SuspendAndResumeQueue) {
  Outcome o = Run("Suspend-Queue relay.example.net:25");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  std::vector<test::FakeQueue::Action> actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].method, "SuspendQueue");
  EXPECT_EQ(actions[0].request.next_hop(), "relay.example.net:25");
  EXPECT_TRUE(Suspended(41));
  o = Run("Get-Queue relay.example.net:25 | Format-List Status");
  EXPECT_EQ(o.out, "\nStatus : Suspended\n\n");

  o = Run("Suspend-Queue relay.example.net:25");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "WARNING: The queue 'relay.example.net:25' is already suspended.\n");
  o = Run("Retry-Queue relay.example.net:25");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: The queue 'relay.example.net:25' is suspended, so nothing was retried. "
            "Resume it with Resume-Queue.\n");

  ClearRequests();
  o = Run("Resume-Queue 'mbx01\\relay.example.net:25'");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].method, "ResumeQueue");
  EXPECT_FALSE(Suspended(41));
  EXPECT_FALSE(Suspended(43));
  o = Run("Resume-Queue 'Mailbox Delivery'");
  EXPECT_EQ(o.err, "WARNING: The queue 'Mailbox Delivery' isn't suspended.\n");

  o = Run("Suspend-Queue");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("missing mandatory parameters: Identity"), std::string::npos) << o.err;
}

TEST_F(QueueTest, SuspendAndResumeMessage) {
  Outcome o = Run("Suspend-Message mbx01\\relay.example.net:25\\41");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  std::vector<test::FakeQueue::Action> actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].method, "SuspendQueue");
  EXPECT_EQ(actions[0].request.id(), 41u);
  EXPECT_EQ(actions[0].request.next_hop(), "relay.example.net:25");
  EXPECT_TRUE(Suspended(41));
  EXPECT_FALSE(Suspended(42));

  o = Run("Suspend-Message 41");
  EXPECT_EQ(o.err, "WARNING: The message '41' is already suspended.\n");
  o = Run("Resume-Message 42");
  EXPECT_EQ(o.err, "WARNING: The message '42' isn't suspended.\n");

  ClearRequests();
  o = Run("Get-Message -Queue relay.example.net:25 | Resume-Message");
  EXPECT_TRUE(o.ok) << o.err;
  actions = Actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].method, "ResumeQueue");
  EXPECT_EQ(actions[0].request.id(), 41u);
  EXPECT_EQ(actions[1].request.id(), 43u);
  EXPECT_FALSE(Suspended(41));
  EXPECT_FALSE(Suspended(43));

  o = Run("Suspend-Message 99");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Suspend-Message: The message 99 wasn't found.\n");
  o = Run("Resume-Message relay.example.net:25");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("is not a valid message identity"), std::string::npos);
}

TEST_F(QueueTest, RemoveMessage) {
  // Without a terminal, -Confirm:$false is needed.
  Outcome o = Run("Remove-Message 41");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Remove-Message: Removing message '41' needs confirmation, but standard input is "
            "not a terminal, so adminctl cannot ask. Add -Confirm:$false to remove it without a "
            "prompt.\n");
  EXPECT_TRUE(Actions().empty());

  o = Run("Remove-Message mbx01\\relay.example.net:25\\41 -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  std::vector<test::FakeQueue::Action> actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].method, "RemoveMessage");
  EXPECT_EQ(actions[0].request.id(), 41u);
  EXPECT_EQ(actions[0].request.next_hop(), "relay.example.net:25");
  EXPECT_TRUE(actions[0].request.with_ndr());  // Exchange's default.
  EXPECT_EQ(MessageCount(), 2u);

  ClearRequests();
  o = Run("Remove-Message 42 -WithNDR $false -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  actions = Actions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_FALSE(actions[0].request.with_ndr());

  ClearRequests();
  terminal_.interactive = true;
  terminal_.answers = {""};
  o = Run("Remove-Message 43 -WithNDR:$true");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_TRUE(Actions().empty());
  ASSERT_EQ(terminal_.prompts.size(), 1u);
  EXPECT_EQ(terminal_.prompts[0],
            "\nConfirm\nAre you sure you want to perform this action?\nRemoving message \"43\", "
            "with a non-delivery report to the sender.\n[Y] Yes  [N] No  (default is \"N\"): ");
  terminal_.answers = {"yes"};
  o = Run("Remove-Message 43 -WithNDR $false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(terminal_.prompts[1],
            "\nConfirm\nAre you sure you want to perform this action?\nRemoving message "
            "\"43\".\n[Y] Yes  [N] No  (default is \"N\"): ");
  EXPECT_EQ(Actions().size(), 1u);
  EXPECT_EQ(MessageCount(), 0u);

  o = Run("Remove-Message 41 -Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Remove-Message: The message 41 wasn't found.\n");
  EXPECT_NE(Run("Remove-Message 41 -WithNDR $null -Confirm:$false").err.find("is null"),
            std::string::npos);
}

TEST_F(QueueTest, RemoveEveryMessageOfAQueueThroughThePipeline) {
  Outcome o =
      Run("Get-Message -Queue relay.example.net:25 | Remove-Message -WithNDR $false "
          "-Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  std::vector<test::FakeQueue::Action> actions = Actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].request.id(), 41u);
  EXPECT_EQ(actions[1].request.id(), 43u);
  EXPECT_EQ(MessageCount(), 1u);
  o = Run("Get-Queue | Format-Table Identity,MessageCount");
  EXPECT_EQ(o.out,
            "\n"
            "Identity               MessageCount\n"
            "--------               ------------\n"
            "mbx01\\Mailbox Delivery 1\n"
            "\n");
}

TEST_F(QueueTest, TransportServiceErrors) {
  fake_.fail_with = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  Outcome o = Run("Get-Queue");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Queue: The service at " + endpoint_ +
                       " does not serve the queue admin API (mail.v1.Queue); give transportd's "
                       "admin socket with --transport-endpoint.\n");
  fake_.fail_with = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "root only");
  o = Run("Retry-Queue");
  EXPECT_EQ(o.err, "Retry-Queue: Access denied by the transport service at " + endpoint_ +
                       ": root only\n");
  fake_.fail_with.reset();

  server_->Shutdown();
  for (const char* line : {"Get-Queue", "Get-Message", "Retry-Queue", "Suspend-Message 41",
                           "Remove-Message 41 -Confirm:$false"}) {
    o = Run(line);
    EXPECT_FALSE(o.ok) << line;
    const std::string cmdlet = std::string(line).substr(0, std::string(line).find(' '));
    EXPECT_EQ(
        o.err.rfind(cmdlet + ": Cannot connect to the transport service at " + endpoint_ + ": ", 0),
        0u)
        << o.err;
  }
}

TEST_F(QueueTest, NoQueueServiceInTheContext) {
  context_.queue = nullptr;
  Outcome o = Run("Get-Queue");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Queue: Internal error: no connection to the transport service.\n");
}

}  // namespace
}  // namespace adminctl
