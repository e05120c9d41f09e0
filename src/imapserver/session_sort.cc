// IMAP session: SORT and THREAD (RFC 5256) on the selected mailbox, with
// SORT=DISPLAY (RFC 5957) and ESORT (RFC 5267). The messages are chosen as
// SEARCH chooses them (MatchingMessages); what orders them comes from the
// parse cache (the ENVELOPE, all messages' rows in one store read), so SORT
// and THREAD ORDEREDSUBJECT read no message. THREAD REFERENCES reads the
// cached headers (mailbox::MessageHeaders), not the bodies. The work runs in
// one trip to the blocking pool.
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
  int64_t id = 0;
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
    out.push_back({m.id, seq, uid ? m.uid : seq, m.internal_date, m.size, m.blob});
  }
  return out;
}

// The envelopes the parse cache holds for the bodies of `found` (one store
// read); nullopt for a body gone.
std::vector<std::optional<message::Envelope>> CachedEnvelopes(store::Store& store,
                                                              const std::vector<Found>& found) {
  std::vector<std::string> blobs;
  blobs.reserve(found.size());
  for (const Found& f : found) blobs.push_back(f.blob);
  std::vector<std::optional<message::Envelope>> out;
  out.reserve(found.size());
  for (std::optional<store::MessageParse>& parse : mailbox::CachedStructures(store, blobs)) {
    if (parse) {
      out.push_back(message::ReadImapEnvelope(parse->envelope));
    } else {
      out.emplace_back();
    }
  }
  return out;
}

// What THREAD REFERENCES reads of a stored message: the envelope fields it
// uses, as ImapEnvelope would write them, and the raw References value,
// from the message's (cached) header.
struct ReferencesFields {
  message::Envelope envelope;
  std::string references;
};

ReferencesFields ReferencesFieldsOf(std::string_view header_bytes) {
  const message::Message header = message::ParseMessage(header_bytes);
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
    std::vector<std::optional<message::Envelope>> envelopes;
    if (NeedsEnvelope(criteria)) envelopes = CachedEnvelopes(context_.store, found);
    std::vector<SortValues> values;
    values.reserve(found.size());
    for (size_t i = 0; i < found.size(); ++i) {
      const Found& f = found[i];
      const std::optional<message::Envelope> none;
      const std::optional<message::Envelope>& envelope = envelopes.empty() ? none : envelopes[i];
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
    if (references) {
      std::vector<int64_t> ids;
      ids.reserve(found.size());
      for (const Found& f : found) ids.push_back(f.id);
      Result<std::vector<std::optional<std::string>>> headers =
          mailbox::MessageHeaders(context_.store, ids);
      for (size_t i = 0; i < found.size(); ++i) {
        std::optional<ReferencesFields> fields;
        if (headers.ok() && (*headers)[i]) fields = ReferencesFieldsOf(*(*headers)[i]);
        messages.push_back(ThreadInputOf(fields ? &fields->envelope : nullptr,
                                         fields ? fields->references : "", found[i].number,
                                         found[i].internal_date));
      }
    } else {
      std::vector<std::optional<message::Envelope>> envelopes =
          CachedEnvelopes(context_.store, found);
      for (size_t i = 0; i < found.size(); ++i) {
        messages.push_back(ThreadInputOf(envelopes[i] ? &*envelopes[i] : nullptr, "",
                                         found[i].number, found[i].internal_date));
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
