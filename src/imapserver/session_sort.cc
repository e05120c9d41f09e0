// IMAP session: SORT and THREAD (RFC 5256) on the selected mailbox, with
// SORT=DISPLAY (RFC 5957) and ESORT (RFC 5267). The messages are chosen as
// SEARCH chooses them (MatchingMessages); what orders them comes from the
// parse cache (the ENVELOPE), so SORT and THREAD ORDEREDSUBJECT read no
// message. THREAD REFERENCES needs the References field, which the cache
// does not hold: it reads each message's header. The work runs in one trip
// to the blocking pool.
#include <algorithm>

#include "base/strings.h"
#include "imapserver/session.h"
#include "imapserver/sort.h"
#include "mailbox/structure.h"
#include "message/header_text.h"
#include "message/mime.h"
#include "message/thread.h"
#include "net/async.h"

namespace postern::imapserver {
namespace {

// What the pool needs of each message found.
struct Found {
  uint32_t seq = 0;
  uint32_t number = 0;  // what the response shows: seq or UID
  int64_t internal_date = 0;
  uint64_t size = 0;
  std::string blob;
};

std::vector<Found> FoundOf(const SelectedMailbox& selected, const std::vector<uint32_t>& seqs,
                           bool uid) {
  std::vector<Found> out;
  out.reserve(seqs.size());
  for (uint32_t seq : seqs) {
    const MessageView& m = selected.at(seq);
    out.push_back({seq, uid ? m.uid : seq, m.internal_date, m.size, m.blob});
  }
  return out;
}

// The envelope the parse cache holds for a body; nullopt if it is gone.
std::optional<message::Envelope> CachedEnvelope(store::Store& store, const std::string& blob) {
  std::optional<store::MessageParse> parse = mailbox::CachedStructure(store, blob);
  if (!parse) return std::nullopt;
  return message::ReadImapEnvelope(parse->envelope);
}

// The header of a raw message: up to and including the empty line that ends
// it (all of it when there is none).
std::string_view HeaderOf(std::string_view raw) {
  const size_t crlf = raw.find("\r\n\r\n");
  const size_t lf = raw.find("\n\n");
  size_t end = std::string_view::npos;
  if (crlf != std::string_view::npos) end = crlf + 4;
  if (lf != std::string_view::npos) end = std::min(end, lf + 2);
  return end == std::string_view::npos ? raw : raw.substr(0, end);
}

// What THREAD REFERENCES reads of a stored message: the envelope fields it
// uses, as ImapEnvelope would write them, and the raw References value.
// Read from the header itself (one read, no parse of the body), since the
// References field must be read from there anyway.
struct ReferencesFields {
  message::Envelope envelope;
  std::string references;
};

std::optional<ReferencesFields> ReadReferencesFields(store::Store& store, const std::string& blob) {
  Result<std::string> body = store.ReadBody(blob);
  if (!body.ok()) return std::nullopt;
  const message::Message header = message::ParseMessage(HeaderOf(*body));
  auto text = [&](std::string_view name) {
    const message::HeaderField* field = header.root.FindField(name);
    return field ? std::string(TrimWhitespace(message::Unfold(field->value))) : std::string();
  };
  ReferencesFields fields;
  fields.envelope.date = text("Date");
  fields.envelope.subject = text("Subject");
  fields.envelope.in_reply_to = text("In-Reply-To");
  fields.envelope.message_id = text("Message-ID");
  if (const message::HeaderField* field = header.root.FindField("References")) {
    fields.references = std::string(field->value);
  }
  return fields;
}

// Whether `criteria` compare anything beyond ARRIVAL and SIZE, which the
// view already has.
bool NeedsEnvelope(const std::vector<imap::SortCriterion>& criteria) {
  return std::any_of(criteria.begin(), criteria.end(), [](const imap::SortCriterion& c) {
    return c.key != imap::SortKey::kArrival && c.key != imap::SortKey::kSize;
  });
}

}  // namespace

asio::awaitable<Session::Done> Session::Sort(const imap::Command& command) {
  const auto& args = command.Get<imap::Sort>();
  const bool save = (args.return_options & imap::kSearchReturnSave) != 0;
  Matches matches = co_await FindMatches(&args.charset, args.criteria_key, save);
  if (matches.error) co_return *matches.error;
  auto compute = [this, found = FoundOf(*selected_, matches.seqs, false),
                  criteria = args.criteria] {
    const bool envelopes = NeedsEnvelope(criteria);
    std::vector<SortValues> values;
    values.reserve(found.size());
    for (const Found& f : found) {
      std::optional<message::Envelope> envelope;
      if (envelopes) envelope = CachedEnvelope(context_.store, f.blob);
      values.push_back(
          SortValuesOf(envelope ? &*envelope : nullptr, f.seq, f.internal_date, f.size, criteria));
    }
    SortMessages(criteria, &values);
    std::vector<uint32_t> seqs;
    seqs.reserve(values.size());
    for (const SortValues& v : values) seqs.push_back(v.seq);
    return seqs;
  };
  std::vector<uint32_t> sorted = co_await Offload(context_.blocking, std::move(compute));
  if (!selected_) co_return No("No mailbox selected");
  if (save) SaveSearchResult(args.return_options, sorted);
  SendSearchResult(command, "SORT", args.extended, args.return_options, sorted,
                   imap::UsesModSeq(args.criteria_key));
  co_return Ok(std::string(command.uid ? "UID " : "") + "SORT completed");
}

asio::awaitable<Session::Done> Session::Thread(const imap::Command& command) {
  const auto& args = command.Get<imap::Thread>();
  // RFC 7162 §3.1.9: a MODSEQ key enables CONDSTORE, but THREAD responses
  // carry no mod-sequence.
  Matches matches = co_await FindMatches(&args.charset, args.criteria_key, false);
  if (matches.error) co_return *matches.error;
  const bool references = args.algorithm == imap::ThreadAlgorithm::kReferences;
  auto compute = [this, found = FoundOf(*selected_, matches.seqs, command.uid), references] {
    std::vector<message::ThreadMessage> messages;
    messages.reserve(found.size());
    for (const Found& f : found) {
      if (references) {
        std::optional<ReferencesFields> fields = ReadReferencesFields(context_.store, f.blob);
        messages.push_back(ThreadInputOf(fields ? &fields->envelope : nullptr,
                                         fields ? fields->references : "", f.number,
                                         f.internal_date));
      } else {
        std::optional<message::Envelope> envelope = CachedEnvelope(context_.store, f.blob);
        messages.push_back(
            ThreadInputOf(envelope ? &*envelope : nullptr, "", f.number, f.internal_date));
      }
    }
    return message::FormatThreads(references ? message::ThreadByReferences(messages)
                                             : message::ThreadByOrderedSubject(messages));
  };
  std::string threads = co_await Offload(context_.blocking, std::move(compute));
  Send("* THREAD" + std::string(threads.empty() ? "" : " ") + threads + "\r\n");
  co_return Ok(std::string(command.uid ? "UID " : "") + "THREAD completed");
}

}  // namespace postern::imapserver
