#include "imapserver/selected.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "imap/writer.h"

namespace postern::imapserver {

MessageView ViewOf(const store::MessageInfo& m) {
  return MessageView{m.id,   m.uid,  m.flags, m.keywords, m.modseq, m.internal_date,
                     m.size, m.blob, m.saved, m.email_id};
}

void FlagsFromNames(const std::vector<std::string>& names, uint32_t* flags,
                    std::vector<std::string>* keywords) {
  for (const std::string& f : names) {
    if (f == "\\Seen") {
      *flags |= store::kFlagSeen;
    } else if (f == "\\Answered") {
      *flags |= store::kFlagAnswered;
    } else if (f == "\\Flagged") {
      *flags |= store::kFlagFlagged;
    } else if (f == "\\Deleted") {
      *flags |= store::kFlagDeleted;
    } else if (f == "\\Draft") {
      *flags |= store::kFlagDraft;
    } else if (!f.empty() && f[0] != '\\') {
      keywords->push_back(f);
    }
  }
}

std::string FlagList(uint32_t flags, const std::string& keywords) {
  std::string out = "(";
  auto add = [&out](std::string_view name) {
    if (out.size() > 1) out.push_back(' ');
    out.append(name);
  };
  if (flags & store::kFlagSeen) add("\\Seen");
  if (flags & store::kFlagAnswered) add("\\Answered");
  if (flags & store::kFlagFlagged) add("\\Flagged");
  if (flags & store::kFlagDeleted) add("\\Deleted");
  if (flags & store::kFlagDraft) add("\\Draft");
  for (std::string_view k : Split(keywords, ' ')) {
    if (!k.empty()) add(k);
  }
  out.push_back(')');
  return out;
}

std::string FetchFlagsLine(uint32_t seq, const MessageView& v, bool with_uid, bool with_modseq) {
  std::string line = "* " + std::to_string(seq) + " FETCH (";
  if (with_uid) line += "UID " + std::to_string(v.uid) + " ";
  line += "FLAGS " + FlagList(v.flags, v.keywords);
  if (with_modseq) line += " MODSEQ (" + std::to_string(v.modseq) + ")";
  line += ")\r\n";
  return line;
}

SelectedMailbox::SelectedMailbox(const store::MailboxInfo& info,
                                 std::vector<store::MessageInfo> messages, bool read_only)
    : info_(info), known_modseq_(info.highestmodseq), read_only_(read_only) {
  messages_.reserve(messages.size());
  for (const auto& m : messages) {
    messages_.push_back(ViewOf(m));
    known_modseq_ = std::max(known_modseq_, m.modseq);
  }
}

uint32_t SelectedMailbox::SeqOf(uint32_t uid) const {
  auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                             [](const MessageView& m, uint32_t u) { return m.uid < u; });
  if (it == messages_.end() || it->uid != uid) return 0;
  return static_cast<uint32_t>(it - messages_.begin()) + 1;
}

std::vector<uint32_t> SelectedMailbox::Resolve(const imap::SequenceSet& set, bool uid) const {
  std::vector<uint32_t> out;
  if (messages_.empty()) return out;
  if (set.saved) {
    for (uint32_t saved : saved_uids_) {
      if (uint32_t seq = SeqOf(saved); seq != 0) out.push_back(seq);
    }
    return out;
  }
  if (!uid) {
    for (const auto& r : set.Resolve(exists())) {
      for (uint32_t n = r.first; n <= r.last && n <= exists(); ++n) {
        out.push_back(n);
        if (n == UINT32_MAX) break;
      }
    }
    return out;
  }
  // UIDs: walk the view once per range (ranges are ascending and disjoint).
  for (const auto& r : set.Resolve(LargestUid())) {
    auto it = std::lower_bound(messages_.begin(), messages_.end(), r.first,
                               [](const MessageView& m, uint32_t u) { return m.uid < u; });
    for (; it != messages_.end() && it->uid <= r.last; ++it) {
      out.push_back(static_cast<uint32_t>(it - messages_.begin()) + 1);
    }
  }
  return out;
}

