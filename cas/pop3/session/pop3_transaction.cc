#include "cas/pop3/session/pop3_transaction.h"

#include <algorithm>
#include <map>

#include "cas/pop3/session/pop3_login.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/storage_status.h"

namespace cas::pop3 {
namespace {

// RETR read-ahead budget: at most this many bytes and messages per store call.
constexpr uint64_t kReadAheadBytes = 256 * 1024;
constexpr size_t kReadAheadMessages = 64;

constexpr std::string_view kStoreDown = "The mailbox store is unavailable; try again later.";

struct Entry {
  uint32_t folder_id = 0;
  uint32_t uid = 0;
  uint64_t size = 0;  // What RETR sends before dot-stuffing.
  uint64_t message_id = 0;
  int64_t arrived = 0;
  bool deleted = false;
  bool retrieved = false;
};

std::string FolderNameFor(const std::string& pop_folder) {
  // "Inbox" as Exchange writes it is the IMAP INBOX.
  std::string lower;
  for (char c : pop_folder) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "inbox" ? "INBOX" : pop_folder;
}

class Transaction {
 public:
  Transaction(Pop3Connection& conn, mailboxstore::MailStore& store,
              const mail::v1::Mailbox& mailbox)
      : conn_(conn), store_(store), mailbox_(mailbox) {}

  asio::awaitable<common::Status> Load() {
    std::vector<std::string> folders(mailbox_.pop_folders().begin(), mailbox_.pop_folders().end());
    if (folders.empty()) folders.push_back("INBOX");
    for (const auto& name : folders) {
      mail::v1::FetchRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_name(FolderNameFor(name));
      auto r = co_await store_.Fetch(req);
      if (!r.ok()) {
        if (r.status().code() == common::StatusCode::kNotFound) continue;  // Folder gone.
        co_return r.status();
      }
      uint32_t folder_id = r->folder_id();
      if (folder_id == 0) {
        // A store that does not say which folder it read (an older one).
        mail::v1::GetFolderRequest g;
        g.set_mailbox_id(mailbox_.id());
        g.mutable_folder()->set_name(FolderNameFor(name));
        auto f = co_await store_.GetFolder(g);
        if (!f.ok()) co_return f.status();
        folder_id = f->folder().id();
      }
      for (const auto& m : r->messages()) {
        if (mailbox_.pop_download_scope() == mail::v1::POP_DOWNLOAD_SCOPE_FROM_NOW &&
            m.arrived_unix() < mailbox_.pop_enabled_since_unix()) {
          continue;
        }
        Entry e;
        e.folder_id = folder_id;
        e.uid = m.uid();
        e.size = m.wire_size() != 0 ? m.wire_size() : m.size();
        e.message_id = m.message_id();
        e.arrived = m.arrived_unix();
        entries_.push_back(e);
      }
    }
    bool descending =
        conn_.settings().message_retrieval_sort_order() == mail::v1::SORT_ORDER_DESCENDING;
    std::stable_sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
      if (a.arrived != b.arrived) return descending ? a.arrived > b.arrived : a.arrived < b.arrived;
      if (a.message_id != b.message_id) {
        return descending ? a.message_id > b.message_id : a.message_id < b.message_id;
      }
      return false;
    });
    co_return common::Status::Ok();
  }

  asio::awaitable<void> Serve() {
    while (!conn_.closed()) {
      auto e = co_await conn_.NextEvent(
          std::chrono::seconds(conn_.settings().authenticated_connection_timeout_seconds()));
      if (!e) co_return;  // Dropped connection: nothing is deleted.
      if (auto* err = std::get_if<ParseError>(&*e)) {
        conn_.LogClient("<unparsable command>");
        co_await conn_.Send(ErrResponse(ParseErrorText(err->code)));
        continue;
      }
      if (!std::holds_alternative<Command>(*e)) {
        co_await conn_.Send(ErrResponse("Unexpected SASL data."));
        continue;
      }
      Command& cmd = std::get<Command>(*e);
      conn_.LogClient(CommandForLog(cmd));
      if (cmd.verb == Verb::kQuit) {
        co_await Update();
        co_return;
      }
      const auto started = std::chrono::steady_clock::now();
      co_await Handle(cmd);
      common::metrics::ObserveCommand("pop3", VerbName(cmd.verb),
                                      common::metrics::SecondsSince(started));
    }
  }

