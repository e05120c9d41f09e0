#include "imapserver/sort.h"

#include <algorithm>

#include "message/date.h"
#include "message/header_text.h"
#include "message/thread_keys.h"

namespace postern::imapserver {
namespace {

// The first real address of a list: group markers (no host) are skipped.
const message::EnvelopeAddress* FirstAddress(const std::vector<message::EnvelopeAddress>& list) {
  for (const message::EnvelopeAddress& address : list) {
    if (!address.host.empty()) return &address;
  }
  return nullptr;
}

// RFC 5256 §3 FROM, TO, CC: the addr-mailbox.
std::string MailboxKey(const std::vector<message::EnvelopeAddress>& list) {
  const message::EnvelopeAddress* address = FirstAddress(list);
  return address ? message::UnicodeCasemap(address->mailbox) : std::string();
}

// RFC 5957 §3: the decoded addr-name if it is not empty, else
// addr-mailbox@addr-host.
std::string DisplayKey(const std::vector<message::EnvelopeAddress>& list) {
  const message::EnvelopeAddress* address = FirstAddress(list);
  if (!address) return {};
  std::string display;
  if (address->has_name) display = message::DecodeHeaderText(address->name);
  if (display.empty()) display = address->mailbox + "@" + address->host;
  return message::UnicodeCasemap(display);
}

template <typename T>
int Compare(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareBy(imap::SortKey key, const SortValues& a, const SortValues& b) {
  switch (key) {
    case imap::SortKey::kArrival:
      return Compare(a.arrival, b.arrival);
    case imap::SortKey::kDate:
      return Compare(a.sent, b.sent);
    case imap::SortKey::kSize:
      return Compare(a.size, b.size);
    case imap::SortKey::kSubject:
      return a.subject.compare(b.subject);  // octets: char_traits<char> compares unsigned
    case imap::SortKey::kFrom:
      return a.from.compare(b.from);
    case imap::SortKey::kTo:
      return a.to.compare(b.to);
    case imap::SortKey::kCc:
      return a.cc.compare(b.cc);
    case imap::SortKey::kDisplayFrom:
      return a.display_from.compare(b.display_from);
    case imap::SortKey::kDisplayTo:
      return a.display_to.compare(b.display_to);
  }
  return 0;
}

}  // namespace

int64_t SentDate(const message::Envelope* envelope, int64_t internal_date) {
  if (envelope == nullptr) return internal_date;
  std::optional<message::DateTime> date = message::ParseDateTime(envelope->date);
  return date ? date->utc_seconds : internal_date;
}

SortValues SortValuesOf(const message::Envelope* envelope, uint32_t seq, int64_t internal_date,
                        uint64_t size, const std::vector<imap::SortCriterion>& criteria) {
  SortValues v;
  v.seq = seq;
  v.arrival = internal_date;
  v.size = size;
  v.sent = internal_date;
  if (envelope == nullptr) return v;
  for (const imap::SortCriterion& criterion : criteria) {
    switch (criterion.key) {
      case imap::SortKey::kDate:
        v.sent = SentDate(envelope, internal_date);
        break;
      case imap::SortKey::kSubject:
        v.subject = message::BaseSubject(message::DecodeHeaderText(envelope->subject));
        break;
      case imap::SortKey::kFrom:
        v.from = MailboxKey(envelope->from);
        break;
      case imap::SortKey::kTo:
        v.to = MailboxKey(envelope->to);
        break;
      case imap::SortKey::kCc:
        v.cc = MailboxKey(envelope->cc);
        break;
      case imap::SortKey::kDisplayFrom:
        v.display_from = DisplayKey(envelope->from);
        break;
      case imap::SortKey::kDisplayTo:
        v.display_to = DisplayKey(envelope->to);
        break;
      case imap::SortKey::kArrival:
      case imap::SortKey::kSize:
        break;
    }
  }
  return v;
}

void SortMessages(const std::vector<imap::SortCriterion>& criteria,
                  std::vector<SortValues>* messages) {
  std::sort(messages->begin(), messages->end(), [&](const SortValues& a, const SortValues& b) {
    for (const imap::SortCriterion& criterion : criteria) {
      int c = CompareBy(criterion.key, a, b);
      if (c != 0) return criterion.reverse ? c > 0 : c < 0;
    }
    return a.seq < b.seq;
  });
}

message::ThreadMessage ThreadInputOf(const message::Envelope* envelope, std::string_view references,
                                     uint32_t number, int64_t internal_date) {
  message::ThreadMessage t;
  t.number = number;
  t.sent_date = SentDate(envelope, internal_date);
  if (envelope == nullptr) return t;
  const std::string subject = message::DecodeHeaderText(envelope->subject);
  t.base_subject = message::BaseSubject(subject);
  t.reply_or_forward = message::IsReplyOrForward(subject);
  std::vector<std::string> own = message::ParseMessageIds(envelope->message_id);
  if (!own.empty()) t.message_id = std::move(own.front());
  t.references = message::ParseMessageIds(references);
  if (t.references.empty()) {
    // RFC 5256 §3: only the first id of In-Reply-To; what follows it is
    // too often not a parent.
    std::vector<std::string> parents = message::ParseMessageIds(envelope->in_reply_to);
    if (!parents.empty()) t.references.push_back(std::move(parents.front()));
  }
  return t;
}

}  // namespace postern::imapserver
