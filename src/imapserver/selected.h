// The selected mailbox as one IMAP session sees it: its messages in
// sequence-number order, and how to bring that view up to date with the
// store while keeping sequence numbers consistent (RFC 9051 §7.5.1: no
// EXPUNGE response while a FETCH, STORE or SEARCH runs). Pure state, no I/O;
// owned by one session. Thread-compatible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imap/sequence_set.h"
#include "store/store.h"

namespace postern::imapserver {

struct MessageView {
  int64_t id = 0;
  uint32_t uid = 0;
  uint32_t flags = 0;
  std::string keywords;
  uint64_t modseq = 0;
  int64_t internal_date = 0;
  uint64_t size = 0;
  std::string blob;
  int64_t saved = 0;
  uint64_t email_id = 0;  // RFC 8474 EMAILID (store::FormatEmailId)
};

MessageView ViewOf(const store::MessageInfo& m);

class SelectedMailbox {
 public:
  SelectedMailbox(const store::MailboxInfo& info, std::vector<store::MessageInfo> messages,
                  bool read_only);

  int64_t id() const { return info_.id; }
  const store::MailboxInfo& info() const { return info_; }
  bool read_only() const { return read_only_; }
  uint32_t exists() const { return static_cast<uint32_t>(messages_.size()); }
  uint64_t known_modseq() const { return known_modseq_; }
  // The HIGHESTMODSEQ the client may be told: below any expunge not yet
  // announced (RFC 7162 §3.2), at least 1.
  uint64_t ReportableModSeq() const {
    return std::max<uint64_t>(1, pending_expunges_.empty() ? known_modseq_ : pending_floor_);
  }
  // Expunges held back by Apply, still to be announced.
  bool HasPendingExpunges() const { return !pending_expunges_.empty(); }
  const std::vector<MessageView>& messages() const { return messages_; }
  MessageView& at(uint32_t seq) { return messages_[seq - 1]; }
  const MessageView& at(uint32_t seq) const { return messages_[seq - 1]; }

  // The sequence number of `uid`, or 0.
  uint32_t SeqOf(uint32_t uid) const;
  // The highest UID in the view (0 when empty): what "*" means in UID sets.
  uint32_t LargestUid() const { return messages_.empty() ? 0 : messages_.back().uid; }

  // Sequence numbers named by `set` (ascending). With `uid`, the set holds
  // UIDs (RFC 9051 §6.4.8: UIDs not present are ignored). "$" is the saved
  // search result, whichever kind of numbers the command takes (RFC 5182
  // §2.1).
  std::vector<uint32_t> Resolve(const imap::SequenceSet& set, bool uid) const;

  // The search result variable "$" (RFC 5182, RFC 9051 §6.4.4.1), set by a
  // SEARCH or SORT with RETURN (SAVE). Kept as UIDs, so expunges need no
  // renumbering: a message removed from the view leaves it. A view starts
  // with it empty, which is how SELECT and EXAMINE reset it.
  void SaveSearchResult(std::vector<uint32_t> uids);
  bool InSearchResult(uint32_t uid) const {
    return std::binary_search(saved_uids_.begin(), saved_uids_.end(), uid);
  }

  // How the session reports changes (RFC 7162): `condstore` once a
  // CONDSTORE enabling command ran: unsolicited FETCH responses carry UID and
  // MODSEQ (§3.1, §3.2.4); `qresync` after ENABLE QRESYNC: expunges are one
  // "* VANISHED uid-set" instead of "* n EXPUNGE" lines (§3.2.10.2);
  // `imap4rev2` after ENABLE IMAP4rev2: unsolicited FETCH responses carry UID
  // (RFC 9051 §7.5.2).
  struct Reporting {
    bool condstore = false;
    bool qresync = false;
    bool imap4rev2 = false;
  };

  // What changed in the store since this view was last brought up to date,
  // as the untagged responses to send, in order. `allow_expunge` false holds
  // expunges back (they stay pending) while sequence numbers must not move;
  // a CONDSTORE client then also gets "OK [HIGHESTMODSEQ n]" with n below
  // the pending expunges' mod-sequence, so a resync after a lost connection
  // still finds them (RFC 7162 §3.2, the rule before §3.2.1).
  struct Update {
    std::vector<std::string> responses;  // each one "* ..." line with CRLF
    bool changed = false;
  };
  Update Apply(uint64_t highestmodseq, const std::vector<store::MessageInfo>& changed,
               const std::vector<uint32_t>& expunged_uids, bool allow_expunge, Reporting reporting);

  // The session's own EXPUNGE: removes these UIDs now and returns the
  // "* n EXPUNGE" lines (RFC 9051 §7.5.1: in descending-safe order), or with
  // `vanished` one "* VANISHED" line.
  std::vector<std::string> RemoveUids(const std::vector<uint32_t>& uids, bool vanished);

  // SELECT/EXAMINE (QRESYNC ...) (RFC 7162 §3.2.5.1): the FETCH responses
  // (UID, FLAGS, MODSEQ) for messages named by `known_uids` (all when
  // absent) whose mod-sequence is above `modseq`.
  std::vector<std::string> ChangedSince(uint64_t modseq,
                                        const std::optional<imap::SequenceSet>& known_uids) const;

  // The session's own STORE: what it already told the client need not be
  // announced again (the next update finds these flags unchanged).
  void Remember(const store::MessageInfo& m);

 private:
  store::MailboxInfo info_;
  std::vector<MessageView> messages_;
  std::vector<uint32_t> pending_expunges_;  // UIDs expunged elsewhere, not yet announced
  // The mod-sequence known when the oldest pending expunge was found: every
  // pending expunge happened after it.
  uint64_t pending_floor_ = 0;
  uint64_t known_modseq_ = 0;
  bool read_only_ = false;
  std::vector<uint32_t> saved_uids_;  // "$": ascending
};

// System flags named ("\Seen", canonically spelled by the parser) to
// store bits; other names are keywords.
void FlagsFromNames(const std::vector<std::string>& names, uint32_t* flags,
                    std::vector<std::string>* keywords);

// "(\Seen \Flagged $Label)" for a message's flags and keywords.
std::string FlagList(uint32_t flags, const std::string& keywords);

// "* seq FETCH (FLAGS (...))\r\n"; `with_uid` adds "UID u", `with_modseq`
// "MODSEQ (m)": "* seq FETCH (UID u FLAGS (...) MODSEQ (m))\r\n" for a
// CONDSTORE client (RFC 7162 §3.2.4).
std::string FetchFlagsLine(uint32_t seq, const MessageView& v, bool with_uid, bool with_modseq);

}  // namespace postern::imapserver