 private:
  // The bytes of message `n` (1-based, not deleted). A RETR also reads ahead: the messages
  // after it that fit kReadAheadBytes come in the same store call and wait in `read_ahead_`,
  // because a client that retrieves one message nearly always retrieves the next (that is
  // how POP3 clients download), and one call per message costs more than the message.
  asio::awaitable<common::StatusOr<std::string>> Body(uint32_t n, bool read_ahead) {
    const Entry& e = entries_[n - 1];
    if (auto it = read_ahead_.find(n); it != read_ahead_.end()) {
      common::StatusOr<std::string> out = std::move(it->second);
      read_ahead_.erase(it);
      co_return out;
    }
    read_ahead_.clear();  // Not read in order: what was read ahead is not what comes next.
    std::vector<uint32_t> batch{n};
    if (read_ahead && e.size <= kReadAheadBytes) {
      uint64_t bytes = e.size;
      for (uint32_t next = n + 1; next <= entries_.size() && batch.size() < kReadAheadMessages;
           ++next) {
        const Entry& x = entries_[next - 1];
        if (x.deleted || x.retrieved) continue;
        if (x.folder_id != e.folder_id || bytes + x.size > kReadAheadBytes) break;
        bytes += x.size;
        batch.push_back(next);
      }
    }
    if (batch.size() == 1) {
      mail::v1::GetBodyRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_id(e.folder_id);
      req.set_uid(e.uid);
      auto one = co_await store_.GetBody(req);
      co_return one;
    }
    mail::v1::GetBodiesRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.mutable_folder()->set_id(e.folder_id);
    std::map<uint32_t, uint32_t> number_of;  // UID -> message number.
    for (uint32_t m : batch) {
      req.add_uids(entries_[m - 1].uid);
      number_of[entries_[m - 1].uid] = m;
    }
    auto got = co_await store_.GetBodies(req);
    if (!got.ok()) co_return got.status();
    common::StatusOr<std::string> out =
        common::NotFoundError("Message was removed by another session.");
    for (auto& b : *got) {
      auto it = number_of.find(b.uid());
      if (it == number_of.end()) continue;
      common::StatusOr<std::string> body =
          b.found() ? common::StatusOr<std::string>(std::move(*b.mutable_data()))
                    : common::StatusOr<std::string>(
                          common::NotFoundError("Message was removed by another session."));
      if (it->second == n) {
        out = std::move(body);
      } else {
        read_ahead_.emplace(it->second, std::move(body));
      }
    }
    co_return out;
  }

  // The entry for a message number, or nullptr (after sending the error).
  asio::awaitable<Entry*> Lookup(std::optional<uint32_t> n) {
    if (!n || *n == 0 || *n > entries_.size()) {
      co_await conn_.Send(ErrResponse("No such message."));
      co_return nullptr;
    }
    Entry& e = entries_[*n - 1];
    if (e.deleted) {
      co_await conn_.Send(ErrResponse("Message is deleted."));
      co_return nullptr;
    }
    co_return &e;
  }

  asio::awaitable<void> Handle(Command& cmd) {
    switch (cmd.verb) {
      case Verb::kStat: {
        uint64_t count = 0, octets = 0;
        for (const auto& e : entries_) {
          if (!e.deleted) {
            ++count;
            octets += e.size;
          }
        }
        co_await conn_.Send(StatResponse(count, octets));
        break;
      }
      case Verb::kList:
      case Verb::kUidl: {
        bool uidl = cmd.verb == Verb::kUidl;
        auto line = [&](uint32_t n, const Entry& e) {
          return uidl ? UniqueIdListing(n, std::to_string(e.message_id)) : ScanListing(n, e.size);
        };
        if (cmd.message) {
          Entry* e = co_await Lookup(cmd.message);
          if (e != nullptr) co_await conn_.Send(OkResponse(line(*cmd.message, *e)));
          break;
        }
        std::vector<std::string> lines;
        for (size_t i = 0; i < entries_.size(); ++i) {
          if (!entries_[i].deleted) lines.push_back(line(static_cast<uint32_t>(i + 1), entries_[i]));
        }
        // Named locals, not temporaries, in co_await expressions: GCC 12 destroys some
        // temporaries of a co_await full-expression twice (conditional operands especially).
        std::string title;
        if (!uidl) title = std::to_string(lines.size()) + " messages";
        std::string response = MultiLineResponse(title, lines);
        std::string_view log_text = uidl ? "+OK <uidl listing>" : "+OK <scan listing>";
        co_await conn_.Send(response, log_text);
        break;
      }
      case Verb::kRetr:
      case Verb::kTop: {
        Entry* e = co_await Lookup(cmd.message);
        if (e == nullptr) break;
        const uint32_t n = *cmd.message;
        auto body = co_await Body(n, cmd.verb == Verb::kRetr);
        if (!body.ok()) {
          if (body.status().code() == common::StatusCode::kNotFound) {
            co_await conn_.Send(ErrResponse("Message was removed by another session."));
          } else {
            co_await conn_.Send(ErrResponse(ResponseCode::kSysTemp, kStoreDown));
          }
          break;
        }
        std::string_view content = *body;
        if (cmd.verb == Verb::kTop) content = TopOf(content, cmd.lines);
        std::string out = OkResponse(cmd.verb == Verb::kRetr
                                         ? std::to_string(e->size) + " octets"
                                         : "Top of message follows");
        out.reserve(out.size() + content.size() + content.size() / 50 + 8);
        DotStuffer stuffer;
        stuffer.Feed(content, &out);
        stuffer.Finish(&out);
        if (cmd.verb == Verb::kRetr) e->retrieved = true;
        std::string_view log_text = cmd.verb == Verb::kRetr ? "+OK <message>" : "+OK <top>";
        co_await conn_.Send(out, log_text);
        break;
      }
      case Verb::kDele: {
        Entry* e = co_await Lookup(cmd.message);
        if (e == nullptr) break;
        e->deleted = true;
        co_await conn_.Send(OkResponse("Marked to be deleted."));
        break;
      }
      case Verb::kRset:
        for (auto& e : entries_) e.deleted = false;
        co_await conn_.Send(OkResponse(""));
        break;
      case Verb::kNoop:
        co_await conn_.Send(OkResponse(""));
        break;
      case Verb::kCapa:
        co_await conn_.Send(
            MultiLineResponse("Capability list follows", Capabilities(conn_, true)));
        break;
      default:
        co_await conn_.Send(ErrResponse("Not allowed after login."));
        break;
    }
  }

