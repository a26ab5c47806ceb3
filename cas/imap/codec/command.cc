#include "cas/imap/codec/command.h"

#include <algorithm>
#include <cstdio>

#include "cas/imap/codec/response.h"
#include "common/base64.h"

namespace cas::imap {

// ---------------------------------------------------------------------------------------------
// SequenceSet.

std::vector<SeqRange> SequenceSet::Resolve(uint32_t max) const {
  std::vector<SeqRange> out;
  if (saved || max == 0) return out;
  out.reserve(ranges.size());
  for (const SeqRange& r : ranges) {
    uint32_t a = r.first == kStar ? max : r.first;
    uint32_t b = r.last == kStar ? max : r.last;
    if (a > b) std::swap(a, b);
    if (a > max) continue;
    out.push_back({a, std::min(b, max)});
  }
  std::sort(out.begin(), out.end(),
            [](const SeqRange& x, const SeqRange& y) { return x.first < y.first; });
  std::vector<SeqRange> merged;
  for (const SeqRange& r : out) {
    if (!merged.empty() && static_cast<uint64_t>(merged.back().last) + 1 >= r.first) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

bool SequenceSet::Contains(uint32_t n, uint32_t max) const {
  if (saved || n == 0 || n > max) return false;
  for (const SeqRange& r : ranges) {
    uint32_t a = r.first == kStar ? max : r.first;
    uint32_t b = r.last == kStar ? max : r.last;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

uint32_t SequenceSet::MaxExplicit() const {
  uint32_t m = 0;
  for (const SeqRange& r : ranges) m = std::max({m, r.first, r.last});
  return m;
}

bool SequenceSet::HasStar() const {
  for (const SeqRange& r : ranges) {
    if (r.first == kStar || r.last == kStar) return true;
  }
  return false;
}

std::string SequenceSet::ToString() const {
  if (saved) return "$";
  std::string out;
  auto number = [&out](uint32_t n) {
    if (n == kStar) {
      out.push_back('*');
    } else {
      out.append(std::to_string(n));
    }
  };
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) out.push_back(',');
    number(ranges[i].first);
    if (ranges[i].last != ranges[i].first) {
      out.push_back(':');
      number(ranges[i].last);
    }
  }
  return out;
}

namespace {

// seq-number = nz-number / "*"; nz-number has no leading zero and fits 32 bits.
bool ParseSeqNumber(std::string_view s, uint32_t* out) {
  if (s == "*") {
    *out = SequenceSet::kStar;
    return true;
  }
  if (s.empty() || s.size() > 10 || s[0] < '1' || s[0] > '9') return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

std::optional<SequenceSet> ParseSequenceSet(std::string_view text, size_t max_ranges) {
  SequenceSet set;
  if (text == "$") {
    set.saved = true;
    return set;
  }
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    const std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (set.ranges.size() >= max_ranges) return std::nullopt;
    SeqRange range;
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      if (!ParseSeqNumber(item, &range.first)) return std::nullopt;
      range.last = range.first;
    } else if (!ParseSeqNumber(item.substr(0, colon), &range.first) ||
               !ParseSeqNumber(item.substr(colon + 1), &range.last)) {
      return std::nullopt;
    }
    set.ranges.push_back(range);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// Names.

std::string_view StatusItemName(StatusItem item) {
  switch (item) {
    case StatusItem::kMessages:
      return "MESSAGES";
    case StatusItem::kUidNext:
      return "UIDNEXT";
    case StatusItem::kUidValidity:
      return "UIDVALIDITY";
    case StatusItem::kUnseen:
      return "UNSEEN";
    case StatusItem::kDeleted:
      return "DELETED";
    case StatusItem::kSize:
      return "SIZE";
    case StatusItem::kRecent:
      return "RECENT";
    case StatusItem::kHighestModSeq:
      return "HIGHESTMODSEQ";
    case StatusItem::kAppendLimit:
      return "APPENDLIMIT";
  }
  return "";
}

std::string_view SearchKeyName(SearchKeyType type) {
  switch (type) {
    case SearchKeyType::kAnd:
    case SearchKeyType::kSequenceSet:
      return "";
    case SearchKeyType::kOr:
      return "OR";
    case SearchKeyType::kNot:
      return "NOT";
    case SearchKeyType::kAll:
      return "ALL";
    case SearchKeyType::kUid:
      return "UID";
    case SearchKeyType::kAnswered:
      return "ANSWERED";
    case SearchKeyType::kDeleted:
      return "DELETED";
    case SearchKeyType::kDraft:
      return "DRAFT";
    case SearchKeyType::kFlagged:
      return "FLAGGED";
    case SearchKeyType::kNew:
      return "NEW";
    case SearchKeyType::kOld:
      return "OLD";
    case SearchKeyType::kRecent:
      return "RECENT";
    case SearchKeyType::kSeen:
      return "SEEN";
    case SearchKeyType::kUnanswered:
      return "UNANSWERED";
    case SearchKeyType::kUndeleted:
      return "UNDELETED";
    case SearchKeyType::kUndraft:
      return "UNDRAFT";
    case SearchKeyType::kUnflagged:
      return "UNFLAGGED";
    case SearchKeyType::kUnseen:
      return "UNSEEN";
    case SearchKeyType::kKeyword:
      return "KEYWORD";
    case SearchKeyType::kUnkeyword:
      return "UNKEYWORD";
    case SearchKeyType::kBcc:
      return "BCC";
    case SearchKeyType::kBody:
      return "BODY";
    case SearchKeyType::kCc:
      return "CC";
    case SearchKeyType::kFrom:
      return "FROM";
    case SearchKeyType::kSubject:
      return "SUBJECT";
    case SearchKeyType::kText:
      return "TEXT";
    case SearchKeyType::kTo:
      return "TO";
    case SearchKeyType::kHeader:
      return "HEADER";
    case SearchKeyType::kBefore:
      return "BEFORE";
    case SearchKeyType::kOn:
      return "ON";
    case SearchKeyType::kSince:
      return "SINCE";
    case SearchKeyType::kSentBefore:
      return "SENTBEFORE";
    case SearchKeyType::kSentOn:
      return "SENTON";
    case SearchKeyType::kSentSince:
      return "SENTSINCE";
    case SearchKeyType::kLarger:
      return "LARGER";
    case SearchKeyType::kSmaller:
      return "SMALLER";
    case SearchKeyType::kOlder:
      return "OLDER";
    case SearchKeyType::kYounger:
      return "YOUNGER";
    case SearchKeyType::kModSeq:
      return "MODSEQ";
  }
  return "";
}

std::string_view SearchReturnOptionName(SearchReturnOption option) {
  switch (option) {
    case SearchReturnOption::kMin:
      return "MIN";
    case SearchReturnOption::kMax:
      return "MAX";
    case SearchReturnOption::kAll:
      return "ALL";
    case SearchReturnOption::kCount:
      return "COUNT";
    case SearchReturnOption::kSave:
      return "SAVE";
  }
  return "";
}

namespace {

// Command names, by argument type.
std::string_view NameOf(const CapabilityArgs&) { return "CAPABILITY"; }
std::string_view NameOf(const NoopArgs&) { return "NOOP"; }
std::string_view NameOf(const LogoutArgs&) { return "LOGOUT"; }
std::string_view NameOf(const StartTlsArgs&) { return "STARTTLS"; }
std::string_view NameOf(const AuthenticateArgs&) { return "AUTHENTICATE"; }
std::string_view NameOf(const LoginArgs&) { return "LOGIN"; }
std::string_view NameOf(const IdArgs&) { return "ID"; }
std::string_view NameOf(const EnableArgs&) { return "ENABLE"; }
std::string_view NameOf(const SelectArgs& a) { return a.read_only ? "EXAMINE" : "SELECT"; }
std::string_view NameOf(const CreateArgs&) { return "CREATE"; }
std::string_view NameOf(const DeleteArgs&) { return "DELETE"; }
std::string_view NameOf(const RenameArgs&) { return "RENAME"; }
std::string_view NameOf(const SubscribeArgs&) { return "SUBSCRIBE"; }
std::string_view NameOf(const UnsubscribeArgs&) { return "UNSUBSCRIBE"; }
std::string_view NameOf(const ListArgs&) { return "LIST"; }
std::string_view NameOf(const LsubArgs&) { return "LSUB"; }
std::string_view NameOf(const NamespaceArgs&) { return "NAMESPACE"; }
std::string_view NameOf(const StatusArgs&) { return "STATUS"; }
std::string_view NameOf(const AppendArgs&) { return "APPEND"; }
std::string_view NameOf(const IdleArgs&) { return "IDLE"; }
std::string_view NameOf(const CheckArgs&) { return "CHECK"; }
std::string_view NameOf(const CloseArgs&) { return "CLOSE"; }
std::string_view NameOf(const UnselectArgs&) { return "UNSELECT"; }
std::string_view NameOf(const ExpungeArgs&) { return "EXPUNGE"; }
std::string_view NameOf(const SearchArgs&) { return "SEARCH"; }
std::string_view NameOf(const FetchArgs&) { return "FETCH"; }
std::string_view NameOf(const StoreArgs&) { return "STORE"; }
std::string_view NameOf(const CopyArgs&) { return "COPY"; }
std::string_view NameOf(const MoveArgs&) { return "MOVE"; }
std::string_view NameOf(const GetQuotaArgs&) { return "GETQUOTA"; }
std::string_view NameOf(const GetQuotaRootArgs&) { return "GETQUOTAROOT"; }
std::string_view NameOf(const SetQuotaArgs&) { return "SETQUOTA"; }

// ---------------------------------------------------------------------------------------------
// FormatCommand.

void Str(std::string* out, std::string_view s) { AppendAstring(out, s, /*utf8=*/true); }

void Mailbox(std::string* out, std::string_view s) {
  // Always quoted so that a name that looks like NIL or a number stays a string.
  AppendString(out, s, /*utf8=*/true);
}

void StatusItems(std::string* out, const std::vector<StatusItem>& items) {
  out->push_back('(');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(' ');
    out->append(StatusItemName(items[i]));
  }
  out->push_back(')');
}

void FormatDate(std::string* out, const Date& d) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%d-%s-%04d", d.day,
                (d.month >= 1 && d.month <= 12) ? kMonths[d.month - 1] : "???", d.year);
  out->append(buf);
}

void FormatSearchKey(std::string* out, const SearchKey& key, bool top) {
  switch (key.type) {
    case SearchKeyType::kAnd:
      if (!top) out->push_back('(');
      for (size_t i = 0; i < key.children.size(); ++i) {
        if (i > 0) out->push_back(' ');
        FormatSearchKey(out, key.children[i], false);
      }
      if (!top) out->push_back(')');
      return;
    case SearchKeyType::kSequenceSet:
      out->append(key.set.ToString());
      return;
    default:
      break;
  }
  out->append(SearchKeyName(key.type));
  switch (key.type) {
    case SearchKeyType::kOr:
    case SearchKeyType::kNot:
      for (const SearchKey& child : key.children) {
        out->push_back(' ');
        FormatSearchKey(out, child, false);
      }
      break;
    case SearchKeyType::kUid:
      out->push_back(' ');
      out->append(key.set.ToString());
      break;
    case SearchKeyType::kKeyword:
    case SearchKeyType::kUnkeyword:
      out->push_back(' ');
      out->append(key.value);
      break;
    case SearchKeyType::kBcc:
    case SearchKeyType::kBody:
    case SearchKeyType::kCc:
    case SearchKeyType::kFrom:
    case SearchKeyType::kSubject:
    case SearchKeyType::kText:
    case SearchKeyType::kTo:
      out->push_back(' ');
      Str(out, key.value);
      break;
    case SearchKeyType::kHeader:
      out->push_back(' ');
      Str(out, key.field);
      out->push_back(' ');
      Str(out, key.value);
      break;
    case SearchKeyType::kBefore:
    case SearchKeyType::kOn:
    case SearchKeyType::kSince:
    case SearchKeyType::kSentBefore:
    case SearchKeyType::kSentOn:
    case SearchKeyType::kSentSince:
      out->push_back(' ');
      FormatDate(out, key.date);
      break;
    case SearchKeyType::kModSeq:
      if (!key.field.empty()) {
        out->push_back(' ');
        AppendQuoted(out, key.field);
        out->push_back(' ');
        out->append(key.value);
      }
      [[fallthrough]];
    case SearchKeyType::kLarger:
    case SearchKeyType::kSmaller:
    case SearchKeyType::kOlder:
    case SearchKeyType::kYounger:
      out->push_back(' ');
      out->append(std::to_string(key.number));
      break;
    default:
      break;
  }
}

void FormatSection(std::string* out, const Section& s) {
  out->push_back('[');
  for (size_t i = 0; i < s.part.size(); ++i) {
    if (i > 0) out->push_back('.');
    out->append(std::to_string(s.part[i]));
  }
  if (s.text != SectionText::kNone && !s.part.empty()) out->push_back('.');
  switch (s.text) {
    case SectionText::kNone:
      break;
    case SectionText::kHeader:
      out->append("HEADER");
      break;
    case SectionText::kHeaderFields:
    case SectionText::kHeaderFieldsNot:
      out->append(s.text == SectionText::kHeaderFields ? "HEADER.FIELDS (" : "HEADER.FIELDS.NOT (");
      for (size_t i = 0; i < s.header_fields.size(); ++i) {
        if (i > 0) out->push_back(' ');
        Str(out, s.header_fields[i]);
      }
      out->push_back(')');
      break;
    case SectionText::kText:
      out->append("TEXT");
      break;
    case SectionText::kMime:
      out->append("MIME");
      break;
  }
  out->push_back(']');
}

void FormatFetchItem(std::string* out, const FetchItem& item) {
  switch (item.type) {
    case FetchItemType::kEnvelope:
      out->append("ENVELOPE");
      return;
    case FetchItemType::kFlags:
      out->append("FLAGS");
      return;
    case FetchItemType::kInternalDate:
      out->append("INTERNALDATE");
      return;
    case FetchItemType::kRfc822:
      out->append("RFC822");
      return;
    case FetchItemType::kRfc822Header:
      out->append("RFC822.HEADER");
      return;
    case FetchItemType::kRfc822Size:
      out->append("RFC822.SIZE");
      return;
    case FetchItemType::kRfc822Text:
      out->append("RFC822.TEXT");
      return;
    case FetchItemType::kBody:
      out->append("BODY");
      return;
    case FetchItemType::kBodyStructure:
      out->append("BODYSTRUCTURE");
      return;
    case FetchItemType::kUid:
      out->append("UID");
      return;
    case FetchItemType::kModSeq:
      out->append("MODSEQ");
      return;
    case FetchItemType::kBodySection:
      out->append(item.peek ? "BODY.PEEK" : "BODY");
      break;
    case FetchItemType::kBinary:
      out->append(item.peek ? "BINARY.PEEK" : "BINARY");
      break;
    case FetchItemType::kBinarySize:
      out->append("BINARY.SIZE");
      break;
  }
  FormatSection(out, item.section);
  if (item.partial.has_value()) {
    out->append("<" + std::to_string(item.partial->offset) + "." +
                std::to_string(item.partial->count) + ">");
  }
}

void Format(std::string*, const CapabilityArgs&) {}
void Format(std::string*, const NoopArgs&) {}
void Format(std::string*, const LogoutArgs&) {}
void Format(std::string*, const StartTlsArgs&) {}
void Format(std::string*, const NamespaceArgs&) {}
void Format(std::string*, const IdleArgs&) {}
void Format(std::string*, const CheckArgs&) {}
void Format(std::string*, const CloseArgs&) {}
void Format(std::string*, const UnselectArgs&) {}

void Format(std::string* out, const AuthenticateArgs& a) {
  out->append(" " + a.mechanism);
  if (a.initial_response.has_value()) {
    out->push_back(' ');
    out->append(a.initial_response->empty() ? "=" : common::Base64Encode(*a.initial_response));
  }
}

void Format(std::string* out, const LoginArgs& a) {
  out->push_back(' ');
  Str(out, a.user);
  out->push_back(' ');
  Str(out, a.password);
}

void Format(std::string* out, const IdArgs& a) {
  out->push_back(' ');
  if (!a.params.has_value()) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  for (size_t i = 0; i < a.params->size(); ++i) {
    if (i > 0) out->push_back(' ');
    AppendString(out, (*a.params)[i].first, true);
    out->push_back(' ');
    AppendNString(out, (*a.params)[i].second, true);
  }
  out->push_back(')');
}

void Format(std::string* out, const EnableArgs& a) {
  for (const std::string& c : a.capabilities) out->append(" " + c);
}

void Format(std::string* out, const SelectArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
  if (!a.condstore && !a.qresync.has_value()) return;
  out->append(" (");
  if (a.condstore) out->append("CONDSTORE");
  if (a.qresync.has_value()) {
    if (a.condstore) out->push_back(' ');
    out->append("QRESYNC (" + std::to_string(a.qresync->uid_validity) + " " +
                std::to_string(a.qresync->mod_seq));
    if (a.qresync->known_uids.has_value()) out->append(" " + a.qresync->known_uids->ToString());
    if (a.qresync->seq_match.has_value()) {
      out->append(" (" + a.qresync->seq_match->first.ToString() + " " +
                  a.qresync->seq_match->second.ToString() + ")");
    }
    out->push_back(')');
  }
  out->push_back(')');
}

void Format(std::string* out, const CreateArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
  if (!a.special_use.empty()) {
    out->append(" (USE ");
    AppendFlagList(out, a.special_use);
    out->push_back(')');
  }
}

void Format(std::string* out, const DeleteArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const RenameArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.from);
  out->push_back(' ');
  Mailbox(out, a.to);
}

void Format(std::string* out, const SubscribeArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const UnsubscribeArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const ListArgs& a) {
  std::vector<std::string_view> select;
  if (a.select_subscribed) select.push_back("SUBSCRIBED");
  if (a.select_remote) select.push_back("REMOTE");
  if (a.select_recursive_match) select.push_back("RECURSIVEMATCH");
  if (a.select_special_use) select.push_back("SPECIAL-USE");
  if (a.extended) {
    out->append(" (");
    for (size_t i = 0; i < select.size(); ++i) {
      if (i > 0) out->push_back(' ');
      out->append(select[i]);
    }
    out->push_back(')');
  }
  out->push_back(' ');
  Mailbox(out, a.reference);
  out->push_back(' ');
  if (a.extended) out->push_back('(');
  for (size_t i = 0; i < a.patterns.size(); ++i) {
    if (i > 0) out->push_back(' ');
    Mailbox(out, a.patterns[i]);
  }
  if (a.extended) {
    out->append(") RETURN (");
    std::vector<std::string> ret;
    if (a.return_subscribed) ret.push_back("SUBSCRIBED");
    if (a.return_children) ret.push_back("CHILDREN");
    if (a.return_special_use) ret.push_back("SPECIAL-USE");
    if (a.return_status.has_value()) {
      std::string s = "STATUS ";
      StatusItems(&s, *a.return_status);
      ret.push_back(s);
    }
    for (size_t i = 0; i < ret.size(); ++i) {
      if (i > 0) out->push_back(' ');
      out->append(ret[i]);
    }
    out->push_back(')');
  }
}

void Format(std::string* out, const LsubArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.reference);
  out->push_back(' ');
  Mailbox(out, a.pattern);
}

void Format(std::string* out, const StatusArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
  out->push_back(' ');
  StatusItems(out, a.items);
}

void Format(std::string* out, const AppendArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
  for (const AppendMessage& m : a.messages) {
    out->push_back(' ');
    AppendFlagList(out, m.flags);
    if (m.internal_date.has_value()) {
      out->push_back(' ');
      out->append(FormatDateTime(*m.internal_date, m.zone_offset_minutes));
    }
    out->push_back(' ');
    if (m.utf8) out->append("UTF8 (");
    if (m.binary || m.utf8) out->push_back('~');
    AppendLiteral(out, m.data);
    if (m.utf8) out->push_back(')');
  }
}

void Format(std::string* out, const ExpungeArgs& a) {
  if (a.uid_set.has_value()) out->append(" " + a.uid_set->ToString());
}

void Format(std::string* out, const SearchArgs& a) {
  if (a.return_options.has_value()) {
    out->append(" RETURN (");
    for (size_t i = 0; i < a.return_options->size(); ++i) {
      if (i > 0) out->push_back(' ');
      out->append(SearchReturnOptionName((*a.return_options)[i]));
    }
    out->push_back(')');
  }
  if (a.charset.has_value()) {
    out->append(" CHARSET ");
    Str(out, *a.charset);
  }
  out->push_back(' ');
  FormatSearchKey(out, a.key, /*top=*/true);
}

void Format(std::string* out, const FetchArgs& a) {
  out->append(" " + a.set.ToString() + " (");
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (i > 0) out->push_back(' ');
    FormatFetchItem(out, a.items[i]);
  }
  out->push_back(')');
  if (a.changed_since.has_value()) {
    out->append(" (CHANGEDSINCE " + std::to_string(*a.changed_since));
    if (a.vanished) out->append(" VANISHED");
    out->push_back(')');
  }
}

