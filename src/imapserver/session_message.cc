// IMAP session: message commands (FETCH, STORE, SEARCH, COPY, MOVE,
// EXPUNGE) on the selected mailbox.
#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "base/clock.h"
#include "base/strings.h"
#include "imapserver/session.h"
#include "mailbox/structure.h"
#include "mailbox/text_search.h"
#include "message/charset.h"
#include "message/codec.h"
#include "message/date.h"
#include "message/header_text.h"
#include "message/mime.h"
#include "message/params.h"
#include "message/search_text.h"
#include "net/async.h"

namespace postern::imapserver {
namespace {

// FETCH output is flushed once this much is queued, so a large FETCH does
// not hold every message in memory.
constexpr size_t kFlushAt = 256 * 1024;

// Headers read per trip to the blocking pool (FETCH, SEARCH): bounds the
// memory and the time of one pool job.
constexpr size_t kHeaderBatch = 1000;

// Non-UID sequence sets must name existing messages (RFC 9051 §9
// seq-number); UIDs that do not exist are ignored.
bool ValidSequenceNumbers(const imap::SequenceSet& set, uint32_t exists) {
  for (const auto& r : set.ranges) {
    if (r.first != imap::kStar && r.first > exists) return false;
    if (r.last != imap::kStar && r.last > exists) return false;
    if (exists == 0) return false;
  }
  return true;
}

// A header as served: it must end with the empty line (RFC 9051 §6.4.5).
std::string WithBlankLine(std::string_view header) {
  std::string out(header);
  if (!(out.ends_with("\r\n\r\n") || out == "\r\n")) {
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    out += "\r\n";
  }
  return out;
}

// The raw lines of the fields named (or not named) in `names`.
std::string HeaderFields(const message::Message& m, const message::Part& part,
                         const std::vector<std::string>& names, bool exclude) {
  std::string out;
  for (const message::HeaderField& field : part.fields) {
    bool listed = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return EqualsIgnoreCase(n, field.name);
    });
    if (listed == exclude) continue;
    const char* end = field.value.data() + field.value.size();
    out.append(m.raw.substr(field.offset, static_cast<size_t>(end - m.raw.data()) - field.offset));
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

// The octets a BODY[section] names; empty for a section that does not
// exist (Dovecot answers those with an empty string too).
std::string SectionOf(const message::Message& m, const imap::Section& section) {
  const message::Part* part = message::FindPart(m, section.part);
  if (part == nullptr) return {};
  const message::Part* target = nullptr;  // the message HEADER/TEXT apply to
  if (section.part.empty()) {
    target = &m.root;
  } else if (part->embedded) {
    target = &part->children.front();
  }
  switch (section.text) {
    case imap::SectionText::kNone:
      if (section.part.empty()) return std::string(m.raw);
      return std::string(m.BodyBytes(*part));
    case imap::SectionText::kMime:
      return WithBlankLine(m.HeaderBytes(*part));
    case imap::SectionText::kHeader:
      return target ? WithBlankLine(m.HeaderBytes(*target)) : std::string();
    case imap::SectionText::kText:
      return target ? std::string(m.BodyBytes(*target)) : std::string();
    case imap::SectionText::kHeaderFields:
      return target ? HeaderFields(m, *target, section.fields, false) : std::string();
    case imap::SectionText::kHeaderFieldsNot:
      return target ? HeaderFields(m, *target, section.fields, true) : std::string();
  }
  return {};
}

// Whether a FETCH item is answered from the top-level header alone (the
// cached header: mailbox::MessageHeaders), without reading the body.
bool HeaderOnly(const imap::FetchItem& item) {
  if (item.kind == imap::FetchKind::kRfc822Header) return true;
  if (item.kind != imap::FetchKind::kBodySection || !item.section.part.empty()) return false;
  return item.section.text == imap::SectionText::kHeader ||
         item.section.text == imap::SectionText::kHeaderFields ||
         item.section.text == imap::SectionText::kHeaderFieldsNot;
}

std::string Partial(std::string data, const std::optional<imap::Partial>& partial) {
  if (!partial) return data;
  if (partial->offset >= data.size()) return {};
  return data.substr(partial->offset, partial->length);
}

// The decoded octets of BINARY[section] (RFC 3516 §4.2): the part's content
// with its Content-Transfer-Encoding undone; text in CRLF form (§6).
// Sizes (BINARY.SIZE) come from the same function, so they always agree.
// BINARY[] is the whole message; a multipart or message/rfc822 part, whose
// encoding can only be an identity, is served as it is. A part that does not
// exist is empty, as for BODY[]. nullopt: an encoding we cannot undo (the
// caller answers NO [UNKNOWN-CTE], RFC 3516 §4.3).
std::optional<std::string> BinarySection(const message::Message& m,
                                         const std::vector<uint32_t>& path) {
  if (path.empty()) return std::string(m.raw);
  const message::Part* part = message::FindPart(m, path);
  if (part == nullptr) return std::string();
  if (!part->transfer_encoding.empty() &&
      !message::IsKnownTransferEncoding(part->transfer_encoding)) {
    return std::nullopt;
  }
  std::string data = message::DecodeTransferEncoding(part->transfer_encoding, m.BodyBytes(*part));
  // Text in an ASCII-compatible charset has no NUL; UTF-16 and UTF-32 text
  // does, and its octets are not lines.
  if (part->type == "text" && data.find('\0') == std::string::npos) data = message::ToCrlf(data);
  return data;
}

// ---- SEARCH

// Whether matching `key` reads the message's header (BODY and TEXT do not:
// they are answered from the full-text index beforehand, TextHits).
bool NeedsContent(const imap::SearchKey& key) {
  using K = imap::SearchKeyKind;
  switch (key.kind) {
    case K::kBcc:
    case K::kCc:
    case K::kFrom:
    case K::kSubject:
    case K::kTo:
    case K::kHeader:
    case K::kSentBefore:
    case K::kSentOn:
    case K::kSentSince:
      return true;
    default:
      break;
  }
  return std::any_of(key.children.begin(), key.children.end(), NeedsContent);
}

// The BODY and TEXT keys of a search, answered from the full-text index
// before any message is matched: for each key, the ids (ascending) of the
// messages whose text holds its string.
using TextHits = std::unordered_map<const imap::SearchKey*, std::vector<int64_t>>;

void CollectTextKeys(const imap::SearchKey& key, std::vector<const imap::SearchKey*>* out) {
  if (key.kind == imap::SearchKeyKind::kBody || key.kind == imap::SearchKeyKind::kText) {
    out->push_back(&key);
  }
  for (const auto& child : key.children) CollectTextKeys(child, out);
}

// What a search knows before it looks at any message: the BODY/TEXT answers,
// the candidates of header keys and the resolved sequence sets.
struct Prefilter {
  TextHits text_hits;
  // For a FROM/TO/CC/BCC/SUBJECT/HEADER key: the ids (ascending) of the
  // messages whose header MAY match (mailbox::HeaderCandidates); a message
  // not listed cannot match, one listed is checked exactly. A key without an
  // entry is checked on every message.
  std::unordered_map<const imap::SearchKey*, std::vector<int64_t>> header_candidates;
  std::unordered_map<const imap::SearchKey*, std::vector<imap::SequenceRange>> ranges;
};

bool IsHeaderKey(const imap::SearchKey& key) {
  using K = imap::SearchKeyKind;
  return key.kind == K::kBcc || key.kind == K::kCc || key.kind == K::kFrom ||
         key.kind == K::kSubject || key.kind == K::kTo || key.kind == K::kHeader;
}

// The parts of a header key's string the index is asked for (a message must
// hold each to match), none when the index cannot narrow the key. The exact
// check joins the values of repeated fields with a space, the index keeps one
// line per field: a run of the needle without white space lies within one
// field's value, so it is in that field's indexed line whenever the whole
// needle matches. The two longest runs of 3 or more bytes are asked for
// (HeaderCandidates counts characters and skips shorter ones). The
// per-recipient fields stored before each body (Return-Path, Delivered-To:
// store::MessageInfo::header_prefix) are not indexed.
std::vector<std::string> IndexedParts(const imap::SearchKey& key) {
  constexpr size_t kMostParts = 2;
  if (key.kind == imap::SearchKeyKind::kHeader &&
      (EqualsIgnoreCase(key.field, "Return-Path") || EqualsIgnoreCase(key.field, "Delivered-To"))) {
    return {};
  }
  if (key.value.find('\0') != std::string::npos) return {};
  std::vector<std::string_view> runs;
  for (std::string_view run : Split(key.value, ' ')) {
    for (std::string_view part : Split(run, '\t')) {
      if (part.size() < 3 || part.find_first_of("\r\n") != std::string_view::npos) continue;
      runs.push_back(part);
    }
  }
  std::stable_sort(runs.begin(), runs.end(),
                   [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  if (runs.size() > kMostParts) runs.resize(kMostParts);
  return std::vector<std::string>(runs.begin(), runs.end());
}

void CollectHeaderKeys(const imap::SearchKey& key, std::vector<const imap::SearchKey*>* out) {
  if (IsHeaderKey(key) && !IndexedParts(key).empty()) out->push_back(&key);
  for (const auto& child : key.children) CollectHeaderKeys(child, out);
}

void ResolveSets(const imap::SearchKey& key, const SelectedMailbox& mailbox, Prefilter* out) {
  using K = imap::SearchKeyKind;
  if ((key.kind == K::kSequenceSet || key.kind == K::kUid) && !key.set.saved) {
    out->ranges[&key] =
        key.set.Resolve(key.kind == K::kUid ? mailbox.LargestUid() : mailbox.exists());
  }
  for (const auto& child : key.children) ResolveSets(child, mailbox, out);
}

// Messages larger than this may have a header whose indexed text was cut
// (message::kMaxSearchableText gives the header a quarter; decoding and
// folding make at most 4 bytes of text from one byte of header): they are
// always checked exactly.
constexpr uint64_t kMayBeCut = message::kMaxSearchableText / 4 / 4;

// For a header key: false when the index rules message `m` out (it cannot
// match), true when it must be checked exactly.
bool MayMatchHeader(const imap::SearchKey& key, const MessageView& m, const Prefilter& pre) {
  auto it = pre.header_candidates.find(&key);
  if (it == pre.header_candidates.end() || m.size > kMayBeCut) return true;
  return std::binary_search(it->second.begin(), it->second.end(), m.id);
}

// Whether matching `key` on message `m` needs its header, given what the
// prefilter already knows.
bool NeedsHeader(const imap::SearchKey& key, const MessageView& m, const Prefilter& pre) {
  using K = imap::SearchKeyKind;
  if (IsHeaderKey(key)) return MayMatchHeader(key, m, pre);
  if (key.kind == K::kSentBefore || key.kind == K::kSentOn || key.kind == K::kSentSince) {
    return true;
  }
  return std::any_of(key.children.begin(), key.children.end(),
                     [&](const imap::SearchKey& child) { return NeedsHeader(child, m, pre); });
}

// Case-insensitive substring test (Unicode simple case folding, as BODY and
// TEXT match); the empty needle matches.
bool Contains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  return message::FoldCase(haystack).find(message::FoldCase(needle)) != std::string::npos;
}

// What a search reads from one message: its header (prefix included).
struct Content {
  std::string raw;
  message::Message parsed;

  explicit Content(std::string r) : raw(std::move(r)), parsed(message::ParseMessage(raw)) {}
  Content(const Content&) = delete;  // `parsed` points into `raw`
  Content& operator=(const Content&) = delete;

  std::string HeaderText(std::string_view name) const {
    std::string out;
    for (const auto& f : parsed.root.fields) {
      if (!EqualsIgnoreCase(f.name, name)) continue;
      if (!out.empty()) out += ' ';
      out += message::DecodeHeaderText(f.value);
    }
    return out;
  }
  bool HasHeader(std::string_view name) const { return parsed.root.FindField(name) != nullptr; }
};

int64_t DayOf(int64_t unix_time) {
  return unix_time >= 0 ? unix_time / 86400 : (unix_time - 86399) / 86400;
}

int64_t DayOf(const imap::Date& date) { return DayOf(date.ToUnixTime()); }

struct Matcher {
  const SelectedMailbox& mailbox;
  int64_t now = 0;
  const Prefilter& pre;

  bool MayMatchHeader(const imap::SearchKey& key, const MessageView& m) const {
    return imapserver::MayMatchHeader(key, m, pre);
  }

  bool Match(const imap::SearchKey& key, uint32_t seq, const MessageView& m, Content* c) const {
    using K = imap::SearchKeyKind;
    switch (key.kind) {
      case K::kAnd:
        for (const auto& child : key.children) {
          if (!Match(child, seq, m, c)) return false;
        }
        return true;
      case K::kOr:
        return Match(key.children[0], seq, m, c) || Match(key.children[1], seq, m, c);
      case K::kNot:
        return !Match(key.children[0], seq, m, c);
      case K::kSequenceSet:
        if (key.set.saved) return mailbox.InSearchResult(m.uid);  // RFC 5182 "$"
        return imap::RangesContain(pre.ranges.at(&key), seq);
      case K::kUid:
        if (key.set.saved) return mailbox.InSearchResult(m.uid);
        return imap::RangesContain(pre.ranges.at(&key), m.uid);
      case K::kAll:
        return true;
      case K::kAnswered:
        return m.flags & store::kFlagAnswered;
      case K::kDeleted:
        return m.flags & store::kFlagDeleted;
      case K::kDraft:
        return m.flags & store::kFlagDraft;
      case K::kFlagged:
        return m.flags & store::kFlagFlagged;
      case K::kSeen:
        return m.flags & store::kFlagSeen;
      case K::kUnanswered:
        return !(m.flags & store::kFlagAnswered);
      case K::kUndeleted:
        return !(m.flags & store::kFlagDeleted);
      case K::kUndraft:
        return !(m.flags & store::kFlagDraft);
      case K::kUnflagged:
        return !(m.flags & store::kFlagFlagged);
      case K::kUnseen:
        return !(m.flags & store::kFlagSeen);
      case K::kNew:
      case K::kRecent:
        return false;  // no message is \Recent here
      case K::kOld:
        return true;
      case K::kKeyword:
      case K::kUnkeyword: {
        bool has = false;
        for (std::string_view k : Split(m.keywords, ' '))
          has = has || EqualsIgnoreCase(k, key.value);
        return key.kind == K::kKeyword ? has : !has;
      }
      case K::kBcc:
        return MayMatchHeader(key, m) && c && Contains(c->HeaderText("Bcc"), key.value);
      case K::kCc:
        return MayMatchHeader(key, m) && c && Contains(c->HeaderText("Cc"), key.value);
      case K::kFrom:
        return MayMatchHeader(key, m) && c && Contains(c->HeaderText("From"), key.value);
      case K::kTo:
        return MayMatchHeader(key, m) && c && Contains(c->HeaderText("To"), key.value);
      case K::kSubject:
        return MayMatchHeader(key, m) && c && Contains(c->HeaderText("Subject"), key.value);
      case K::kHeader:
        if (!MayMatchHeader(key, m) || !c) return false;
        if (key.value.empty()) return c->HasHeader(key.field);
        return Contains(c->HeaderText(key.field), key.value);
      case K::kBody:
      case K::kText: {
        const std::vector<int64_t>& ids = pre.text_hits.at(&key);
        return std::binary_search(ids.begin(), ids.end(), m.id);
      }
      case K::kBefore:
        return DayOf(m.internal_date) < DayOf(key.date);
      case K::kOn:
        return DayOf(m.internal_date) == DayOf(key.date);
      case K::kSince:
        return DayOf(m.internal_date) >= DayOf(key.date);
      case K::kSavedBefore:
        return DayOf(m.saved) < DayOf(key.date);
      case K::kSavedOn:
        return DayOf(m.saved) == DayOf(key.date);
      case K::kSavedSince:
        return DayOf(m.saved) >= DayOf(key.date);
      case K::kSavedateSupported:
        return true;
      case K::kSentBefore:
      case K::kSentOn:
      case K::kSentSince: {
        if (!c) return false;
        const message::HeaderField* date = c->parsed.root.FindField("Date");
        std::optional<message::DateTime> sent;
        if (date) sent = message::ParseDateTime(date->value);
        if (!sent) return false;
        imap::Date d{sent->year, sent->month, sent->day};
        int64_t day = DayOf(d), want = DayOf(key.date);
        if (key.kind == K::kSentBefore) return day < want;
        if (key.kind == K::kSentOn) return day == want;
        return day >= want;
      }
      case K::kLarger:
        return m.size > key.number;
      case K::kSmaller:
        return m.size < key.number;
      case K::kModSeq:
        return m.modseq >= key.number;
      case K::kOlder:
        return now - m.internal_date >= static_cast<int64_t>(key.number);
      case K::kYounger:
        return now - m.internal_date <= static_cast<int64_t>(key.number);
      case K::kEmailId:
        return store::FormatEmailId(m.email_id) == key.value;  // case-sensitive (RFC 8474 §7)
      case K::kThreadId:
        return false;  // no thread ids: matches nothing (RFC 8474 §5.2)
    }
    return false;
  }
};

}  // namespace

asio::awaitable<std::optional<std::string>> Session::ContentOf(const MessageView& message) {
  const int64_t id = message.id;
  auto read = [this, id] { return context_.store.ReadMessageById(id); };
  Result<std::string> content = co_await Offload(context_.blocking, std::move(read));
  if (!content.ok()) co_return std::nullopt;
  co_return std::move(*content);
}

asio::awaitable<std::vector<std::optional<store::MessageParse>>> Session::StructuresOf(
    const std::vector<uint32_t>& seqs, bool need_preview) {
  std::vector<std::string> blobs;
  blobs.reserve(seqs.size());
  for (uint32_t seq : seqs) blobs.push_back(selected_->at(seq).blob);
  // One trip to the pool for the whole FETCH, not one per message.
  auto read = [this, blobs = std::move(blobs), need_preview] {
    return mailbox::CachedStructures(context_.store, blobs, need_preview);
  };
  co_return co_await Offload(context_.blocking, std::move(read));
}

asio::awaitable<Session::Done> Session::Fetch(const imap::Command& command) {
  const auto& args = command.Get<imap::Fetch>();
  if (!command.uid && !ValidSequenceNumbers(args.set, selected_->exists())) {
    co_return Bad("Invalid message sequence number");
  }
  std::vector<uint32_t> seqs = selected_->Resolve(args.set, command.uid);
  bool needs_content = false, needs_parse = false, sets_seen = false, has_flags = false;
  bool has_uid = false, has_modseq = false, needs_preview = false, needs_header = false;
  for (const auto& item : args.items) {
    if (HeaderOnly(item)) {
      needs_header = true;
      sets_seen = sets_seen || (item.kind == imap::FetchKind::kBodySection && !item.peek);
      continue;
    }
    switch (item.kind) {
      case imap::FetchKind::kRfc822:
      case imap::FetchKind::kRfc822Text:
        needs_content = true;
        sets_seen = true;
        break;
      case imap::FetchKind::kBodySection:
      case imap::FetchKind::kBinary:
        needs_content = true;
        sets_seen = sets_seen || !item.peek;
        break;
      case imap::FetchKind::kRfc822Header:
      case imap::FetchKind::kBinarySize:
        needs_content = true;
        break;
      case imap::FetchKind::kPreview:
        // Stored with the parse; RFC 8970 §4.1: with LAZY, a message
        // without one yet gets NIL instead of waiting for it.
        needs_parse = true;
        needs_preview = needs_preview || !item.lazy;
        break;
      case imap::FetchKind::kEnvelope:
      case imap::FetchKind::kBody:
      case imap::FetchKind::kBodyStructure:
        needs_parse = true;
        break;
      case imap::FetchKind::kFlags:
        has_flags = true;
        break;
      case imap::FetchKind::kUid:
        has_uid = true;
        break;
      case imap::FetchKind::kModSeq:
        has_modseq = true;
        break;
      default:
        break;
    }
  }
  if (args.vanished) {
    // RFC 7162 §3.2.6: UID FETCH only, with CHANGEDSINCE, after ENABLE QRESYNC.
    if (!command.uid || !args.changed_since) co_return Bad("VANISHED needs UID FETCH CHANGEDSINCE");
    if (!qresync_) co_return Bad("ENABLE QRESYNC first");
  }
  if (args.changed_since || has_modseq) EnableCondstore();
  if (args.changed_since) {
    std::erase_if(seqs,
                  [&](uint32_t seq) { return selected_->at(seq).modseq <= *args.changed_since; });
  }
  if (args.vanished) {
    const int64_t id = selected_->id();
    const uint64_t since = *args.changed_since;
    auto expunged = [this, id, since] { return context_.store.ExpungedSince(id, since); };
    Result<std::vector<uint32_t>> gone = co_await Offload(context_.blocking, std::move(expunged));
    if (!gone.ok()) co_return No("[SERVERBUG] " + gone.status().message());
    // Messages still in this session's view are announced by VANISHED
    // (without EARLIER) when their expunge is, not here.
    const uint32_t largest = std::max(selected_->LargestUid(), selected_->info().uidnext - 1);
    const std::vector<imap::SequenceRange> ranges = args.set.Resolve(largest);
    std::erase_if(*gone, [&](uint32_t uid) {
      return selected_->SeqOf(uid) != 0 || !imap::RangesContain(ranges, uid);
    });
    if (!gone->empty()) Send("* VANISHED (EARLIER) " + imap::FormatSequenceSet(*gone) + "\r\n");
  }
  // RFC 9051 §6.4.5: fetching a body section sets \Seen (not in EXAMINE).
  std::vector<uint32_t> newly_seen;
  if (sets_seen && !selected_->read_only()) {
    std::vector<uint32_t> uids;
    for (uint32_t seq : seqs) {
      if (!(selected_->at(seq).flags & store::kFlagSeen)) uids.push_back(selected_->at(seq).uid);
    }
    if (!uids.empty()) {
      store::FlagChange change;
      change.mode = store::FlagChange::kAdd;
      change.flags = store::kFlagSeen;
      const int64_t id = selected_->id();
      auto mark = [this, id, uids, change] { return context_.store.ChangeFlags(id, uids, change); };
      Result<store::FlagChangeResult> r = co_await Offload(context_.blocking, std::move(mark));
      if (r.ok()) {
        for (const auto& m : r->changed) {
          selected_->Remember(m);
          newly_seen.push_back(m.uid);
        }
        Announce(id, r->highestmodseq);
      }
    }
  }
  std::sort(newly_seen.begin(), newly_seen.end());

  std::vector<std::optional<store::MessageParse>> structures;
  if (needs_parse) structures = co_await StructuresOf(seqs, needs_preview);
  // Header items alone read the cached headers, all in a few pool trips.
  if (needs_content) needs_header = false;
  std::vector<std::optional<std::string>> headers;  // of seqs[headers_first...]
  size_t headers_first = 0;

  bool some_gone = false;
  for (size_t index = 0; index < seqs.size(); ++index) {
    const uint32_t seq = seqs[index];
    if (!selected_ || seq > selected_->exists()) break;
    const MessageView m = selected_->at(seq);
    std::optional<std::string> content;  // the message, or only its header
    if (needs_content) content = co_await ContentOf(m);
    if (needs_header) {
      if (index == headers_first + headers.size()) {
        headers_first = index;
        std::vector<int64_t> ids;  // 0: no such message (expunged meanwhile)
        for (size_t i = index; i < seqs.size() && i < index + kHeaderBatch; ++i) {
          ids.push_back(seqs[i] <= selected_->exists() ? selected_->at(seqs[i]).id : 0);
        }
        std::optional<std::vector<std::optional<std::string>>> read = co_await HeadersOf(ids);
        if (!read) co_return No("[SERVERBUG] Cannot read the messages' headers");
        headers = std::move(*read);
        if (!selected_ || seq > selected_->exists()) break;
      }
      content = std::move(headers[index - headers_first]);
    }
    if (((needs_content || needs_header) && !content) || (needs_parse && !structures[index])) {
      // Expunged meanwhile: say so and go on (RFC 5530 EXPUNGEISSUED).
      Send("* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m.uid) + ")\r\n");
      some_gone = true;
      continue;
    }
    std::optional<message::Message> parsed;
    if (content) parsed = message::ParseMessage(*content);
    const store::MessageParse* parse = needs_parse ? &*structures[index] : nullptr;
    std::string line = "* " + std::to_string(seq) + " FETCH (";
    bool first = true;
    auto item_name = [&](std::string_view name) {
      if (!first) line.push_back(' ');
      first = false;
      line.append(name);
      line.push_back(' ');
    };
    // RFC 7162 §3.2.4: a FETCH that sets \Seen tells a CONDSTORE client
    // the UID and MODSEQ too.
    const bool now_seen = std::binary_search(newly_seen.begin(), newly_seen.end(), m.uid);
    if ((command.uid || (now_seen && condstore_)) && !has_uid) {
      item_name("UID");
      line += std::to_string(m.uid);
    }
    for (const auto& item : args.items) {
      switch (item.kind) {
        case imap::FetchKind::kUid:
          item_name("UID");
          line += std::to_string(m.uid);
          break;
        case imap::FetchKind::kFlags:
          item_name("FLAGS");
          line += FlagList(m.flags, m.keywords);
          break;
        case imap::FetchKind::kInternalDate:
          item_name("INTERNALDATE");
          line += "\"" + imap::FormatDateTime(m.internal_date, 0) + "\"";
          break;
        case imap::FetchKind::kRfc822Size:
          item_name("RFC822.SIZE");
          line += std::to_string(m.size);
          break;
        case imap::FetchKind::kModSeq:
          item_name("MODSEQ");
          line += "(" + std::to_string(m.modseq) + ")";
          break;
        case imap::FetchKind::kEnvelope:
          item_name("ENVELOPE");
          line += "(" + parse->envelope + ")";
          break;
        case imap::FetchKind::kBody:
          item_name("BODY");
          line += "(" + parse->body + ")";
          break;
        case imap::FetchKind::kBodyStructure:
          item_name("BODYSTRUCTURE");
          line += "(" + parse->body_structure + ")";
          break;
        case imap::FetchKind::kRfc822:
          item_name("RFC822");
          imap::AppendLiteral(&line, *content);
          break;
        case imap::FetchKind::kRfc822Header:
          item_name("RFC822.HEADER");
          imap::AppendLiteral(&line, WithBlankLine(parsed->HeaderBytes(parsed->root)));
          break;
        case imap::FetchKind::kRfc822Text:
          item_name("RFC822.TEXT");
          imap::AppendLiteral(&line, parsed->BodyBytes(parsed->root));
          break;
        case imap::FetchKind::kBodySection:
          item_name(item.ResponseName());
          imap::AppendLiteral(&line, Partial(SectionOf(*parsed, item.section), item.partial));
          break;
        case imap::FetchKind::kBinary:
        case imap::FetchKind::kBinarySize: {
          std::optional<std::string> data = BinarySection(*parsed, item.section.part);
          if (!data) co_return No("[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
          item_name(item.ResponseName());
          if (item.kind == imap::FetchKind::kBinarySize) {
            line += std::to_string(data->size());
          } else {
            // RFC 3516 §4.3: a literal8 only for data holding NUL.
            std::string part = Partial(std::move(*data), item.partial);
            imap::AppendLiteral(&line, part, part.find('\0') != std::string::npos);
          }
          break;
        }
        case imap::FetchKind::kSaveDate:
          // RFC 8514: when the message entered this mailbox.
          item_name("SAVEDATE");
          line += "\"" + imap::FormatDateTime(m.saved, 0) + "\"";
          break;
        case imap::FetchKind::kPreview:
          // RFC 8970 §3.2: NIL only for LAZY; "" when there is no text.
          item_name("PREVIEW");
          if (parse->preview) {
            imap::AppendString(&line, *parse->preview, strings_);
          } else {
            line += item.lazy ? "NIL" : "\"\"";
          }
          break;
        case imap::FetchKind::kEmailId:
          item_name("EMAILID");
          line += "(" + store::FormatEmailId(m.email_id) + ")";
          break;
        case imap::FetchKind::kThreadId:
          // RFC 8474 §5.2: NIL from a server that computes no thread ids.
          item_name("THREADID");
          line += "NIL";
          break;
      }
    }
    if (!has_flags && now_seen) {
      item_name("FLAGS");
      line += FlagList(m.flags, m.keywords);
    }
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    if (!has_modseq && (args.changed_since || (now_seen && condstore_))) {
      item_name("MODSEQ");
      line += "(" + std::to_string(m.modseq) + ")";
    }
    line += ")\r\n";
    Send(line);
    if (conn_->pending_output() > kFlushAt) {
      bool sent = co_await Flush();
      if (!sent) co_return Done{"", true};
    }
  }
  if (some_gone) co_return No("[EXPUNGEISSUED] Some of the requested messages no longer exist");
  co_return Ok(std::string(command.uid ? "UID " : "") + "FETCH completed");
}

asio::awaitable<Session::Done> Session::StoreFlags(const imap::Command& command) {
  const auto& args = command.Get<imap::Store>();
  if (selected_->read_only()) co_return No("[READ-ONLY] The mailbox is read-only");
  if (!command.uid && !ValidSequenceNumbers(args.set, selected_->exists())) {
    co_return Bad("Invalid message sequence number");
  }
  std::vector<uint32_t> seqs = selected_->Resolve(args.set, command.uid);
  std::vector<uint32_t> uids;
  for (uint32_t seq : seqs) uids.push_back(selected_->at(seq).uid);
  store::FlagChange change;
  change.mode = args.mode == imap::StoreMode::kAdd      ? store::FlagChange::kAdd
                : args.mode == imap::StoreMode::kRemove ? store::FlagChange::kRemove
                                                        : store::FlagChange::kReplace;
  FlagsFromNames(args.flags, &change.flags, &change.keywords);
  change.unchanged_since = args.unchanged_since;
  if (args.unchanged_since) EnableCondstore();
  const int64_t id = selected_->id();
  auto apply = [this, id, uids, change] { return context_.store.ChangeFlags(id, uids, change); };
  Result<store::FlagChangeResult> r = co_await Offload(context_.blocking, std::move(apply));
  if (!r.ok()) co_return No("[SERVERBUG] " + r.status().message());
  for (const store::MessageInfo& m : r->changed) {
    selected_->Remember(m);
    const uint32_t seq = selected_->SeqOf(m.uid);
    if (seq == 0) continue;
    if (args.silent && !args.unchanged_since) continue;
    std::string line = "* " + std::to_string(seq) + " FETCH (";
    if (!args.silent) line += "FLAGS " + FlagList(m.flags, m.keywords);
    // RFC 7162 §3.2.4: UID and MODSEQ in every FETCH a CONDSTORE client gets.
    if (command.uid || condstore_) {
      line += std::string(args.silent ? "" : " ") + "UID " + std::to_string(m.uid);
    }
    if (condstore_) line += " MODSEQ (" + std::to_string(m.modseq) + ")";
    line += ")\r\n";
    Send(line);
  }
  Announce(id, r->highestmodseq);
  if (!r->modified.empty()) {
    std::vector<uint32_t> numbers;
    for (uint32_t uid : r->modified) {
      numbers.push_back(command.uid ? uid : selected_->SeqOf(uid));
    }
    std::sort(numbers.begin(), numbers.end());
    co_return Ok("[MODIFIED " + imap::FormatSequenceSet(numbers) + "] Conditional STORE failed");
  }
  co_return Ok(std::string(command.uid ? "UID " : "") + "STORE completed");
}

asio::awaitable<Session::Done> Session::Expunge(const imap::Command& command) {
  if (selected_->read_only()) co_return No("[READ-ONLY] The mailbox is read-only");
  std::optional<std::vector<uint32_t>> only;
  if (const auto& set = command.Get<imap::Expunge>().uids) {
    only.emplace();
    for (uint32_t seq : selected_->Resolve(*set, true)) only->push_back(selected_->at(seq).uid);
    if (only->empty()) co_return Ok("UID EXPUNGE completed");
  }
  const int64_t id = selected_->id();
  auto expunge = [this, id, only] { return context_.store.Expunge(id, only); };
  Result<store::ExpungeResult> r = co_await Offload(context_.blocking, std::move(expunge));
  if (!r.ok()) co_return No("[SERVERBUG] " + r.status().message());
  for (const std::string& line : selected_->RemoveUids(r->uids, qresync_)) Send(line);
  const std::string done = std::string(only ? "UID " : "") + "EXPUNGE completed";
  if (r->uids.empty()) co_return Ok(done);
  Announce(id, r->highestmodseq);
  if (!qresync_) co_return Ok(done);
  // RFC 7162 §3.2.7: the new HIGHESTMODSEQ in the tagged OK; first every
  // other change up to it, so the client misses nothing by remembering it.
  changed_ = true;
  co_return Ok("[HIGHESTMODSEQ " + std::to_string(r->highestmodseq) + "] " + done);
}

asio::awaitable<Session::Done> Session::Copy(const imap::Command& command, bool move) {
  const auto& args = command.Get<imap::Copy>();
  const std::string verb = std::string(command.uid ? "UID " : "") + (move ? "MOVE" : "COPY");
  if (move && selected_->read_only()) co_return No("[READ-ONLY] The mailbox is read-only");
  if (!command.uid && !ValidSequenceNumbers(args.set, selected_->exists())) {
    co_return Bad("Invalid message sequence number");
  }
  std::optional<store::MailboxInfo> target = co_await FindMailbox(args.mailbox);
  if (!target) co_return No("[TRYCREATE] No such mailbox");
  std::vector<uint32_t> uids;
  for (uint32_t seq : selected_->Resolve(args.set, command.uid)) {
    uids.push_back(selected_->at(seq).uid);
  }
  if (uids.empty()) co_return Ok(verb + " completed");
  const int64_t from = selected_->id();
  const int64_t to = target->id;
  auto copy = [this, from, uids, to, move] {
    return context_.store.CopyMessages(from, uids, to, move);
  };
  Result<store::CopyResult> r = co_await Offload(context_.blocking, std::move(copy));
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kResourceExhausted) {
      co_return No("[OVERQUOTA] " + r.status().message());
    }
    if (r.status().code() == StatusCode::kNotFound) co_return No("[TRYCREATE] No such mailbox");
    co_return No("[SERVERBUG] " + r.status().message());
  }
  if (r->source_uids.empty()) co_return Ok(verb + " completed");
  // RFC 4315 §3 COPYUID; RFC 6851 §4.3: MOVE sends it untagged, first.
  std::string copyuid = "[COPYUID " + std::to_string(r->uidvalidity) + " " +
                        imap::FormatSequenceSet(r->source_uids) + " " +
                        imap::FormatSequenceSet(r->dest_uids) + "]";
  Announce(to, r->highestmodseq);
  if (to == from) changed_ = true;
  if (!move) co_return Ok(copyuid + " " + verb + " completed");
  Send("* OK " + copyuid + " Moved\r\n");
  for (const std::string& line : selected_->RemoveUids(r->source_uids, qresync_)) Send(line);
  Announce(from, r->highestmodseq);
  co_return Ok(verb + " completed");
}

asio::awaitable<std::optional<std::vector<uint32_t>>> Session::MatchingMessages(
    const imap::SearchKey& criteria) {
  const bool content = NeedsContent(criteria);
  std::vector<const imap::SearchKey*> text_keys, header_keys;
  CollectTextKeys(criteria, &text_keys);
  CollectHeaderKeys(criteria, &header_keys);
  Prefilter pre;
  if (!text_keys.empty() || !header_keys.empty()) {
    std::vector<std::pair<store::TextField, std::string>> queries;
    for (const imap::SearchKey* key : text_keys) {
      queries.emplace_back(key->kind == imap::SearchKeyKind::kBody ? store::TextField::kBody
                                                                   : store::TextField::kText,
                           key->value);
    }
    std::vector<size_t> owners;  // the header key of each kHeader query
    for (size_t k = 0; k < header_keys.size(); ++k) {
      for (std::string& part : IndexedParts(*header_keys[k])) {
        queries.emplace_back(store::TextField::kHeader, std::move(part));
        owners.push_back(k);
      }
    }
    const int64_t mailbox_id = selected_->id();
    // One trip to the pool for every BODY, TEXT and header key of the search.
    using Found = std::vector<std::optional<std::vector<int64_t>>>;
    auto find = [this, mailbox_id, queries = std::move(queries)]() -> Result<Found> {
      Found found;
      for (const auto& [field, needle] : queries) {
        if (field == store::TextField::kHeader) {
          PT_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> ids,
                              mailbox::HeaderCandidates(context_.store, mailbox_id, needle));
          found.push_back(std::move(ids));
        } else {
          PT_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                              mailbox::FindText(context_.store, mailbox_id, field, needle));
          found.push_back(std::move(ids));
        }
      }
      return found;
    };
    Result<Found> found = co_await Offload(context_.blocking, std::move(find));
    if (!found.ok()) co_return std::nullopt;
    for (size_t i = 0; i < text_keys.size(); ++i) {
      pre.text_hits[text_keys[i]] = std::move(*(*found)[i]);
    }
    // A key's candidates hold every part the index was asked for.
    for (size_t i = 0; i < owners.size(); ++i) {
      std::optional<std::vector<int64_t>>& ids = (*found)[text_keys.size() + i];
      if (!ids) continue;  // this part cannot narrow
      const imap::SearchKey* key = header_keys[owners[i]];
      auto it = pre.header_candidates.find(key);
      if (it == pre.header_candidates.end()) {
        pre.header_candidates.emplace(key, std::move(*ids));
      } else {
        std::vector<int64_t> both;
        std::set_intersection(it->second.begin(), it->second.end(), ids->begin(), ids->end(),
                              std::back_inserter(both));
        it->second = std::move(both);
      }
    }
  }
  std::vector<uint32_t> hits;  // sequence numbers
  if (!selected_) co_return hits;
  ResolveSets(criteria, *selected_, &pre);
  const uint32_t exists = selected_->exists();
  // The headers of the messages the prefilter leaves undecided, read in
  // batches (no body is read when the header is cached).
  std::vector<uint32_t> wanted;  // sequence numbers
  if (content) {
    for (uint32_t seq = 1; seq <= exists; ++seq) {
      if (NeedsHeader(criteria, selected_->at(seq), pre)) wanted.push_back(seq);
    }
  }
  std::vector<int64_t> ids;
  ids.reserve(wanted.size());
  for (uint32_t seq : wanted) ids.push_back(selected_->at(seq).id);
  const int64_t now = Clock::Real().NowUnix();
  std::vector<std::optional<std::string>> headers;  // of wanted[first...]
  size_t next = 0, first = 0;                       // into wanted
  for (uint32_t seq = 1; seq <= exists && selected_ && seq <= selected_->exists(); ++seq) {
    std::optional<Content> c;
    if (next < wanted.size() && wanted[next] == seq) {
      if (next == first + headers.size()) {
        first = next;
        const size_t end = std::min(ids.size(), first + kHeaderBatch);
        std::optional<std::vector<std::optional<std::string>>> read = co_await HeadersOf(
            std::vector<int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(first),
                                 ids.begin() + static_cast<std::ptrdiff_t>(end)));
        if (!read) co_return std::nullopt;
        headers = std::move(*read);
        if (!selected_ || seq > selected_->exists()) break;
      }
      std::optional<std::string>& header = headers[next++ - first];
      if (!header) continue;  // expunged meanwhile
      c.emplace(std::move(*header));
    }
    Matcher matcher{*selected_, now, pre};
    if (matcher.Match(criteria, seq, selected_->at(seq), c ? &*c : nullptr)) hits.push_back(seq);
  }
  co_return hits;
}

