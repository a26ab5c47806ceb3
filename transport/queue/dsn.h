// Delivery status notifications (RFC 3464 message/delivery-status inside an RFC 6522
// multipart/report): the "Undeliverable", "Delivery delayed", "Delivered" and "Relayed"
// messages the queue sends back to a sender, with the null reverse-path.
//
// A pure function: no clock, no randomness, no I/O. The same input gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "transport.pb.h"

namespace transport::queue {

// kRelayed: passed to a next hop that does not offer DSN, so no further report will come
// (RFC 3464 section 2.3.3), for recipients that asked for NOTIFY=SUCCESS.
enum class DsnAction { kFailed, kDelayed, kDelivered, kRelayed };

struct DsnInput {
  // The queued envelope; must not be null.
  const mail::v1::QueuedMessage* message = nullptr;
  // The queued body (the original message as received).
  std::string_view original;
  // Indexes into message->recipients() this report is about; others are ignored, as are
  // indexes out of range.
  std::vector<int> recipient_indexes;
  DsnAction action = DsnAction::kFailed;
  // Our host name, for Reporting-MTA and the Message-ID.
  std::string reporting_mta;
  // Date of the report; also the Last-Attempt-Date of recipients that were tried (the
  // envelope keeps no time of the last attempt).
  int64_t now_unix = 0;
  // "postmaster@example.test": the From address.
  std::string postmaster_address;
  // The host that gave last_response, for Remote-MTA ("mx1.example.org"). Empty = unknown,
  // the field is left out.
  std::string remote_mta;
};

// Originals larger than this are returned as headers only (text/rfc822-headers).
inline constexpr size_t kDsnMaxReturnedOriginal = 10 * 1024 * 1024;

// A complete RFC 5322 message with CRLF line ends and no line longer than 998 octets, ready
// to be queued with the null sender to message->sender():
//   part 1 text/plain: what happened, the remote server's reply, and what the user can do;
//   part 2 message/delivery-status: the RFC 3464 fields per recipient;
//   part 3 message/rfc822 with the original, or text/rfc822-headers with only its header
//          section when RET=HDRS, when it is larger than kDsnMaxReturnedOriginal, when it has
//          lines longer than 998 octets (message/rfc822 cannot be encoded), or when the
//          report is not a failure (delayed, delivered, relayed: RFC 3461 section 4.3).
// Carries 8-bit octets (Content-Transfer-Encoding: 8bit) only when the returned original
// or header does; everything the builder writes itself is 7-bit.
std::string BuildDsn(const DsnInput& in);

// "Tue, 03 Mar 2026 09:05:00 +0000" (RFC 5322 section 3.3, always UTC).
std::string FormatRfc5322Date(int64_t unix_seconds);

}  // namespace transport::queue