SelectedMailbox::Update SelectedMailbox::Apply(uint64_t highestmodseq,
                                               const std::vector<store::MessageInfo>& changed,
                                               const std::vector<uint32_t>& expunged_uids,
                                               bool allow_expunge, Reporting reporting) {
  Update update;
  std::set<uint32_t> gone(pending_expunges_.begin(), pending_expunges_.end());
  for (uint32_t uid : expunged_uids) {
    if (SeqOf(uid) != 0) gone.insert(uid);
  }
  if (allow_expunge) {
    update.responses =
        RemoveUids(std::vector<uint32_t>(gone.begin(), gone.end()), reporting.qresync);
  } else {
    if (pending_expunges_.empty() && !gone.empty()) pending_floor_ = known_modseq_;
    pending_expunges_.assign(gone.begin(), gone.end());
  }

  const uint32_t before = exists();
  bool sent_modseq = false;
  for (const auto& m : changed) {
    if (gone.count(m.uid)) continue;
    uint32_t seq = SeqOf(m.uid);
    if (seq == 0) {
      if (m.uid > LargestUid()) messages_.push_back(ViewOf(m));  // new mail
      continue;
    }
    MessageView& v = messages_[seq - 1];
    bool flags_changed = v.flags != m.flags || v.keywords != m.keywords;
    bool modseq_changed = v.modseq != m.modseq;
    v.flags = m.flags;
    v.keywords = m.keywords;
    v.modseq = m.modseq;
    if (flags_changed || (reporting.condstore && modseq_changed)) {
      update.responses.push_back(
          FetchFlagsLine(seq, v, reporting.condstore || reporting.imap4rev2, reporting.condstore));
      sent_modseq = sent_modseq || reporting.condstore;
    }
  }
  if (exists() != before || !update.responses.empty()) update.changed = true;
  if (exists() != before) {
    update.responses.push_back("* " + std::to_string(exists()) + " EXISTS\r\n");
  }
  if (sent_modseq && !pending_expunges_.empty()) {
    update.responses.push_back("* OK [HIGHESTMODSEQ " + std::to_string(pending_floor_) +
                               "] Expunges pending\r\n");
  }
  known_modseq_ = std::max(known_modseq_, highestmodseq);
  info_.highestmodseq = std::max(info_.highestmodseq, highestmodseq);
  return update;
}

std::vector<std::string> SelectedMailbox::RemoveUids(const std::vector<uint32_t>& uids,
                                                     bool vanished) {
  std::vector<std::string> out;
  std::vector<uint32_t> sorted(uids);
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint32_t> removed;
  for (uint32_t uid : sorted) {
    uint32_t seq = SeqOf(uid);
    if (seq == 0) continue;
    messages_.erase(messages_.begin() + (seq - 1));
    removed.push_back(uid);
    if (!vanished) out.push_back("* " + std::to_string(seq) + " EXPUNGE\r\n");
  }
  // RFC 7162 §3.2.10.2: only UIDs the client knows, never a second time.
  if (vanished && !removed.empty()) {
    out.push_back("* VANISHED " + imap::FormatSequenceSet(removed) + "\r\n");
  }
  auto removed_now = [&](uint32_t uid) {
    return std::binary_search(sorted.begin(), sorted.end(), uid);
  };
  std::erase_if(pending_expunges_, removed_now);
  // RFC 9051 §6.4.4.1: an expunged message leaves the search result.
  std::erase_if(saved_uids_, removed_now);
  return out;
}

void SelectedMailbox::SaveSearchResult(std::vector<uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  saved_uids_ = std::move(uids);
}

std::vector<std::string> SelectedMailbox::ChangedSince(
    uint64_t modseq, const std::optional<imap::SequenceSet>& known_uids) const {
  std::vector<std::string> out;
  std::vector<imap::SequenceRange> known;
  if (known_uids) known = known_uids->Resolve(LargestUid());
  for (uint32_t seq = 1; seq <= exists(); ++seq) {
    const MessageView& v = at(seq);
    if (v.modseq <= modseq) continue;
    if (known_uids && !imap::RangesContain(known, v.uid)) continue;
    out.push_back(FetchFlagsLine(seq, v, true, true));
  }
  return out;
}

void SelectedMailbox::Remember(const store::MessageInfo& m) {
  uint32_t seq = SeqOf(m.uid);
  if (seq == 0) return;
  MessageView& v = messages_[seq - 1];
  v.flags = m.flags;
  v.keywords = m.keywords;
  v.modseq = m.modseq;
}

}  // namespace postern::imapserver
