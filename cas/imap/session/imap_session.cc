#include "cas/imap/session/imap_session.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "cas/imap/codec/mutf7.h"
#include "cas/imap/format/fetch_format.h"
#include "cas/imap/session/mailbox_view.h"
#include "cas/imap/session/qresync.h"
#include "cas/imap/session/search.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/storage_status.h"

namespace cas::imap {
namespace {

constexpr std::string_view kStoreDown = "The mailbox store is unavailable; try again later.";
constexpr const char* kSystemFlags = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";

std::string FlagList(const std::vector<std::string>& flags) {
  std::string out;
  AppendFlagList(&out, flags);
  return out;
}

template <typename R>
std::vector<std::string> Flags(const R& repeated) {
  return std::vector<std::string>(repeated.begin(), repeated.end());
}

// The tagged reply for a store error.
std::string StoreError(const std::string& tag, const common::Status& s) {
  switch (s.code()) {
    case common::StatusCode::kNotFound:
      return Tagged(tag, "NO", "NONEXISTENT", "No such mailbox or message.");
    case common::StatusCode::kAlreadyExists:
      return Tagged(tag, "NO", "ALREADYEXISTS", "Mailbox already exists.");
    case common::StatusCode::kInvalidArgument:
      return Tagged(tag, "NO", "CANNOT", s.message());
    case common::StatusCode::kFailedPrecondition:
      return Tagged(tag, "NO", "INUSE", s.message());
    case common::StatusCode::kResourceExhausted:
      return Tagged(tag, "NO", "OVERQUOTA", s.message());
    case common::StatusCode::kUnavailable:
      // The server's disk, not the user's quota: a temporary condition.
      if (common::IsInsufficientStorage(s)) {
        return Tagged(tag, "NO", "UNAVAILABLE",
                      "The server is out of storage space; try again later.");
      }
      return Tagged(tag, "NO", "UNAVAILABLE", kStoreDown);
    default:
      return Tagged(tag, "NO", "UNAVAILABLE", kStoreDown);
  }
}

// Shared with callbacks posted from the change router's thread.
struct Shared {
  MailboxView view;
  bool selected = false;
  // While SELECT reads the folder, changes that arrive are kept here and applied to the new
  // view once it is loaded (applying one the view already shows changes nothing). Without
  // this, a change committed after the store answered but told before SELECT finished would
  // be lost to the view.
  bool selecting = false;
  std::vector<mail::v1::ChangeEvent> early_events;
  bool needs_resync = false;  // The change stream was interrupted: re-read the folder.
  asio::steady_timer* wake = nullptr;
};

class Session {
 public:
  Session(ImapConnection& conn, mailboxstore::MailStore& store, ChangeRouter& router,
          const mail::v1::Mailbox& mailbox, MessageCache* cache, FolderSnapshots* snapshots,
          FolderLists* lists)
      : conn_(conn),
        store_(store),
        router_(router),
        mailbox_(mailbox),
        cache_(cache),
        snapshots_(snapshots),
        lists_(lists) {}

  asio::awaitable<void> Run(const std::string& login_tag) {
    auto ex = co_await asio::this_coro::executor;
    wake_ = std::make_unique<asio::steady_timer>(ex);
    shared_ = std::make_shared<Shared>();
    shared_->wake = wake_.get();
    std::weak_ptr<Shared> weak = shared_;
    subscription_ = router_.Subscribe(
        mailbox_.id(),
        [weak, ex](const mail::v1::ChangeEvent& e) {
          asio::post(ex, [weak, e] {
            if (auto s = weak.lock()) {
              if (s->selected) s->view.OnEvent(e);
              if (s->selecting) s->early_events.push_back(e);
              if (s->wake != nullptr) s->wake->cancel();
            }
          });
        },
        [weak, ex] {
          asio::post(ex, [weak] {
            if (auto s = weak.lock()) {
              s->needs_resync = true;
              if (s->wake != nullptr) s->wake->cancel();
            }
          });
        });
    std::string ok = Tagged(login_tag, "OK", "CAPABILITY " + conn_.Capabilities(true),
                            "Logged in.");
    if (!co_await conn_.Send(ok)) co_return;
    while (!conn_.closed()) {
      auto r = co_await conn_.Next(
          std::chrono::seconds(conn_.settings().authenticated_connection_timeout_seconds()));
      if (!r) break;
      if (auto* err = std::get_if<ParseError>(&*r)) {
        conn_.LogClient("<unparsable command>");
        std::string reply = err->Reply();
        // The parser cannot find the next command: say goodbye (RFC 9051 7.1.5) and close.
        if (err->close_connection()) reply += UntaggedStatus("BYE", "", err->text);
        co_await conn_.Send(reply, ParseErrorForLog(*err));
        if (err->close_connection()) break;
        continue;
      }
      if (!std::holds_alternative<Command>(*r)) continue;
      Command& cmd = std::get<Command>(*r);
      conn_.LogClient(CommandForLog(cmd));
      const auto started = std::chrono::steady_clock::now();
      bool keep_going = co_await Dispatch(cmd);
      common::metrics::ObserveCommand(
          "imap4", cmd.uid ? "UID " + std::string(cmd.name()) : std::string(cmd.name()),
          common::metrics::SecondsSince(started));
      if (!keep_going) break;
    }
    shared_->wake = nullptr;
    subscription_.reset();
  }

 private:
  // Untagged updates that may be sent now.
  std::string Updates(bool allow_expunge) {
    if (!shared_->selected) return "";
    auto u = shared_->view.TakeUpdates(allow_expunge);
    std::string out;
    for (auto& [seq, m] : u.flag_changes) {
      out += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m.uid) + " FLAGS " +
             FlagList(m.flags);
      if (condstore_) out += " MODSEQ (" + std::to_string(m.modseq) + ")";
      out += ")\r\n";
    }
    if (qresync_) {
      std::sort(u.vanished_uids.begin(), u.vanished_uids.end());
      out += Vanished(ToRanges(u.vanished_uids), /*earlier=*/false);
    } else {
      for (uint32_t seq : u.expunged_seqs) out += "* " + std::to_string(seq) + " EXPUNGE\r\n";
    }
    if (u.exists) out += "* " + std::to_string(*u.exists) + " EXISTS\r\n";
    return out;
  }

  // Removes messages this session expunged (EXPUNGE, UID EXPUNGE, MOVE) from the view and
  // tells them: one "* VANISHED" once QRESYNC is enabled (RFC 7162 3.2.10), otherwise one
  // "* n EXPUNGE" each.
  std::string TellExpunged(const std::vector<uint32_t>& uids) {
    std::vector<uint32_t> present;
    for (uint32_t u : uids) {
      if (shared_->view.SeqOf(u) != 0) present.push_back(u);
    }
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    std::vector<uint32_t> seqs = shared_->view.RemoveNow(present);
    if (qresync_) return Vanished(ToRanges(present), /*earlier=*/false);
    std::string out;
    for (uint32_t seq : seqs) out += "* " + std::to_string(seq) + " EXPUNGE\r\n";
    return out;
  }

  // UIDs expunged from the selected folder after `modseq`, from the store's change log;
  // std::nullopt when the log cannot tell (too many changes, store unreachable), which makes
  // the caller report conservatively.
  asio::awaitable<std::optional<std::vector<uint32_t>>> ExpungedSince(uint64_t modseq) {
    std::optional<std::vector<uint32_t>> out;
    const uint32_t folder_id = shared_->view.folder_id();
    if (modseq >= shared_->view.highest_modseq()) {
      // Nothing the client has not seen; later expunges reach the view as events.
      out.emplace();
      co_return out;
    }
    mail::v1::GetChangesRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.mutable_folder()->set_id(folder_id);
    req.set_since_modseq(modseq);
    auto changes = co_await store_.GetChanges(req);
    if (!changes.ok()) {
      conn_.LogEvent("change log unavailable for QRESYNC: " + changes.status().ToString());
      co_return out;
    }
    out = ExpungedUids(*changes, folder_id);
    co_return out;
  }

  // SELECT/EXAMINE (QRESYNC (...)) with a matching UIDVALIDITY: "* VANISHED (EARLIER)" for
  // what went since the client's MODSEQ, then a FETCH for every message changed since then.
  asio::awaitable<std::string> QresyncLines(const QresyncParams& p) {
    std::optional<std::vector<uint32_t>> expunged = co_await ExpungedSince(p.mod_seq);
    QresyncReply r = ComputeQresync(shared_->view, p, expunged);
    std::string out = Vanished(r.vanished, /*earlier=*/true);
    for (const auto& [seq, m] : r.changed) {
      out += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m.uid) + " FLAGS " +
             FlagList(m.flags) + " MODSEQ (" + std::to_string(m.modseq) + "))\r\n";
    }
    co_return out;
  }