asio::awaitable<std::optional<std::vector<std::optional<std::string>>>> Session::HeadersOf(
    std::vector<int64_t> ids) {
  auto read = [this, ids = std::move(ids)] { return mailbox::MessageHeaders(context_.store, ids); };
  Result<std::vector<std::optional<std::string>>> headers =
      co_await Offload(context_.blocking, std::move(read));
  if (!headers.ok()) co_return std::nullopt;
  co_return std::move(*headers);
}

void Session::SaveSearchResult(unsigned options, const std::vector<uint32_t>& seqs) {
  if (!selected_) return;
  // RFC 9051 §6.4.4.1 table 4: with MIN and/or MAX but neither ALL nor
  // COUNT, "$" holds just what MIN and MAX return.
  std::vector<uint32_t> saved;
  const bool all = (options & (imap::kSearchReturnAll | imap::kSearchReturnCount)) != 0 ||
                   (options & (imap::kSearchReturnMin | imap::kSearchReturnMax)) == 0;
  if (all) {
    saved = seqs;
  } else if (!seqs.empty()) {
    if (options & imap::kSearchReturnMin) saved.push_back(seqs.front());
    if (options & imap::kSearchReturnMax) saved.push_back(seqs.back());
  }
  for (uint32_t& n : saved) n = selected_->at(n).uid;
  selected_->SaveSearchResult(std::move(saved));
}