  // UPDATE state: deletions and the retrieval action, durably, then +OK.
  asio::awaitable<void> Update() {
    std::map<uint32_t, std::vector<uint32_t>> deleted, retrieved;
    for (const auto& e : entries_) {
      if (e.deleted) {
        deleted[e.folder_id].push_back(e.uid);
      } else if (e.retrieved) {
        retrieved[e.folder_id].push_back(e.uid);
      }
    }
    bool ok = true;
    bool disk_full = false;
    auto failed = [&](const common::Status& status) {
      ok = false;
      if (common::IsInsufficientStorage(status)) disk_full = true;
    };
    auto ranges = [](const std::vector<uint32_t>& uids, auto* out) {
      for (uint32_t u : uids) {
        auto* r = out->Add();
        r->set_first(u);
        r->set_last(u);
      }
    };
    for (const auto& [folder, uids] : deleted) {
      mail::v1::ExpungeRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_id(folder);
      ranges(uids, req.mutable_uids());
      auto r = co_await store_.Expunge(req);
      if (!r.ok()) failed(r.status());
    }
    auto action = mailbox_.pop_retrieval_action();
    for (const auto& [folder, uids] : retrieved) {
      if (action == mail::v1::POP_RETRIEVAL_ACTION_KEEP) break;
      if (action == mail::v1::POP_RETRIEVAL_ACTION_MARK_READ) {
        mail::v1::StoreFlagsRequest req;
        req.set_mailbox_id(mailbox_.id());
        req.mutable_folder()->set_id(folder);
        ranges(uids, req.mutable_uids());
        req.set_mode(mail::v1::FLAG_MODE_ADD);
        req.add_flags("\\Seen");
        auto r = co_await store_.StoreFlags(req);
        if (!r.ok()) failed(r.status());
      } else {
        mail::v1::CopyRequest req;
        req.set_mailbox_id(mailbox_.id());
        req.mutable_folder()->set_id(folder);
        ranges(uids, req.mutable_uids());
        req.mutable_destination()->set_name(
            action == mail::v1::POP_RETRIEVAL_ACTION_ARCHIVE ? "Archive" : "Deleted Items");
        req.set_move(true);
        auto r = co_await store_.Copy(req);
        if (!r.ok()) failed(r.status());
      }
    }
    if (ok) {
      co_await conn_.Send(OkResponse("Logging out."));
    } else if (disk_full) {
      co_await conn_.Send(ErrResponse(
          ResponseCode::kSysTemp,
          "The server is out of storage space; deletions were not saved. Try again later."));
    } else {
      co_await conn_.Send(
          ErrResponse(ResponseCode::kSysTemp, "Some changes could not be saved; try again."));
    }
  }

  Pop3Connection& conn_;
  mailboxstore::MailStore& store_;
  const mail::v1::Mailbox& mailbox_;
  std::vector<Entry> entries_;
  // Message number -> its bytes (or NOT_FOUND), read ahead by the last RETR.
  std::map<uint32_t, common::StatusOr<std::string>> read_ahead_;
};

}  // namespace

asio::awaitable<void> RunTransaction(Pop3Connection& conn, mailboxstore::MailStore& store,
                                     const mail::v1::Mailbox& mailbox) {
  Transaction t(conn, store, mailbox);
  common::Status s = co_await t.Load();
  if (!s.ok()) {
    MAIL_LOG(kWarning, "pop3") << conn.session_id() << " cannot load maildrop of "
                               << mailbox.name() << ": " << s.ToString();
    co_await conn.Send(ErrResponse(ResponseCode::kSysTemp, kStoreDown));
    co_return;
  }
  if (!co_await conn.Send(OkResponse("Logged in."))) co_return;
  co_await t.Serve();
}

}  // namespace cas::pop3