  asio::awaitable<bool> Reply(const std::string& tagged, bool allow_expunge = true) {
    std::string out = Updates(allow_expunge) + tagged;
    co_return co_await conn_.Send(out);
  }

  std::string EncodeName(const std::string& utf8) {
    std::string out;
    if (!AppendMailbox(&out, utf8, utf8_).ok()) AppendQuoted(&out, utf8);
    return out;
  }

  // Re-reads the selected folder after the change stream was interrupted, so that nothing
  // that happened meanwhile is missed.
  asio::awaitable<void> ResyncIfNeeded() {
    if (!shared_->needs_resync || !shared_->selected) co_return;
    mail::v1::FetchRequest f;
    f.set_mailbox_id(mailbox_.id());
    f.mutable_folder()->set_id(shared_->view.folder_id());
    auto records = co_await store_.Fetch(f);
    if (!records.ok()) co_return;  // Still unreachable: try again at the next command.
    shared_->needs_resync = false;
    shared_->view.Reconcile(*records);
  }

  asio::awaitable<bool> Dispatch(Command& cmd) {
    const std::string& tag = cmd.tag;
    co_await ResyncIfNeeded();
    if (std::holds_alternative<CapabilityArgs>(cmd.args)) {
      co_return co_await Reply(Untagged("CAPABILITY " + conn_.Capabilities(true)) +
                               Tagged(tag, "OK", "", "CAPABILITY completed."));
    }
    if (std::holds_alternative<NoopArgs>(cmd.args) || std::holds_alternative<CheckArgs>(cmd.args)) {
      co_return co_await Reply(Tagged(tag, "OK", "", std::string(cmd.name()) + " completed."));
    }
    if (std::holds_alternative<LogoutArgs>(cmd.args)) {
      std::string bye = UntaggedStatus("BYE", "", "Logging out.") +
                        Tagged(tag, "OK", "", "LOGOUT completed.");
      co_await conn_.Send(bye);
      co_return false;
    }
    if (std::holds_alternative<IdArgs>(cmd.args)) {
      co_return co_await Reply(Untagged("ID (\"name\" \"casmail\" \"version\" \"0.1\")") +
                               Tagged(tag, "OK", "", "ID completed."));
    }
    if (auto* a = std::get_if<EnableArgs>(&cmd.args)) {
      std::string enabled;
      for (const auto& c : a->capabilities) {
        if (c == "CONDSTORE") {
          condstore_ = true;
          enabled += " CONDSTORE";
        } else if (c == "QRESYNC") {
          condstore_ = true;  // QRESYNC implies CONDSTORE (RFC 7162 3.2).
          qresync_ = true;
          enabled += " QRESYNC";
        } else if (c == "IMAP4REV2") {
          // RFC 9051: no RECENT, ESEARCH replies to every SEARCH, and mailbox names and
          // quoted strings in UTF-8 (Appendix E: modified UTF-7 is for IMAP4rev1 only).
          rev2_ = true;
          utf8_ = true;
          conn_.parser().set_utf8_accept(true);
          enabled += " IMAP4rev2";
        } else if (c == "UTF8=ACCEPT") {
          // RFC 6855 3: UTF-8 mailbox names and quoted strings from now on.
          utf8_ = true;
          utf8_accept_ = true;
          conn_.parser().set_utf8_accept(true);
          enabled += " UTF8=ACCEPT";
        }
      }
      co_return co_await Reply(Untagged("ENABLED" + enabled) +
                               Tagged(tag, "OK", "", "ENABLE completed."));
    }
    if (std::holds_alternative<NamespaceArgs>(cmd.args)) {
      co_return co_await Reply(Untagged("NAMESPACE ((\"\" \"/\")) NIL NIL") +
                               Tagged(tag, "OK", "", "NAMESPACE completed."));
    }
    if (std::holds_alternative<StartTlsArgs>(cmd.args) ||
        std::holds_alternative<LoginArgs>(cmd.args) ||
        std::holds_alternative<AuthenticateArgs>(cmd.args)) {
      co_return co_await Reply(Tagged(tag, "BAD", "", "Already logged in."));
    }
    if (auto* a = std::get_if<SelectArgs>(&cmd.args)) co_return co_await Select(tag, *a);
    if (auto* a = std::get_if<ListArgs>(&cmd.args)) co_return co_await List(tag, *a);
    if (auto* a = std::get_if<LsubArgs>(&cmd.args)) {
      ListArgs l;
      l.reference = a->reference;
      l.patterns = {a->pattern};
      l.select_subscribed = true;
      co_return co_await List(tag, l, /*lsub=*/true);
    }
    if (auto* a = std::get_if<StatusArgs>(&cmd.args)) co_return co_await Status(tag, *a);
    if (std::holds_alternative<CreateArgs>(cmd.args) ||
        std::holds_alternative<DeleteArgs>(cmd.args) ||
        std::holds_alternative<RenameArgs>(cmd.args) ||
        std::holds_alternative<SubscribeArgs>(cmd.args) ||
        std::holds_alternative<UnsubscribeArgs>(cmd.args)) {
      // Every session of this process must list the change as soon as it is answered here,
      // before the change stream tells of it: forgotten now and once more after the store
      // call (FolderListChanged), so that no LIST read in between is kept.
      FolderListChanged();
    }
    if (auto* a = std::get_if<CreateArgs>(&cmd.args)) {
      mail::v1::CreateFolderRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.set_name(a->mailbox);
      if (!a->special_use.empty()) req.set_special_use(a->special_use[0]);
      auto r = co_await store_.CreateFolder(req);
      FolderListChanged();
      std::string reply =
          r.ok() ? Tagged(tag, "OK", "", "CREATE completed.") : StoreError(tag, r.status());
      co_return co_await Reply(reply);
    }
    if (auto* a = std::get_if<DeleteArgs>(&cmd.args)) {
      mail::v1::DeleteFolderRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_name(a->mailbox);
      auto r = co_await store_.DeleteFolder(req);
      FolderListChanged();
      if (r.ok() && shared_->selected && r->folder().id() == shared_->view.folder_id()) {
        shared_->selected = false;
      }
      std::string reply =
          r.ok() ? Tagged(tag, "OK", "", "DELETE completed.") : StoreError(tag, r.status());
      co_return co_await Reply(reply);
    }
    if (auto* a = std::get_if<RenameArgs>(&cmd.args)) {
      mail::v1::RenameFolderRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_name(a->from);
      req.set_new_name(a->to);
      auto r = co_await store_.RenameFolder(req);
      FolderListChanged();
      std::string reply =
          r.ok() ? Tagged(tag, "OK", "", "RENAME completed.") : StoreError(tag, r.status());
      co_return co_await Reply(reply);
    }
    if (std::holds_alternative<SubscribeArgs>(cmd.args) ||
        std::holds_alternative<UnsubscribeArgs>(cmd.args)) {
      bool sub = std::holds_alternative<SubscribeArgs>(cmd.args);
      mail::v1::SubscribeFolderRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.set_name(sub ? std::get<SubscribeArgs>(cmd.args).mailbox
                       : std::get<UnsubscribeArgs>(cmd.args).mailbox);
      req.set_subscribed(sub);
      auto r = co_await store_.SubscribeFolder(req);
      FolderListChanged();
      std::string reply = r.ok() ? Tagged(tag, "OK", "", std::string(cmd.name()) + " completed.")
                                 : StoreError(tag, r.status());
      co_return co_await Reply(reply);
    }
    if (auto* a = std::get_if<AppendArgs>(&cmd.args)) co_return co_await Append(tag, *a);
    if (std::holds_alternative<IdleArgs>(cmd.args)) co_return co_await Idle(tag);
    if (std::holds_alternative<GetQuotaRootArgs>(cmd.args) ||
        std::holds_alternative<GetQuotaArgs>(cmd.args)) {
      std::string root_of;
      if (auto* q = std::get_if<GetQuotaRootArgs>(&cmd.args)) root_of = q->mailbox;
      co_return co_await Quota(tag, root_of);
    }
    if (std::holds_alternative<SetQuotaArgs>(cmd.args)) {
      co_return co_await Reply(Tagged(tag, "NO", "NOPERM", "Quotas are set by the administrator."));
    }
    // Selected state only from here.
    if (!shared_->selected) {
      co_return co_await Reply(Tagged(tag, "BAD", "", "No mailbox selected."));
    }
    if (std::holds_alternative<CloseArgs>(cmd.args) ||
        std::holds_alternative<UnselectArgs>(cmd.args)) {
      if (std::holds_alternative<CloseArgs>(cmd.args) && !read_only_) {
        mail::v1::ExpungeRequest req;
        req.set_mailbox_id(mailbox_.id());
        req.mutable_folder()->set_id(shared_->view.folder_id());
        req.set_only_deleted(true);
        auto r = co_await store_.Expunge(req);
        if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()), false);
      }
      shared_->selected = false;
      saved_uids_.clear();
      std::string ok = Tagged(tag, "OK", "", std::string(cmd.name()) + " completed.");
      co_return co_await conn_.Send(ok);
    }
    if (auto* a = std::get_if<ExpungeArgs>(&cmd.args)) co_return co_await Expunge(tag, *a, cmd.uid);
    if (auto* a = std::get_if<FetchArgs>(&cmd.args)) co_return co_await Fetch(tag, *a, cmd.uid);
    if (auto* a = std::get_if<StoreArgs>(&cmd.args)) co_return co_await Store(tag, *a, cmd.uid);
    if (auto* a = std::get_if<SearchArgs>(&cmd.args)) co_return co_await Search(tag, *a, cmd.uid);
    if (auto* a = std::get_if<CopyArgs>(&cmd.args)) {
      co_return co_await CopyMove(tag, a->set, a->mailbox, cmd.uid, false);
    }
    if (auto* a = std::get_if<MoveArgs>(&cmd.args)) {
      co_return co_await CopyMove(tag, a->set, a->mailbox, cmd.uid, true);
    }
    co_return co_await Reply(Tagged(tag, "BAD", "", "Command not supported."));
  }

  // A message sequence number beyond the mailbox size is a protocol error, and a command is
  // never partly BAD (RFC 3501 2.3.1.2; Dovecot and Cyrus answer BAD as well). UIDs and "*"
  // never are.
  bool SeqOutOfRange(const SequenceSet& set, bool uid) const {
    return !uid && !set.saved && set.MaxExplicit() > shared_->view.exists();
  }
  std::string OutOfRangeReply(const std::string& tag) const {
    return Tagged(tag, "BAD", "",
                  "Invalid messageset: the mailbox has " +
                      std::to_string(shared_->view.exists()) + " messages.");
  }

  // The saved search result (RFC 5182 "$") as UIDs still in the view.
  std::vector<uint32_t> SavedUids() const {
    std::vector<uint32_t> out;
    for (uint32_t u : saved_uids_) {
      if (shared_->view.SeqOf(u) != 0) out.push_back(u);
    }
    return out;
  }

  // "$" in SEARCH keys becomes the UID set it stands for.
  void ReplaceSavedSets(SearchKey* key) const {
    if ((key->type == SearchKeyType::kSequenceSet || key->type == SearchKeyType::kUid) &&
        key->set.saved) {
      key->type = SearchKeyType::kUid;
      key->set.saved = false;
      key->set.ranges.clear();
      for (uint32_t u : SavedUids()) key->set.ranges.push_back(SeqRange{u, u});
    }
    for (SearchKey& k : key->children) ReplaceSavedSets(&k);
  }

  // UIDs (ascending) of the messages a set names, by sequence number or UID.
  std::vector<uint32_t> ResolveUids(const SequenceSet& set, bool uid) {
    const MailboxView& v = shared_->view;
    std::vector<uint32_t> out;
    if (v.exists() == 0) return out;
    if (set.saved) return SavedUids();
    if (uid) {
      uint32_t max_uid = v.LargestUid();
      for (const auto& m : v.messages()) {
        if (set.Contains(m.uid, max_uid)) out.push_back(m.uid);
      }
      // "UID n:*" with n above every UID still names the last message (RFC 3501 6.4.8).
      if (out.empty() && set.HasStar()) out.push_back(max_uid);
    } else {
      for (const auto& r : set.Resolve(v.exists())) {
        for (uint32_t s = std::max<uint32_t>(1, r.first); s <= std::min(r.last, v.exists());
             ++s) {
          out.push_back(v.AtSeq(s).uid);
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    return out;
  }

  static void AddRanges(const std::vector<uint32_t>& uids,
                        google::protobuf::RepeatedPtrField<mail::v1::UidRange>* out) {
    for (size_t i = 0; i < uids.size();) {
      size_t j = i;
      while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
      auto* r = out->Add();
      r->set_first(uids[i]);
      r->set_last(uids[j]);
      i = j + 1;
    }
  }

  static std::string UidSetString(const std::vector<uint32_t>& uids) {
    std::string out;
    for (size_t i = 0; i < uids.size();) {
      size_t j = i;
      while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
      if (!out.empty()) out += ",";
      out += std::to_string(uids[i]);
      if (j > i) out += ":" + std::to_string(uids[j]);
      i = j + 1;
    }
    return out;
  }

  // SELECT of a large folder: the shared snapshot plus the changes made since it, when they
  // add up to the folder's message count; false when the records must be read instead.
  asio::awaitable<bool> LoadFromSnapshot(const mail::v1::Folder& folder) {
    if (snapshots_ == nullptr || folder.messages() < snapshots_->min_messages()) co_return false;
    std::optional<FolderSnapshots::Snapshot> snap = snapshots_->Get(mailbox_.id(), folder.id());
    if (!snap || snap->uidvalidity != folder.uidvalidity()) co_return false;
    std::shared_ptr<const MessageList> entries = snap->entries;  // Shared: no copy.
    uint64_t modseq = snap->modseq;
    const bool changed = snap->modseq < folder.highest_modseq();
    if (changed) {
      mail::v1::GetChangesRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_id(folder.id());
      req.set_since_modseq(snap->modseq);
      auto changes = co_await store_.GetChanges(req);
      if (!changes.ok()) co_return false;  // Log trimmed or too long: read the records.
      auto updated = std::make_shared<MessageList>(*snap->entries);
      ApplyChanges(*changes, folder.id(), updated.get());
      entries = std::move(updated);
      modseq = std::max(modseq, changes->highest_modseq());
    }
    // A message appended or expunged after GetFolder makes the count differ: read the
    // records then (rare), rather than risk a view that is not the folder.
    if (entries->size() != folder.messages()) co_return false;
    shared_->view.Load(folder, entries, modseq);
    if (changed) {
      snapshots_->Put(mailbox_.id(), folder.id(), folder.uidvalidity(), modseq,
                      std::move(entries));
    }
    co_return true;
  }

  asio::awaitable<bool> Select(const std::string& tag, const SelectArgs& a) {
    if (a.qresync && !qresync_) {
      // RFC 7162 3.2.5: the QRESYNC parameter is only valid after ENABLE QRESYNC.
      co_return co_await Reply(Tagged(tag, "BAD", "", "QRESYNC is not enabled."));
    }
    // RFC 7162 3.2.11: the boundary between the closed mailbox's responses and the new one's.
    const std::string closed =
        shared_->selected ? UntaggedStatus("OK", "CLOSED", "Previous mailbox closed.") : "";
    shared_->selected = false;
    shared_->selecting = true;
    shared_->early_events.clear();
    struct StopCollecting {  // Also when SELECT fails: nothing piles up while unselected.
      Shared* s;
      ~StopCollecting() {
        s->selecting = false;
        s->early_events.clear();
      }
    } stop_collecting{shared_.get()};
    saved_uids_.clear();
    mail::v1::GetFolderRequest g;
    g.set_mailbox_id(mailbox_.id());
    g.mutable_folder()->set_name(a.mailbox);
    auto folder = co_await store_.GetFolder(g);
    if (!folder.ok()) co_return co_await conn_.Send(closed + StoreError(tag, folder.status()));
    MailboxView& v = shared_->view;
    if (!co_await LoadFromSnapshot(folder->folder())) {
      mail::v1::FetchRequest f;
      f.set_mailbox_id(mailbox_.id());
      f.mutable_folder()->set_id(folder->folder().id());
      auto records = co_await store_.Fetch(f);
      if (!records.ok()) {
        co_return co_await conn_.Send(closed + StoreError(tag, records.status()));
      }
      v.Load(folder->folder(), *records);
      if (snapshots_ != nullptr && v.exists() >= snapshots_->min_messages()) {
        snapshots_->Put(mailbox_.id(), v.folder_id(), v.uidvalidity(), records->highest_modseq(),
                        v.shared_messages());
      }
    }
    if (a.condstore || a.qresync) condstore_ = true;
    shared_->selecting = false;
    for (const auto& e : shared_->early_events) v.OnEvent(e);
    shared_->early_events.clear();
    shared_->selected = true;
    read_only_ = a.read_only;
    std::string out = closed + Untagged(std::string("FLAGS ") + kSystemFlags);
    out += UntaggedStatus(
        "OK", "PERMANENTFLAGS " + std::string(read_only_ ? "()" : "(\\Answered \\Flagged "
                                                                  "\\Deleted \\Seen \\Draft \\*)"),
        "Flags permitted.");
    out += "* " + std::to_string(v.exists()) + " EXISTS\r\n";
    // RFC 9051 removed \Recent and the RECENT response (Appendix E).
    if (!rev2_) out += "* 0 RECENT\r\n";
    if (uint32_t unseen = v.UnseenFirstSeq(); unseen != 0) {
      out += UntaggedStatus("OK", "UNSEEN " + std::to_string(unseen), "First unseen.");
    }
    out += UntaggedStatus("OK", "UIDVALIDITY " + std::to_string(v.uidvalidity()), "UIDs valid.");
    out += UntaggedStatus("OK", "UIDNEXT " + std::to_string(v.uidnext()), "Predicted next UID.");
    out += UntaggedStatus("OK", "HIGHESTMODSEQ " + std::to_string(v.highest_modseq()),
                          "Highest.");
    // A different UIDVALIDITY makes it a plain SELECT: the client must forget its cache.
    if (a.qresync && a.qresync->uid_validity == v.uidvalidity()) {
      std::string lines = co_await QresyncLines(*a.qresync);
      out += lines;
    }
    out += Tagged(tag, "OK", read_only_ ? "READ-ONLY" : "READ-WRITE",
                  std::string(a.read_only ? "EXAMINE" : "SELECT") + " completed.");
    co_return co_await conn_.Send(out);
  }

  asio::awaitable<bool> List(const std::string& tag, const ListArgs& a, bool lsub = false) {
    std::string out;
    for (const std::string& pattern : a.patterns) {
      if (pattern.empty()) {
        out += Untagged("LIST (\\Noselect) \"/\" \"\"");
        continue;
      }
      if (a.select_subscribed && a.select_recursive_match && !lsub) {
        auto lines = co_await ListSubscribedRecursive(a, pattern);
        if (!lines.ok()) co_return co_await Reply(StoreError(tag, lines.status()));
        out += *lines;
        continue;
      }
      auto r = co_await ListFolders(a.reference, pattern, a.select_subscribed,
                                    /*need_counts=*/a.return_status.has_value());
      if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()));
      for (const auto& f : r->folders()) {
        if (a.select_special_use && f.special_use().empty()) continue;
        std::vector<std::string> attrs;
        if (f.id() == 0) attrs.push_back("\\NonExistent");
        if (!lsub) attrs.push_back(f.has_children() ? "\\HasChildren" : "\\HasNoChildren");
        if (!f.special_use().empty() && !lsub) attrs.push_back(f.special_use());
        if ((a.return_subscribed || a.select_subscribed) && f.subscribed() && !lsub) {
          attrs.push_back("\\Subscribed");
        }
        std::string line = std::string(lsub ? "LSUB (" : "LIST (");
        for (size_t i = 0; i < attrs.size(); ++i) line += (i ? " " : "") + attrs[i];
        line += ") \"/\" " + EncodeName(f.name());
        out += Untagged(line);
        if (a.return_status && f.id() != 0) out += StatusLine(f, *a.return_status);
      }
    }
    out += Tagged(tag, "OK", "", std::string(lsub ? "LSUB" : "LIST") + " completed.");
    co_return co_await Reply(out);
  }

  // The store's ListFolders, or the answer this process last had from it to the same
  // question while the mailbox's folder list has not changed since (FolderLists: clients
  // ask LIST again and again, and each is a store round trip otherwise). Message counts
  // change without a folder-list change: LIST RETURN (STATUS ...) always asks the store.
  asio::awaitable<common::StatusOr<mail::v1::ListFoldersResponse>> ListFolders(
      std::string reference, std::string pattern, bool subscribed_only, bool need_counts) {
    mail::v1::ListFoldersRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.set_reference(reference);
    req.set_pattern(pattern);
    req.set_subscribed_only(subscribed_only);
    const bool cached = lists_ != nullptr && !need_counts;
    std::string key;
    uint64_t generation = 0;
    if (cached) {
      key = FolderLists::Key(req);
      if (auto kept = lists_->Get(mailbox_.id(), key)) co_return std::move(*kept);
      generation = lists_->Generation(mailbox_.id());
    }
    auto r = co_await store_.ListFolders(req);
    if (cached && r.ok()) lists_->Put(mailbox_.id(), key, generation, *r);
    co_return r;
  }

  void FolderListChanged() {
    if (lists_ != nullptr) lists_->Changed(mailbox_.id());
  }

  // LIST (SUBSCRIBED RECURSIVEMATCH) (RFC 5258 3.5): the subscribed mailboxes matching the
  // pattern, plus every mailbox matching it that has a subscribed descendant, which gets
  // ("CHILDINFO" ("SUBSCRIBED")) whether or not it is subscribed itself. Two store calls
  // (folders and subscriptions), whatever the pattern.
  asio::awaitable<common::StatusOr<std::string>> ListSubscribedRecursive(
      const ListArgs& a, const std::string& pattern) {
    mail::v1::ListFoldersRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.set_pattern("*");
    auto all = co_await store_.ListFolders(req);
    if (!all.ok()) co_return all.status();
    req.set_subscribed_only(true);
    auto subs = co_await store_.ListFolders(req);
    if (!subs.ok()) co_return subs.status();
    std::map<std::string, const mail::v1::Folder*> existing;
    for (const auto& f : all->folders()) existing[f.name()] = &f;
    std::set<std::string> subscribed;
    for (const auto& f : subs->folders()) subscribed.insert(f.name());
    const std::string full = a.reference + pattern;
    std::map<std::string, bool> entries;  // name -> has a subscribed descendant
    for (const std::string& name : subscribed) {
      if (MatchesListPattern(full, name)) entries.emplace(name, false);
      for (size_t slash = name.find('/'); slash != std::string::npos;
           slash = name.find('/', slash + 1)) {
        const std::string parent = name.substr(0, slash);
        if (MatchesListPattern(full, parent)) entries[parent] = true;
      }
    }
    std::string out;
    for (const auto& [name, childinfo] : entries) {
      auto it = existing.find(name);
      const mail::v1::Folder* f = it == existing.end() ? nullptr : it->second;
      std::vector<std::string> attrs;
      if (f == nullptr) {
        attrs.push_back("\\NonExistent");
      } else {
        attrs.push_back(f->has_children() ? "\\HasChildren" : "\\HasNoChildren");
        if (!f->special_use().empty()) attrs.push_back(f->special_use());
      }
      if (subscribed.count(name)) attrs.push_back("\\Subscribed");
      std::string line = "LIST (";
      for (size_t i = 0; i < attrs.size(); ++i) line += (i ? " " : "") + attrs[i];
      line += ") \"/\" " + EncodeName(name);
      if (childinfo) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
      out += Untagged(line);
      if (a.return_status && f != nullptr) out += StatusLine(*f, *a.return_status);
    }
    co_return out;
  }

  // RFC 3501 6.3.8 wildcards: "*" matches anything, "%" anything but the delimiter. INBOX
  // matches in any case.
  static bool MatchesListPattern(std::string_view pattern, std::string_view name) {
    if (pattern.size() >= 5 && name.size() >= 5 && name.substr(0, 5) == "INBOX" &&
        (name.size() == 5 || name[5] == '/')) {
      std::string p(pattern.substr(0, 5));
      for (char& c : p) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (p == "INBOX") return MatchesListPattern(pattern.substr(5), name.substr(5));
    }
    // match[i][j]: pattern[i..] matches name[j..].
    const size_t np = pattern.size(), nn = name.size();
    std::vector<std::vector<char>> match(np + 1, std::vector<char>(nn + 1, 0));
    match[np][nn] = 1;
    for (size_t i = np; i-- > 0;) {
      for (size_t j = nn + 1; j-- > 0;) {
        const char c = pattern[i];
        if (c == '*' || c == '%') {
          // Empty, or one more character (never the delimiter for "%").
          match[i][j] = match[i + 1][j] ||
                        (j < nn && (c == '*' || name[j] != '/') && match[i][j + 1]);
        } else {
          match[i][j] = j < nn && c == name[j] && match[i + 1][j + 1];
        }
      }
    }
    return match[0][0] != 0;
  }

  std::string StatusLine(const mail::v1::Folder& f, const std::vector<StatusItem>& items) {
    std::string line = "STATUS " + EncodeName(f.name()) + " (";
    bool first = true;
    for (StatusItem item : items) {
      uint64_t value = 0;
      switch (item) {
        case StatusItem::kMessages: value = f.messages(); break;
        case StatusItem::kUidNext: value = f.uidnext(); break;
        case StatusItem::kUidValidity: value = f.uidvalidity(); break;
        case StatusItem::kUnseen: value = f.unseen(); break;
        case StatusItem::kDeleted: value = f.deleted(); break;
        case StatusItem::kSize: value = f.size(); break;
        case StatusItem::kRecent: value = 0; break;
        case StatusItem::kHighestModSeq: value = f.highest_modseq(); break;
        case StatusItem::kAppendLimit: value = conn_.settings().max_message_size(); break;
      }
      line += (first ? "" : " ") + std::string(StatusItemName(item)) + " " +
              std::to_string(value);
      first = false;
    }
    return Untagged(line + ")");
  }

  asio::awaitable<bool> Status(const std::string& tag, const StatusArgs& a) {
    mail::v1::GetFolderRequest g;
    g.set_mailbox_id(mailbox_.id());
    g.mutable_folder()->set_name(a.mailbox);
    auto r = co_await store_.GetFolder(g);
    if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()));
    co_return co_await Reply(StatusLine(r->folder(), a.items) +
                             Tagged(tag, "OK", "", "STATUS completed."));
  }

  asio::awaitable<bool> Append(const std::string& tag, const AppendArgs& a) {
    std::vector<uint32_t> uids;
    uint32_t uidvalidity = 0;
    for (const AppendMessage& m : a.messages) {
      mail::v1::AppendRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_name(a.mailbox);
      for (const auto& f : m.flags) req.add_flags(f);
      if (m.internal_date) req.set_internal_date_unix(*m.internal_date);
      req.set_message(m.data);
      auto r = co_await store_.Append(req);
      if (!r.ok()) {
        if (r.status().code() == common::StatusCode::kNotFound) {
          co_return co_await Reply(Tagged(tag, "NO", "TRYCREATE", "No such mailbox."));
        }
        co_return co_await Reply(StoreError(tag, r.status()));
      }
      uidvalidity = r->uidvalidity();
      uids.push_back(r->uid());
      if (shared_->selected && r->folder_id() == shared_->view.folder_id()) {
        // Tell our own append at once (RFC 3501 6.3.11: EXISTS before the tagged OK); the
        // change stream's copy of the event is then ignored.
        mail::v1::ChangeEvent e;
        e.set_folder_id(r->folder_id());
        e.set_kind(mail::v1::CHANGE_KIND_APPEND);
        e.set_modseq(r->modseq());
        e.add_uids(r->uid());
        for (const auto& f : m.flags) e.add_flags(f);
        shared_->view.OnEvent(e);
      }
    }
    co_return co_await Reply(Tagged(tag, "OK",
                                    "APPENDUID " + std::to_string(uidvalidity) + " " +
                                        UidSetString(uids),
                                    "APPEND completed."));
  }

  asio::awaitable<bool> Expunge(const std::string& tag, const ExpungeArgs& a, bool uid) {
    if (read_only_) co_return co_await Reply(Tagged(tag, "NO", "READ-ONLY", "Mailbox is read-only."));
    mail::v1::ExpungeRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.mutable_folder()->set_id(shared_->view.folder_id());
    req.set_only_deleted(true);
    if (uid && a.uid_set) {
      auto uids = ResolveUids(*a.uid_set, true);
      if (uids.empty()) co_return co_await Reply(Tagged(tag, "OK", "", "EXPUNGE completed."));
      AddRanges(uids, req.mutable_uids());
    }
    auto r = co_await store_.Expunge(req);
    if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()));
    std::vector<uint32_t> expunged(r->expunged().begin(), r->expunged().end());
    std::string out = TellExpunged(expunged);
    out += Updates(true);
    out += Tagged(tag, "OK", "HIGHESTMODSEQ " + std::to_string(r->highest_modseq()),
                  "EXPUNGE completed.");
    co_return co_await conn_.Send(out);
  }

  asio::awaitable<bool> CopyMove(const std::string& tag, const SequenceSet& set,
                                 const std::string& dest, bool uid, bool move) {
    if (move && read_only_) {
      co_return co_await Reply(Tagged(tag, "NO", "READ-ONLY", "Mailbox is read-only."));
    }
    if (SeqOutOfRange(set, uid)) {
      bool sent = co_await Reply(OutOfRangeReply(tag), false);
      co_return sent;
    }
    auto uids = ResolveUids(set, uid);
    if (uids.empty()) {
      std::string_view text = move ? "MOVE completed." : "COPY completed.";
      std::string reply = Tagged(tag, "OK", "", text);
      co_return co_await Reply(reply, uid);
    }
    mail::v1::CopyRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.mutable_folder()->set_id(shared_->view.folder_id());
    AddRanges(uids, req.mutable_uids());
    req.mutable_destination()->set_name(dest);
    req.set_move(move);
    auto r = co_await store_.Copy(req);
    if (!r.ok()) {
      if (r.status().code() == common::StatusCode::kNotFound) {
        co_return co_await Reply(Tagged(tag, "NO", "TRYCREATE", "No such mailbox."), uid);
      }
      co_return co_await Reply(StoreError(tag, r.status()), uid);
    }
    std::vector<uint32_t> src(r->source_uids().begin(), r->source_uids().end());
    std::vector<uint32_t> dst(r->destination_uids().begin(), r->destination_uids().end());
    std::string code = "COPYUID " + std::to_string(r->destination_uidvalidity()) + " " +
                       UidSetString(src) + " " + UidSetString(dst);
    if (r->destination_folder_id() == shared_->view.folder_id()) {
      for (size_t i = 0; i < dst.size(); ++i) {
        mail::v1::ChangeEvent e;
        e.set_folder_id(r->destination_folder_id());
        e.set_kind(mail::v1::CHANGE_KIND_APPEND);
        e.set_modseq(r->highest_modseq());
        e.add_uids(dst[i]);
        uint32_t seq = shared_->view.SeqOf(src[i]);
        if (seq != 0) {
          for (const auto& f : shared_->view.AtSeq(seq).flags) e.add_flags(f);
        }
        shared_->view.OnEvent(e);
      }
    }
    if (!move) co_return co_await Reply(Tagged(tag, "OK", code, "COPY completed."), uid);
    std::string out = UntaggedStatus("OK", code, "Moved.");
    out += TellExpunged(src);
    out += Updates(true) + Tagged(tag, "OK", "", "MOVE completed.");
    co_return co_await conn_.Send(out);
  }

  asio::awaitable<bool> Store(const std::string& tag, const StoreArgs& a, bool uid) {
    if (read_only_) co_return co_await Reply(Tagged(tag, "NO", "READ-ONLY", "Mailbox is read-only."), uid);
    if (SeqOutOfRange(a.set, uid)) {
      bool sent = co_await Reply(OutOfRangeReply(tag), false);
      co_return sent;
    }
    auto uids = ResolveUids(a.set, uid);
    std::string out;
    if (!uids.empty()) {
      mail::v1::StoreFlagsRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_id(shared_->view.folder_id());
      AddRanges(uids, req.mutable_uids());
      req.set_mode(a.operation == StoreOperation::kAdd      ? mail::v1::FLAG_MODE_ADD
                   : a.operation == StoreOperation::kRemove ? mail::v1::FLAG_MODE_REMOVE
                                                            : mail::v1::FLAG_MODE_REPLACE);
      for (const auto& f : a.flags) req.add_flags(f);
      if (a.unchanged_since) {
        req.set_has_unchanged_since(true);
        req.set_unchanged_since(*a.unchanged_since);
        condstore_ = true;
      }
      auto r = co_await store_.StoreFlags(req);
      if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()), uid);
      for (const auto& m : r->messages()) {
        shared_->view.ApplyFlags(m.uid(), Flags(m.flags()), m.modseq());
        if (a.silent && !condstore_) continue;
        uint32_t seq = shared_->view.SeqOf(m.uid());
        if (seq == 0) continue;
        out += "* " + std::to_string(seq) + " FETCH (";
        std::string items;
        if (!a.silent) items += "FLAGS " + FlagList(Flags(m.flags()));
        // RFC 7162 3.1: with CONDSTORE enabled, UID and MODSEQ are in every such FETCH.
        if (uid || condstore_) {
          items += std::string(items.empty() ? "" : " ") + "UID " + std::to_string(m.uid());
        }
        if (condstore_) {
          items += std::string(items.empty() ? "" : " ") + "MODSEQ (" +
                   std::to_string(m.modseq()) + ")";
        }
        out += items + ")\r\n";
      }
      if (!r->modified().empty()) {
        std::vector<uint32_t> mod(r->modified().begin(), r->modified().end());
        if (!uid) {
          for (auto& u : mod) u = shared_->view.SeqOf(u);
        }
        out += Updates(uid);
        out += Tagged(tag, "OK", "MODIFIED " + UidSetString(mod), "Conditional STORE failed.");
        co_return co_await conn_.Send(out);
      }
    }
    out += Updates(uid) + Tagged(tag, "OK", "", "STORE completed.");
    co_return co_await conn_.Send(out);
  }

  static bool NeedsRecords(const std::vector<FetchItem>& items) {
    for (const auto& i : items) {
      switch (i.type) {
        case FetchItemType::kFlags:
        case FetchItemType::kUid:
        case FetchItemType::kModSeq:
        // Sections are read by GetBody alone (BINARY still wants the structure's encoding).
        case FetchItemType::kRfc822:
        case FetchItemType::kRfc822Header:
        case FetchItemType::kRfc822Text:
        case FetchItemType::kBodySection:
          break;
        default:
          return true;
      }
    }
    return false;
  }

  static bool NeedsStructureFor(const std::vector<FetchItem>& items) {
    for (const auto& i : items) {
      if (i.type == FetchItemType::kEnvelope || i.type == FetchItemType::kBody ||
          i.type == FetchItemType::kBodyStructure) {
        return true;
      }
    }
    return false;
  }

  static std::string SectionName(const Section& s) {
    std::string out;
    for (size_t i = 0; i < s.part.size(); ++i) out += (i ? "." : "") + std::to_string(s.part[i]);
    auto add = [&](const char* t) {
      if (!out.empty()) out += ".";
      out += t;
    };
    switch (s.text) {
      case SectionText::kHeader: add("HEADER"); break;
      case SectionText::kHeaderFields:
      case SectionText::kHeaderFieldsNot: {
        add(s.text == SectionText::kHeaderFields ? "HEADER.FIELDS" : "HEADER.FIELDS.NOT");
        out += " (";
        for (size_t i = 0; i < s.header_fields.size(); ++i) {
          out += (i ? " " : "") + s.header_fields[i];
        }
        out += ")";
        break;
      }
      case SectionText::kText: add("TEXT"); break;
      case SectionText::kMime: add("MIME"); break;
      default: break;
    }
    return out;
  }

  // Bytes of BODY[section] (before <partial>), or an error.
  asio::awaitable<common::StatusOr<std::string>> SectionBytes(uint32_t uid, const Section& s,
                                                              bool binary) {
    mail::v1::GetBodyRequest req;
    req.set_mailbox_id(mailbox_.id());
    req.mutable_folder()->set_id(shared_->view.folder_id());
    req.set_uid(uid);
    std::string part;
    for (size_t i = 0; i < s.part.size(); ++i) part += (i ? "." : "") + std::to_string(s.part[i]);
    req.set_part(part);
    switch (s.text) {
      case SectionText::kHeader:
      case SectionText::kHeaderFields:
      case SectionText::kHeaderFieldsNot:
        req.set_section(mail::v1::BODY_SECTION_HEADER);
        break;
      case SectionText::kText:
        req.set_section(mail::v1::BODY_SECTION_TEXT);
        break;
      case SectionText::kMime:
        req.set_section(mail::v1::BODY_SECTION_MIME);
        break;
      default:
        req.set_section(part.empty() ? mail::v1::BODY_SECTION_FULL
                                     : mail::v1::BODY_SECTION_CONTENT);
        break;
    }
    auto r = co_await store_.GetBody(req);
    if (!r.ok()) co_return r.status();
    if (s.text == SectionText::kHeaderFields || s.text == SectionText::kHeaderFieldsNot) {
      co_return HeaderFields(*r, s.header_fields, s.text == SectionText::kHeaderFieldsNot);
    }
    (void)binary;
    co_return std::move(*r);
  }

  asio::awaitable<bool> Fetch(const std::string& tag, const FetchArgs& a, bool uid) {
    if (a.vanished && !qresync_) {
      // RFC 7162 3.2.6: the VANISHED modifier is only valid after ENABLE QRESYNC.
      bool sent = co_await Reply(Tagged(tag, "BAD", "", "QRESYNC is not enabled."), false);
      co_return sent;
    }
    if (SeqOutOfRange(a.set, uid)) {
      bool sent = co_await Reply(OutOfRangeReply(tag), false);
      co_return sent;
    }
    auto uids = ResolveUids(a.set, uid);
    // Only what never changes is taken from the record (size, date, structure): flags and
    // MODSEQ come from the view, so a cached record serves as well as a fetched one.
    std::map<uint32_t, std::shared_ptr<const mail::v1::MessageRecord>> records;
    if (a.changed_since) condstore_ = true;
    if (!uids.empty() && (NeedsRecords(a.items) || a.changed_since)) {
      const bool structure = NeedsStructureFor(a.items);
      // CHANGEDSINCE filters on the store's MODSEQs: always asked there.
      const bool cached = cache_ != nullptr && structure && !a.changed_since;
      std::vector<uint32_t> missing;
      for (uint32_t u : uids) {
        std::shared_ptr<const mail::v1::MessageRecord> hit;
        if (cached) hit = cache_->Get(CacheKey(u));
        if (hit) {
          records[u] = std::move(hit);
        } else {
          missing.push_back(u);
        }
      }
      if (!missing.empty()) {
        mail::v1::FetchRequest req;
        req.set_mailbox_id(mailbox_.id());
        req.mutable_folder()->set_id(shared_->view.folder_id());
        AddRanges(missing, req.mutable_uids());
        req.set_with_structure(structure);
        if (a.changed_since) req.set_changed_since(*a.changed_since);
        auto r = co_await store_.Fetch(req);
        if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()), uid);
        for (auto& m : *r->mutable_messages()) {
          const uint32_t got = m.uid();
          if (cached) {
            records[got] = cache_->Put(CacheKey(got), std::move(m));
          } else {
            records[got] = std::make_shared<const mail::v1::MessageRecord>(std::move(m));
          }
        }
      }
      if (a.changed_since) {
        uids.erase(std::remove_if(uids.begin(), uids.end(),
                                  [&](uint32_t u) { return records.count(u) == 0; }),
                   uids.end());
      }
    }
    // Reading a body without .PEEK sets \Seen (RFC 3501 6.4.5).
    bool sets_seen = false;
    for (const auto& i : a.items) {
      if (!i.peek && (i.type == FetchItemType::kBodySection || i.type == FetchItemType::kRfc822 ||
                      i.type == FetchItemType::kRfc822Text || i.type == FetchItemType::kBinary)) {
        sets_seen = true;
      }
    }
    std::set<uint32_t> flags_changed;
    if (sets_seen && !read_only_) {
      std::vector<uint32_t> unseen;
      for (uint32_t u : uids) {
        uint32_t seq = shared_->view.SeqOf(u);
        const auto& f = shared_->view.AtSeq(seq).flags;
        if (std::find(f.begin(), f.end(), "\\Seen") == f.end()) unseen.push_back(u);
      }
      if (!unseen.empty()) {
        mail::v1::StoreFlagsRequest sreq;
        sreq.set_mailbox_id(mailbox_.id());
        sreq.mutable_folder()->set_id(shared_->view.folder_id());
        AddRanges(unseen, sreq.mutable_uids());
        sreq.set_mode(mail::v1::FLAG_MODE_ADD);
        sreq.add_flags("\\Seen");
        auto r = co_await store_.StoreFlags(sreq);
        if (r.ok()) {
          for (const auto& m : r->messages()) {
            shared_->view.ApplyFlags(m.uid(), Flags(m.flags()), m.modseq());
            flags_changed.insert(m.uid());
          }
        }
      }
    }
    std::string out;
    if (a.vanished && a.changed_since) {
      // UID FETCH ... (CHANGEDSINCE m VANISHED): the set's UIDs expunged since m come first
      // (RFC 7162 3.2.6); "*" stands for the highest UID the folder has used.
      std::optional<std::vector<uint32_t>> expunged = co_await ExpungedSince(*a.changed_since);
      const MailboxView& v = shared_->view;
      uint32_t top = std::max(v.uidnext() > 0 ? v.uidnext() - 1 : 0, v.LargestUid());
      out += Vanished(VanishedUids(v, a.set.Resolve(top), expunged), /*earlier=*/true);
    }
    for (uint32_t u : uids) {
      uint32_t seq = shared_->view.SeqOf(u);
      if (seq == 0) continue;
      const MessageEntry& entry = shared_->view.AtSeq(seq);
      auto found = records.find(u);
      const mail::v1::MessageRecord* rec = found != records.end() ? found->second.get() : nullptr;
      std::string items;
      auto add = [&](const std::string& s) {
        if (!items.empty()) items += " ";
        items += s;
      };
      bool have_uid = false, have_flags = false;
      for (const FetchItem& item : a.items) {
        switch (item.type) {
          case FetchItemType::kUid:
            add("UID " + std::to_string(u));
            have_uid = true;
            break;
          case FetchItemType::kFlags:
            add("FLAGS " + FlagList(entry.flags));
            have_flags = true;
            break;
          case FetchItemType::kModSeq:
            add("MODSEQ (" + std::to_string(entry.modseq) + ")");
            break;
          case FetchItemType::kInternalDate:
            if (rec) add("INTERNALDATE " + FormatDateTime(rec->internal_date_unix()));
            break;
          case FetchItemType::kRfc822Size:
            if (rec) add("RFC822.SIZE " + std::to_string(rec->size()));
            break;
          case FetchItemType::kEnvelope:
            if (rec) add("ENVELOPE " + EnvelopeString(rec->structure().envelope(), utf8_));
            break;
          case FetchItemType::kBody:
          case FetchItemType::kBodyStructure:
            if (rec) {
              bool ext = item.type == FetchItemType::kBodyStructure;
              add(std::string(ext ? "BODYSTRUCTURE " : "BODY ") +
                  BodyStructureString(rec->structure().body(), ext, utf8_));
            }
            break;
          case FetchItemType::kRfc822:
          case FetchItemType::kRfc822Header:
          case FetchItemType::kRfc822Text:
          case FetchItemType::kBodySection:
          case FetchItemType::kBinary:
          case FetchItemType::kBinarySize: {
            Section s = item.section;
            std::string name;
            if (item.type == FetchItemType::kRfc822) {
              name = "RFC822";
            } else if (item.type == FetchItemType::kRfc822Header) {
              name = "RFC822.HEADER";
              s.text = SectionText::kHeader;
            } else if (item.type == FetchItemType::kRfc822Text) {
              name = "RFC822.TEXT";
              s.text = SectionText::kText;
            } else {
              const char* kind = item.type == FetchItemType::kBodySection ? "BODY"
                                 : item.type == FetchItemType::kBinary    ? "BINARY"
                                                                          : "BINARY.SIZE";
              name = std::string(kind) + "[" + SectionName(s) + "]";
            }
            auto bytes = co_await SectionBytes(u, s, item.type != FetchItemType::kBodySection);
            if (!bytes.ok()) {
              if (bytes.status().code() == common::StatusCode::kNotFound) {
                add(name + " NIL");
                break;
              }
              co_return co_await Reply(StoreError(tag, bytes.status()), uid);
            }
            std::string data = std::move(*bytes);
            if (item.type == FetchItemType::kBinary || item.type == FetchItemType::kBinarySize) {
              std::string encoding = "7BIT";
              if (rec == nullptr || !s.part.empty()) {
                // Find the part's encoding from the structure.
                mail::v1::FetchRequest fr;
                fr.set_mailbox_id(mailbox_.id());
                fr.mutable_folder()->set_id(shared_->view.folder_id());
                auto* rr = fr.add_uids();
                rr->set_first(u);
                rr->set_last(u);
                fr.set_with_structure(true);
                auto got = co_await store_.Fetch(fr);
                if (got.ok() && got->messages_size() == 1) {
                  const mail::v1::BodyPart* p = &got->messages(0).structure().body();
                  for (uint32_t n : s.part) {
                    if (p->type() == "multipart" && n >= 1 &&
                        static_cast<int>(n) <= p->children_size()) {
                      p = &p->children(static_cast<int>(n - 1));
                    }
                  }
                  encoding = p->encoding();
                }
              }
              auto decoded = DecodeTransferEncoding(data, encoding);
              if (!decoded.ok()) {
                co_return co_await Reply(
                    Tagged(tag, "NO", "UNKNOWN-CTE", "Cannot decode this part."), uid);
              }
              data = std::move(*decoded);
              if (item.type == FetchItemType::kBinarySize) {
                add(name + " " + std::to_string(data.size()));
                break;
              }
            }
            std::optional<uint64_t> origin;
            if (item.partial) {
              origin = item.partial->offset;
              data = std::string(Partial(data, item.partial->offset, item.partial->count));
              name = PartialItemName(name, origin);
            }
            std::string value;
            if (item.type == FetchItemType::kBinary && data.find('\0') != std::string::npos) {
              value = "~{" + std::to_string(data.size()) + "}\r\n" + data;
            } else {
              AppendLiteral(&value, data);
            }
            add(name + " " + value);
            break;
          }
        }
      }
      if ((uid || (condstore_ && flags_changed.count(u))) && !have_uid) {
        items = "UID " + std::to_string(u) + (items.empty() ? "" : " ") + items;
      }
      if (flags_changed.count(u) && !have_flags) add("FLAGS " + FlagList(entry.flags));
      if (condstore_ && (a.changed_since || flags_changed.count(u)) &&
          items.find("MODSEQ (") == std::string::npos) {
        add("MODSEQ (" + std::to_string(entry.modseq) + ")");
      }
      out += "* " + std::to_string(seq) + " FETCH (" + items + ")\r\n";
    }
    out += Updates(uid) + Tagged(tag, "OK", "", "FETCH completed.");
    co_return co_await conn_.Send(out, "<fetch response> " + tag + " OK");
  }

  asio::awaitable<bool> Search(const std::string& tag, const SearchArgs& a, bool uid) {
    if (a.charset && utf8_accept_) {
      // RFC 6855 3 (erratum 4029): after ENABLE UTF8=ACCEPT every string is UTF-8, so a
      // CHARSET label conflicts with it.
      co_return co_await Reply(Tagged(tag, "BAD", "",
                                      "SEARCH CHARSET is not allowed after ENABLE UTF8=ACCEPT."),
                               uid);
    }
    if (!IsSupportedCharset(a.charset)) {
      co_return co_await Reply(Tagged(tag, "NO", "BADCHARSET (UTF-8 US-ASCII)",
                                      "Unsupported charset."), uid);
    }
    const MailboxView& v = shared_->view;
    std::vector<uint32_t> hits;
    if (v.exists() > 0) {
      mail::v1::FetchRequest req;
      req.set_mailbox_id(mailbox_.id());
      req.mutable_folder()->set_id(v.folder_id());
      // The store answers BODY/TEXT and the header keys; only SENT* dates need structures.
      const bool structure = NeedsSentDate(a.key);
      req.set_with_structure(structure);
      SearchKey key = a.key;
      ReplaceSavedSets(&key);
      common::StatusOr<mail::v1::FetchResponse> r{mail::v1::FetchResponse()};
      if (NeedsStoredRecord(key)) {
        r = co_await store_.Fetch(req);
        if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()), uid);
      } else {
        // UID, flags and MODSEQ are in the view: no records to read (SEARCH UNSEEN, FROM x).
        r->mutable_messages()->Reserve(static_cast<int>(v.exists()));
        for (const MessageEntry& e : v.messages()) {
          mail::v1::MessageRecord* rec = r->add_messages();
          rec->set_uid(e.uid);
          rec->set_modseq(e.modseq);
        }
      }
      SearchLimits limits{v.exists(), v.LargestUid(), static_cast<int64_t>(std::time(nullptr))};
      // Keys that need no body decide most messages; the rest go to the store in one call,
      // which searches their bodies where they are.
      std::vector<std::pair<uint32_t, mail::v1::MessageRecord*>> undecided;
      for (auto& rec : *r->mutable_messages()) {
        uint32_t seq = v.SeqOf(rec.uid());
        if (seq == 0) continue;
        // Flags as this session knows them.
        const MessageEntry& e = v.AtSeq(seq);
        rec.clear_flags();
        for (const auto& f : e.flags) rec.add_flags(f);
        std::optional<bool> quick = MatchesWithoutBody(key, SearchMessage{seq, &rec}, limits);
        if (!quick) {
          undecided.emplace_back(seq, &rec);
        } else if (*quick) {
          hits.push_back(uid ? rec.uid() : seq);
        }
      }
      if (!undecided.empty()) {
        std::vector<const SearchKey*> text_keys;
        CollectTextKeys(key, &text_keys, /*header_keys=*/!structure);
        mail::v1::SearchTextRequest treq;
        treq.set_mailbox_id(mailbox_.id());
        treq.mutable_folder()->set_id(v.folder_id());
        treq.set_max_text_bytes(limits.max_body_text_bytes);
        std::vector<uint32_t> candidates;
        for (const auto& [seq, rec] : undecided) candidates.push_back(rec->uid());
        std::sort(candidates.begin(), candidates.end());
        AddRanges(candidates, treq.mutable_uids());
        for (const SearchKey* k : text_keys) {
          auto* c = treq.add_criteria();
          c->set_include_headers(k->type == SearchKeyType::kText);
          c->set_text(k->value);
          c->set_header(HeaderKeyField(*k));
        }
        auto t = co_await store_.SearchText(treq);
        if (!t.ok()) co_return co_await Reply(StoreError(tag, t.status()), uid);
        // (type, header field, value) -> UIDs that matched.
        std::map<std::tuple<SearchKeyType, std::string, std::string>, std::set<uint32_t>> matched;
        for (size_t i = 0; i < text_keys.size() && static_cast<int>(i) < t->matches_size(); ++i) {
          const auto& m = t->matches(static_cast<int>(i)).uids();
          const SearchKey& k = *text_keys[i];
          matched[{k.type, HeaderKeyField(k), k.value}].insert(m.begin(), m.end());
        }
        for (const auto& [seq, rec] : undecided) {
          const uint32_t u = rec->uid();
          TextOracle oracle = [&matched, u](const SearchKey& k) {
            auto it = matched.find({k.type, HeaderKeyField(k), k.value});
            return it != matched.end() && it->second.count(u) > 0;
          };
          if (MatchesWithText(key, SearchMessage{seq, rec}, limits, oracle)) {
            hits.push_back(uid ? u : seq);
          }
        }
      }
    }
    std::sort(hits.begin(), hits.end());
    std::set<SearchReturnOption> opts;
    if (a.return_options) opts.insert(a.return_options->begin(), a.return_options->end());
    const bool save = opts.erase(SearchReturnOption::kSave) > 0;
    if (save) {
      // RFC 5182: the result is kept by UID, so that later expunges shrink it.
      saved_uids_.clear();
      for (uint32_t h : hits) saved_uids_.push_back(uid ? h : v.AtSeq(h).uid);
      std::sort(saved_uids_.begin(), saved_uids_.end());
    }
    // "RETURN ()" means ALL (RFC 4731), and so does a plain SEARCH for an IMAP4rev2 client,
    // which always gets ESEARCH (RFC 9051 6.4.4). SAVE alone sends no ESEARCH (RFC 5182 2.1).
    if (opts.empty() && !save) opts.insert(SearchReturnOption::kAll);
    std::string out;
    if ((a.return_options || rev2_) && opts.empty()) {
      // Saved only.
    } else if (a.return_options || rev2_) {
      std::string line = "ESEARCH (TAG \"" + tag + "\")";
      if (uid) line += " UID";
      if (!hits.empty()) {
        if (opts.count(SearchReturnOption::kMin)) line += " MIN " + std::to_string(hits.front());
        if (opts.count(SearchReturnOption::kMax)) line += " MAX " + std::to_string(hits.back());
        if (opts.count(SearchReturnOption::kAll)) line += " ALL " + UidSetString(hits);
      }
      if (opts.count(SearchReturnOption::kCount)) line += " COUNT " + std::to_string(hits.size());
      out = Untagged(line);
    } else {
      std::string line = "SEARCH";
      for (uint32_t h : hits) line += " " + std::to_string(h);
      out = Untagged(line);
    }
    out += Updates(uid) + Tagged(tag, "OK", "", "SEARCH completed.");
    co_return co_await conn_.Send(out);
  }

  asio::awaitable<bool> Quota(const std::string& tag, const std::string& mailbox) {
    mail::v1::MailboxStatsRequest req;
    req.set_mailbox_id(mailbox_.id());
    auto r = co_await store_.MailboxStats(req);
    if (!r.ok()) co_return co_await Reply(StoreError(tag, r.status()));
    std::string out;
    if (!mailbox.empty()) out += Untagged("QUOTAROOT " + EncodeName(mailbox) + " \"\"");
    uint64_t limit = mailbox_.quota().prohibit_send_receive_quota();
    if (limit != 0) {
      out += Untagged("QUOTA \"\" (STORAGE " + std::to_string(r->total_size() / 1024) + " " +
                      std::to_string(limit / 1024) + ")");
    } else {
      out += Untagged("QUOTA \"\" ()");
    }
    out += Tagged(tag, "OK", "", "GETQUOTA completed.");
    co_return co_await Reply(out);
  }

  asio::awaitable<bool> Idle(const std::string& tag) {
    std::string go = "+ idling\r\n";
    if (!co_await conn_.Send(go)) co_return false;
    conn_.parser().ExpectIdleDone();
    struct IdleState {
      bool done = false;
      bool ok = false;
    };
    auto state = std::make_shared<IdleState>();
    auto ex = co_await asio::this_coro::executor;
    ImapConnection* conn = &conn_;
    asio::steady_timer* wake = wake_.get();
    auto timeout = std::chrono::seconds(conn_.settings().authenticated_connection_timeout_seconds());
    asio::co_spawn(
        ex,
        [conn, state, wake, timeout]() -> asio::awaitable<void> {
          auto r = co_await conn->Next(timeout);
          state->ok = r && std::holds_alternative<IdleDone>(*r);
          state->done = true;
          wake->cancel();
        },
        asio::detached);
    auto last_keepalive = std::chrono::steady_clock::now();
    while (!state->done) {
      co_await ResyncIfNeeded();
      std::string updates = Updates(true);
      if (!updates.empty() && !co_await conn_.Send(updates)) break;
      if (std::chrono::steady_clock::now() - last_keepalive >= std::chrono::minutes(5)) {
        std::string ka = UntaggedStatus("OK", "", "Still here.");
        if (!co_await conn_.Send(ka)) break;
        last_keepalive = std::chrono::steady_clock::now();
      }
      wake_->expires_after(std::chrono::minutes(5));
      boost::system::error_code ec;
      co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    while (!state->done) {  // The connection broke while sending: wait for the reader to end.
      conn_.stream().Cancel();
      wake_->expires_after(std::chrono::milliseconds(50));
      boost::system::error_code ec;
      co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!state->ok) co_return false;
    co_return co_await Reply(Tagged(tag, "OK", "", "IDLE terminated."));
  }

  ImapConnection& conn_;
  MessageCache::Key CacheKey(uint32_t uid) const {
    return MessageCache::Key{mailbox_.id(), shared_->view.folder_id(),
                             shared_->view.uidvalidity(), uid};
  }

  mailboxstore::MailStore& store_;
  ChangeRouter& router_;
  mail::v1::Mailbox mailbox_;
  MessageCache* cache_;           // May be null: no caching.
  FolderSnapshots* snapshots_;  // May be null: SELECT always reads every record.
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<asio::steady_timer> wake_;
  std::unique_ptr<ChangeRouter::Subscription> subscription_;
  FolderLists* lists_;  // May be null: LIST always asks the store.
  bool read_only_ = false;
  bool condstore_ = false;
  bool qresync_ = false;  // ENABLE QRESYNC: expunges are told as VANISHED.
  bool utf8_ = false;         // UTF-8 mailbox names and quoted strings (rev2 or UTF8=ACCEPT).
  bool utf8_accept_ = false;  // ENABLE UTF8=ACCEPT (RFC 6855): SEARCH CHARSET is BAD.
  bool rev2_ = false;         // ENABLE IMAP4rev2 (RFC 9051).
  std::vector<uint32_t> saved_uids_;  // SEARCH RETURN (SAVE) result, ascending (RFC 5182).
};

}  // namespace

asio::awaitable<void> RunImapSession(ImapConnection& conn, mailboxstore::MailStore& store,
                                     ChangeRouter& router, const mail::v1::Mailbox& mailbox,
                                     std::string login_tag, MessageCache* cache,
                                     FolderSnapshots* snapshots, FolderLists* lists) {
  Session session(conn, store, router, mailbox, cache, snapshots, lists);
  co_await session.Run(login_tag);
}

}  // namespace cas::imap