void Format(std::string* out, const StoreArgs& a) {
  out->append(" " + a.set.ToString());
  if (a.unchanged_since.has_value()) {
    out->append(" (UNCHANGEDSINCE " + std::to_string(*a.unchanged_since) + ")");
  }
  out->push_back(' ');
  if (a.operation == StoreOperation::kAdd) out->push_back('+');
  if (a.operation == StoreOperation::kRemove) out->push_back('-');
  out->append(a.silent ? "FLAGS.SILENT " : "FLAGS ");
  AppendFlagList(out, a.flags);
}

void Format(std::string* out, const CopyArgs& a) {
  out->append(" " + a.set.ToString() + " ");
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const MoveArgs& a) {
  out->append(" " + a.set.ToString() + " ");
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const GetQuotaArgs& a) {
  out->push_back(' ');
  Str(out, a.root);
}

void Format(std::string* out, const GetQuotaRootArgs& a) {
  out->push_back(' ');
  Mailbox(out, a.mailbox);
}

void Format(std::string* out, const SetQuotaArgs& a) {
  out->push_back(' ');
  Str(out, a.root);
  out->append(" (");
  for (size_t i = 0; i < a.limits.size(); ++i) {
    if (i > 0) out->push_back(' ');
    out->append(a.limits[i].first + " " + std::to_string(a.limits[i].second));
  }
  out->push_back(')');
}

}  // namespace

std::string_view Command::name() const {
  return std::visit([](const auto& a) { return NameOf(a); }, args);
}

std::string FormatCommand(const Command& command) {
  std::string out = command.tag;
  out.push_back(' ');
  if (command.uid) out.append("UID ");
  out.append(command.name());
  std::visit([&out](const auto& a) { Format(&out, a); }, command.args);
  return out;
}

}  // namespace cas::imap