void Session::SendSearchResult(const imap::Command& command, std::string_view name, bool extended,
                               unsigned options, const std::vector<uint32_t>& seqs, bool modseq) {
  std::vector<uint32_t> numbers;
  numbers.reserve(seqs.size());
  uint64_t highest = 0;
  for (uint32_t seq : seqs) {
    const MessageView& m = selected_->at(seq);
    numbers.push_back(command.uid ? m.uid : seq);
    highest = std::max(highest, m.modseq);
  }
  // RFC 7162 §3.1.5, §3.1.9, §3.1.10: a MODSEQ key adds the highest
  // mod-sequence of what was found.
  if (!modseq) highest = 0;
  if (extended) {
    // RFC 9051 §6.4.4: SAVE alone suppresses the ESEARCH response.
    if (options == imap::kSearchReturnSave) return;
    Send(imap::FormatEsearch(command.tag, command.uid, options, numbers, highest));
    return;
  }
  std::string line = "* " + std::string(name);
  for (uint32_t n : numbers) line += " " + std::to_string(n);
  if (highest != 0 && !numbers.empty()) line += " (MODSEQ " + std::to_string(highest) + ")";
  Send(line + "\r\n");
}

asio::awaitable<Session::Matches> Session::FindMatches(const std::string* charset,
                                                       const imap::SearchKey& criteria, bool save) {
  Matches matches;
  if (charset != nullptr && !SearchCharsetSupported(*charset)) {
    matches.error = Done{std::string(kBadCharset)};
  } else {
    if (imap::UsesModSeq(criteria)) EnableCondstore();
    std::optional<std::vector<uint32_t>> hits = co_await MatchingMessages(criteria);
    if (!selected_) {
      matches.error = No("No mailbox selected");
      co_return matches;
    }
    if (hits) {
      matches.seqs = std::move(*hits);
    } else {
      matches.error = No("[SERVERBUG] Cannot search the text of the messages");
    }
  }
  if (matches.error && save) selected_->SaveSearchResult({});
  co_return matches;
}

asio::awaitable<Session::Done> Session::Search(const imap::Command& command) {
  const auto& args = command.Get<imap::Search>();
  // RFC 6855 §3: no CHARSET once UTF8=ACCEPT is enabled.
  if (args.charset && utf8_accept_) co_return Bad("No CHARSET in SEARCH after UTF8=ACCEPT");
  const bool save = (args.return_options & imap::kSearchReturnSave) != 0;
  Matches matches =
      co_await FindMatches(args.charset ? &*args.charset : nullptr, args.criteria, save);
  if (matches.error) co_return *matches.error;
  if (save) SaveSearchResult(args.return_options, matches.seqs);
  // RFC 9051 §6.4.4: IMAP4rev2 answers with ESEARCH, RETURN (ALL) by default.
  const bool extended = args.extended || imap4rev2_;
  const unsigned options = args.extended ? args.return_options : imap::kSearchReturnAll;
  SendSearchResult(command, "SEARCH", extended, options, matches.seqs,
                   imap::UsesModSeq(args.criteria));
  co_return Ok(std::string(command.uid ? "UID " : "") + "SEARCH completed");
}

}  // namespace postern::imapserver
