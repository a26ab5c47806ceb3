#include "cas/imap/session/qresync.h"

#include <algorithm>
#include <limits>

#include "cas/imap/codec/response.h"

namespace cas::imap {
namespace {

constexpr uint32_t kMaxUid = std::numeric_limits<uint32_t>::max();

// The highest UID below UIDNEXT: the top of every UID range the folder has used.
uint32_t TopUid(const MailboxView& view) { return view.uidnext() > 0 ? view.uidnext() - 1 : 0; }

// Position of the first message with a UID >= `uid`.
std::vector<MessageEntry>::const_iterator LowerBound(const MailboxView& view, uint32_t uid) {
  return std::lower_bound(view.messages().begin(), view.messages().end(), uid,
                          [](const MessageEntry& e, uint32_t u) { return e.uid < u; });
}

// The largest UID of the sequence match data that is still at the sequence number the client
// gave for it (0 if none). The two sets are walked together as runs where both numbers grow by
// one; in a run, UID(seq) - seq never decreases as seq grows (UIDs are strictly ascending), so
// the last match of each run is found by binary search.
uint32_t LargestMatchingUid(const MailboxView& view, const SequenceSet& seqs,
                            const SequenceSet& uids) {
  auto offset = [&view](uint64_t seq) {
    return static_cast<int64_t>(view.AtSeq(static_cast<uint32_t>(seq)).uid) -
           static_cast<int64_t>(seq);
  };
  uint32_t best = 0;
  size_t i = 0, j = 0;
  uint64_t seq_done = 0, uid_done = 0;  // Numbers already used from seqs[i] and uids[j].
  while (i < seqs.ranges.size() && j < uids.ranges.size()) {
    const SeqRange& sr = seqs.ranges[i];
    const SeqRange& ur = uids.ranges[j];
    if (sr.first == SequenceSet::kStar || sr.last == SequenceSet::kStar ||
        ur.first == SequenceSet::kStar || ur.last == SequenceSet::kStar) {
      return 0;  // The parser refuses "*" here; nothing to match against.
    }
    const uint64_t seq_lo = uint64_t{std::min(sr.first, sr.last)} + seq_done;
    const uint64_t seq_hi = std::max(sr.first, sr.last);
    const uint64_t uid_lo = uint64_t{std::min(ur.first, ur.last)} + uid_done;
    const uint64_t uid_hi = std::max(ur.first, ur.last);
    const uint64_t len = std::min(seq_hi - seq_lo, uid_hi - uid_lo) + 1;
    const int64_t want = static_cast<int64_t>(uid_lo) - static_cast<int64_t>(seq_lo);
    const uint64_t last = std::min<uint64_t>(seq_lo + len - 1, view.exists());
    if (seq_lo <= last && offset(seq_lo) <= want) {
      uint64_t lo = seq_lo, hi = last;
      while (lo < hi) {
        const uint64_t mid = lo + (hi - lo + 1) / 2;
        if (offset(mid) <= want) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      if (offset(lo) == want) best = std::max(best, view.AtSeq(static_cast<uint32_t>(lo)).uid);
    }
    seq_done += len;
    uid_done += len;
    if (seq_lo + len - 1 == seq_hi) {
      ++i;
      seq_done = 0;
    }
    if (uid_lo + len - 1 == uid_hi) {
      ++j;
      uid_done = 0;
    }
  }
  return best;
}

// `ranges` without the UIDs 1..`below`.
std::vector<SeqRange> Above(const std::vector<SeqRange>& ranges, uint32_t below) {
  std::vector<SeqRange> out;
  for (const SeqRange& r : ranges) {
    if (r.last <= below) continue;
    out.push_back({std::max(r.first, below + 1), r.last});
  }
  return out;
}

}  // namespace

std::vector<uint32_t> ExpungedUids(const mail::v1::GetChangesResponse& changes,
                                   uint32_t folder_id) {
  std::vector<uint32_t> out;
  for (const auto& e : changes.changes()) {
    if (e.kind() != mail::v1::CHANGE_KIND_EXPUNGE || e.folder_id() != folder_id) continue;
    out.insert(out.end(), e.uids().begin(), e.uids().end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<SeqRange> VanishedUids(const MailboxView& view, const std::vector<SeqRange>& within,
                                   const std::optional<std::vector<uint32_t>>& expunged) {
  std::vector<SeqRange> out;
  if (expunged.has_value()) {
    std::vector<uint32_t> uids;
    size_t r = 0;
    for (uint32_t uid : *expunged) {
      while (r < within.size() && within[r].last < uid) ++r;
      if (r == within.size()) break;
      if (uid >= within[r].first && view.SeqOf(uid) == 0) uids.push_back(uid);
    }
    return ToRanges(uids);
  }
  // No record of what was expunged: every UID the folder has used and no longer holds.
  const uint32_t top = TopUid(view);
  for (const SeqRange& r : within) {
    if (r.first > top) break;
    const uint64_t last = std::min(r.last, top);
    uint64_t next = r.first;  // The lowest UID not yet accounted for.
    for (auto it = LowerBound(view, r.first); it != view.messages().end() && it->uid <= last;
         ++it) {
      if (it->uid > next) out.push_back({static_cast<uint32_t>(next), it->uid - 1});
      next = uint64_t{it->uid} + 1;
    }
    if (next <= last) out.push_back({static_cast<uint32_t>(next), static_cast<uint32_t>(last)});
  }
  return out;
}

QresyncReply ComputeQresync(const MailboxView& view, const QresyncParams& params,
                            const std::optional<std::vector<uint32_t>>& expunged) {
  QresyncReply reply;
  const uint32_t top = TopUid(view);
  std::vector<SeqRange> within;
  if (params.known_uids.has_value()) {
    within = params.known_uids->Resolve(top);
  } else if (top > 0) {
    within.push_back({1, top});
  }
  if (!expunged.has_value() && params.seq_match.has_value()) {
    within =
        Above(within, LargestMatchingUid(view, params.seq_match->first, params.seq_match->second));
  }
  reply.vanished = VanishedUids(view, within, expunged);

  // Messages changed (or added) since the client's MODSEQ, among the known UIDs if given.
  std::vector<SeqRange> known;
  if (params.known_uids.has_value()) known = params.known_uids->Resolve(kMaxUid);
  size_t r = 0;
  const auto& messages = view.messages();
  for (size_t i = 0; i < messages.size(); ++i) {
    const MessageEntry& m = messages[i];
    if (m.modseq <= params.mod_seq) continue;
    if (params.known_uids.has_value()) {
      while (r < known.size() && known[r].last < m.uid) ++r;
      if (r == known.size()) break;
      if (m.uid < known[r].first) continue;
    }
    reply.changed.emplace_back(static_cast<uint32_t>(i + 1), m);
  }
  return reply;
}

}  // namespace cas::imap
