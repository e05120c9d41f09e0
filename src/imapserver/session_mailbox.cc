// IMAP session: mailbox commands (LIST, LSUB, STATUS, CREATE, DELETE,
// RENAME, SUBSCRIBE, UNSUBSCRIBE) and APPEND.
#include <algorithm>
#include <map>
#include <set>

#include "base/clock.h"
#include "base/strings.h"
#include "imapserver/session.h"
#include "mailbox/structure.h"
#include "message/binary_parts.h"
#include "message/charset.h"
#include "message/mime.h"
#include "net/async.h"

namespace postern::imapserver {
namespace {

constexpr char kDelimiter = '/';

// RFC 9051 §6.3.9: "*" matches anything, "%" anything but the delimiter.
// One pass per pattern character over the name (dynamic programming), so
// patterns full of wildcards cost O(pattern x name), never exponential.
bool Matches(std::string_view pattern, std::string_view name) {
  std::vector<char> row(name.size() + 1, 0), next(name.size() + 1);
  row[0] = 1;
  for (char p : pattern) {
    if (p == '*') {
      char reach = 0;
      for (size_t j = 0; j <= name.size(); ++j) next[j] = reach = reach | row[j];
    } else if (p == '%') {
      next[0] = row[0];
      for (size_t j = 1; j <= name.size(); ++j) {
        next[j] = row[j] | (next[j - 1] & (name[j - 1] != kDelimiter));
      }
    } else {
      next[0] = 0;
      for (size_t j = 0; j < name.size(); ++j) next[j + 1] = row[j] & (name[j] == p);
    }
    row.swap(next);
  }
  return row[name.size()] != 0;
}

// "INBOX" patterns match case-insensitively (RFC 9051 §5.1).
bool MatchesName(std::string_view pattern, const std::string& name) {
  if (name == "INBOX") return Matches(AsciiToUpper(pattern), name) || Matches(pattern, name);
  return Matches(pattern, name);
}

std::string SpecialUse(const std::string& role) {
  if (role == "sent") return "\\Sent";
  if (role == "drafts") return "\\Drafts";
  if (role == "trash") return "\\Trash";
  if (role == "junk") return "\\Junk";
  if (role == "archive") return "\\Archive";
  return "";
}

std::string RoleOf(const std::string& special_use) {
  if (EqualsIgnoreCase(special_use, "\\Sent")) return "sent";
  if (EqualsIgnoreCase(special_use, "\\Drafts")) return "drafts";
  if (EqualsIgnoreCase(special_use, "\\Trash")) return "trash";
  if (EqualsIgnoreCase(special_use, "\\Junk")) return "junk";
  if (EqualsIgnoreCase(special_use, "\\Archive")) return "archive";
  return "";
}

// Checks a name for CREATE and RENAME; empty when it is fine. `sent_in_utf8`:
// the client sent it in UTF-8 (IMAP4rev2 or UTF8=ACCEPT), not modified UTF-7.
std::string InvalidName(const std::string& name, bool sent_in_utf8) {
  if (name.empty()) return "Empty mailbox name";
  if (name.size() > 512) return "Mailbox name too long";
  if (name.find_first_of("*%") != std::string::npos) return "Mailbox names may not contain * or %";
  if (name.front() == kDelimiter) return "Mailbox names may not start with /";
  if (name.find("//") != std::string::npos) return "Empty level in the mailbox name";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "Control characters in the mailbox name";
  }
  if (std::count(name.begin(), name.end(), kDelimiter) > 32) return "Too many levels";
  // RFC 9051 §5.1: 8-bit names must be Net-Unicode (RFC 5198 §2: NFC). Not
  // normalised here, so SELECT finds exactly the name CREATE made.
  if (sent_in_utf8 && !message::IsNfc(name)) return "Mailbox name is not in Unicode NFC";
  return {};
}

constexpr std::string_view kQuotaRootName = "User quota";
constexpr std::string_view kQuotaRoot = "\"User quota\"";

}  // namespace

asio::awaitable<std::optional<store::MailboxInfo>> Session::FindMailbox(const std::string& name) {
  const int64_t account = account_id_;
  auto find = [this, account, name] { return context_.store.GetMailbox(account, name); };
  Result<std::optional<store::MailboxInfo>> found =
      co_await Offload(context_.blocking, std::move(find));
  if (!found.ok()) co_return std::nullopt;
  co_return *found;
}

asio::awaitable<Session::Done> Session::List(const imap::Command& command) {
  const auto& args = command.Get<imap::List>();
  if (args.return_status) {
    if (std::optional<Done> bad = RefuseStatusItems(*args.return_status)) co_return *bad;
  }
  const int64_t account = account_id_;
  auto list = [this, account] { return context_.store.ListMailboxes(account); };
  Result<std::vector<store::MailboxInfo>> mailboxes =
      co_await Offload(context_.blocking, std::move(list));
  if (!mailboxes.ok()) co_return No("[UNAVAILABLE] " + mailboxes.status().message());

  // Every name, and the parents implied by deeper names (listed \Noselect).
  std::map<std::string, const store::MailboxInfo*> names;
  std::set<std::string> parents;
  for (const auto& m : *mailboxes) {
    names[m.name] = &m;
    for (size_t slash = m.name.find(kDelimiter); slash != std::string::npos;
         slash = m.name.find(kDelimiter, slash + 1)) {
      parents.insert(m.name.substr(0, slash));
    }
  }
  for (const std::string& p : parents) names.emplace(p, nullptr);

  const bool verb_is_lsub = command.verb == imap::Verb::kLsub;
  const std::string kind = verb_is_lsub ? "LSUB" : "LIST";
  const bool only_subscribed = verb_is_lsub || args.select_subscribed;
  // The selection criteria of RFC 5258 §3.1 and RFC 6154 §5.1.
  auto selected = [&](const store::MailboxInfo* mailbox) {
    if (only_subscribed && (!mailbox || !mailbox->subscribed)) return false;
    if (args.select_special_use && (!mailbox || SpecialUse(mailbox->role).empty())) return false;
    return true;
  };
  std::vector<std::string> patterns;
  for (const std::string& pattern : args.patterns) {
    if (pattern.empty()) {
      // RFC 9051 §6.3.9: the hierarchy delimiter and root.
      Send("* " + kind + " (\\Noselect) \"/\" \"\"\r\n");
    } else {
      patterns.push_back(args.reference + pattern);
    }
  }
  for (const auto& [name, mailbox] : names) {
    // RFC 5258 §3.3: one response per name, whichever patterns match it.
    if (!std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return MatchesName(p, name); })) {
      continue;
    }
    // RFC 5258 §3.1 RECURSIVEMATCH: a name left out, with a descendant
    // that meets the criteria, is listed with CHILDINFO.
    bool child_info = false;
    if (!selected(mailbox)) {
      if (!args.select_recursive_match) continue;
      const std::string prefix = name + kDelimiter;
      for (auto it = names.upper_bound(prefix); it != names.end() && it->first.starts_with(prefix);
           ++it) {
        if (selected(it->second)) {
          child_info = true;
          break;
        }
      }
      if (!child_info) continue;
    }
    std::vector<std::string> attrs;
    // RFC 5258 §3, RFC 9051 §7.3.1: IMAP4rev2 has LIST-EXTENDED's attribute.
    if (!mailbox) {
      attrs.push_back(args.extended || (imap4rev2_ && !verb_is_lsub) ? "\\NonExistent"
                                                                     : "\\Noselect");
    }
    if (!verb_is_lsub) {
      attrs.push_back(parents.count(name) > 0 ? "\\HasChildren" : "\\HasNoChildren");
    }
    if (mailbox && mailbox->subscribed && (args.return_subscribed || args.select_subscribed)) {
      attrs.push_back("\\Subscribed");
    }
    if (mailbox) {
      std::string use = SpecialUse(mailbox->role);
      if (!use.empty()) attrs.push_back(use);
    }
    std::string line = "* " + kind + " (" + Join(attrs, " ") + ") \"/\" ";
    imap::AppendMailbox(&line, name, strings_);
    if (child_info) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    line += "\r\n";
    Send(line);
    // RFC 5819: the STATUS of each selectable mailbox listed, right after.
    if (args.return_status && mailbox) {
      std::optional<std::string> status = co_await StatusLine(*mailbox, *args.return_status);
      if (status) Send(*status);
    }
  }
  co_return Ok(kind + " completed");
}

asio::awaitable<Session::Done> Session::Lsub(const imap::Command& command) {
  const auto& args = command.Get<imap::Lsub>();
  imap::List list;
  list.reference = args.reference;
  list.patterns = {args.pattern};
  imap::Command as_list = command;
  as_list.arguments = list;
  co_return co_await List(as_list);
}

asio::awaitable<void> Session::ListOne(const std::string& name) {
  // Names never hold "*" or "%" (InvalidName), so the name is a pattern that
  // matches itself alone.
  imap::Command command;
  command.verb = imap::Verb::kList;
  imap::List list;
  list.patterns = {name};
  command.arguments = std::move(list);
  co_await List(command);
}

asio::awaitable<Session::Done> Session::StatusCommand(const imap::Command& command) {
  const auto& args = command.Get<imap::StatusQuery>();
  if (std::optional<Done> bad = RefuseStatusItems(args.items)) co_return *bad;
  std::optional<store::MailboxInfo> mailbox = co_await FindMailbox(args.mailbox);
  if (!mailbox) co_return No("[NONEXISTENT] No such mailbox");
  std::optional<std::string> line = co_await StatusLine(*mailbox, args.items);
  if (!line) co_return No("[UNAVAILABLE] Cannot read the mailbox");
  Send(*line);
  co_return Ok("STATUS completed");
}

std::optional<Session::Done> Session::RefuseStatusItems(
    const std::vector<imap::StatusItem>& items) const {
  for (imap::StatusItem item : items) {
    if (!StatusItemSupported(item)) {
      return Bad("Unsupported STATUS item " + std::string(imap::StatusItemName(item)));
    }
  }
  return std::nullopt;
}

bool Session::StatusItemSupported(imap::StatusItem item) const {
  switch (item) {
    case imap::StatusItem::kRecent:
      return !imap4rev2_;
    case imap::StatusItem::kMessages:
    case imap::StatusItem::kUidNext:
    case imap::StatusItem::kUidValidity:
    case imap::StatusItem::kUnseen:
    case imap::StatusItem::kSize:
    case imap::StatusItem::kHighestModSeq:
    case imap::StatusItem::kDeleted:
    case imap::StatusItem::kAppendLimit:
    case imap::StatusItem::kDeletedStorage:
    case imap::StatusItem::kMailboxId:
      return true;
    default:
      return false;
  }
}

asio::awaitable<std::optional<std::string>> Session::StatusLine(
    const store::MailboxInfo& mailbox, const std::vector<imap::StatusItem>& items) {
  uint32_t deleted = 0;
  uint64_t deleted_storage = 0;
  auto wants = [&](imap::StatusItem item) {
    return std::find(items.begin(), items.end(), item) != items.end();
  };
  if (wants(imap::StatusItem::kDeleted) || wants(imap::StatusItem::kDeletedStorage)) {
    const int64_t id = mailbox.id;
    auto list = [this, id] { return context_.store.ListMessages(id, 0); };
    Result<std::vector<store::MessageInfo>> messages =
        co_await Offload(context_.blocking, std::move(list));
    if (!messages.ok()) co_return std::nullopt;
    for (const auto& m : *messages) {
      if ((m.flags & store::kFlagDeleted) == 0) continue;
      ++deleted;
      deleted_storage += m.size;
    }
  }
  std::string line = "* STATUS ";
  imap::AppendMailbox(&line, mailbox.name, strings_);
  line += " (";
  bool first = true;
  for (imap::StatusItem item : items) {
    std::string value;
    switch (item) {
      case imap::StatusItem::kMessages:
        value = std::to_string(mailbox.messages);
        break;
      case imap::StatusItem::kUidNext:
        value = std::to_string(mailbox.uidnext);
        break;
      case imap::StatusItem::kUidValidity:
        value = std::to_string(mailbox.uidvalidity);
        break;
      case imap::StatusItem::kUnseen:
        value = std::to_string(mailbox.unseen);
        break;
      case imap::StatusItem::kRecent:
        value = "0";  // \Recent is not kept (RFC 9051 drops it)
        break;
      case imap::StatusItem::kSize:
        value = std::to_string(mailbox.size);
        break;
      case imap::StatusItem::kHighestModSeq:
        EnableCondstore();  // RFC 7162 §3.1
        value = std::to_string(std::max<uint64_t>(1, mailbox.highestmodseq));
        break;
      case imap::StatusItem::kDeleted:
        value = std::to_string(deleted);
        break;
      case imap::StatusItem::kAppendLimit:
        value = std::to_string(options_.max_literal);
        break;
      case imap::StatusItem::kDeletedStorage:
        // RFC 9208 §4.2.4 allows the sum of RFC822.SIZE; it is exact here.
        value = std::to_string(deleted_storage);
        break;
      case imap::StatusItem::kMailboxId:
        value = "(" + mailbox.object_id + ")";  // RFC 8474 §4.3
        break;
      default:
        continue;  // refused before (StatusItemSupported)
    }
    if (!first) line.push_back(' ');
    first = false;
    line += std::string(imap::StatusItemName(item)) + " " + value;
  }
  line += ")\r\n";
  co_return line;
}

asio::awaitable<Session::Done> Session::Quota(const imap::Command& command) {
  // RFC 9208: one quota root per user, the account's limits; the
  // administrator sets them (postern user quota), so no QUOTASET.
  if (command.verb == imap::Verb::kSetQuota) {
    co_return No("[NOPERM] Quotas are set by the administrator");
  }
  const std::string address = account_address_;
  auto find = [this, address] { return context_.store.FindAccount(address); };
  Result<std::optional<store::AccountInfo>> account =
      co_await Offload(context_.blocking, std::move(find));
  if (!account.ok() || !account->has_value()) co_return No("[UNAVAILABLE] Cannot read the quota");
  const store::AccountInfo& a = **account;
  const bool limited = a.quota_bytes != 0 || a.quota_messages != 0;
  if (command.verb == imap::Verb::kGetQuotaRoot) {
    std::string line = "* QUOTAROOT ";
    imap::AppendMailbox(&line, command.Get<imap::MailboxArgument>().mailbox, strings_);
    if (limited) line += " " + std::string(kQuotaRoot);
    Send(line + "\r\n");
  } else if (command.Get<imap::GetQuota>().root != kQuotaRootName || !limited) {
    co_return No("[NONEXISTENT] No such quota root");
  }
  if (limited) {
    std::vector<std::string> resources;
    // STORAGE counts units of 1024 octets (RFC 9208 §5.1).
    if (a.quota_bytes != 0) {
      resources.push_back("STORAGE " + std::to_string((a.used_bytes + 1023) / 1024) + " " +
                          std::to_string(a.quota_bytes / 1024));
    }
    if (a.quota_messages != 0) {
      resources.push_back("MESSAGE " + std::to_string(a.used_messages) + " " +
                          std::to_string(a.quota_messages));
    }
    Send("* QUOTA " + std::string(kQuotaRoot) + " (" + Join(resources, " ") + ")\r\n");
  }
  co_return Ok(std::string(imap::VerbName(command.verb)) + " completed");
}

asio::awaitable<Session::Done> Session::Create(const imap::Command& command) {
  const auto& args = command.Get<imap::Create>();
  std::string name = args.mailbox;
  while (!name.empty() && name.back() == kDelimiter) name.pop_back();  // "CREATE a/" is "a"
  if (std::string why = InvalidName(name, Utf8Enabled()); !why.empty())
    co_return No("[CANNOT] " + why);
  std::string role;
  for (const std::string& use : args.special_use) {
    role = RoleOf(use);
    if (role.empty()) co_return No("[USEATTR] Unsupported special-use attribute");
  }
  const int64_t account = account_id_;
  auto create = [this, account, name, role] {
    return context_.store.CreateMailbox(account, name, role);
  };
  Result<store::MailboxInfo> created = co_await Offload(context_.blocking, std::move(create));
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists) {
      co_return No("[ALREADYEXISTS] Mailbox already exists");
    }
    co_return No("[SERVERBUG] " + created.status().message());
  }
  Announce(created->id, created->highestmodseq);
  // RFC 8474 §4.1.
  co_return Ok("[MAILBOXID (" + created->object_id + ")] CREATE completed");
}

asio::awaitable<Session::Done> Session::Delete(const imap::Command& command) {
  const std::string name = command.Get<imap::MailboxArgument>().mailbox;
  if (name == "INBOX") co_return No("[CANNOT] INBOX cannot be deleted");
  std::optional<store::MailboxInfo> mailbox = co_await FindMailbox(name);
  if (!mailbox) co_return No("[NONEXISTENT] No such mailbox");
  const int64_t account = account_id_;
  auto remove = [this, account, name] { return context_.store.DeleteMailbox(account, name); };
  Status s = co_await Offload(context_.blocking, std::move(remove));
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound) co_return No("[NONEXISTENT] No such mailbox");
    co_return No("[SERVERBUG] " + s.message());
  }
  if (selected_ && selected_->id() == mailbox->id) Unselect();
  Announce(mailbox->id, 0);
  co_return Ok("DELETE completed");
}

asio::awaitable<Session::Done> Session::Rename(const imap::Command& command) {
  const auto& args = command.Get<imap::Rename>();
  std::string to = args.to;
  while (!to.empty() && to.back() == kDelimiter) to.pop_back();
  if (std::string why = InvalidName(to, Utf8Enabled()); !why.empty())
    co_return No("[CANNOT] " + why);
  const int64_t account = account_id_;
  const std::string from = args.from;
  auto rename = [this, account, from, to] {
    return context_.store.RenameMailbox(account, from, to);
  };
  Status s = co_await Offload(context_.blocking, std::move(rename));
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound) co_return No("[NONEXISTENT] No such mailbox");
    if (s.code() == StatusCode::kAlreadyExists) co_return No("[ALREADYEXISTS] " + s.message());
    co_return No("[SERVERBUG] " + s.message());
  }
  if (from == "INBOX" && selected_ && selected_->info().name == "INBOX") changed_ = true;
  Announce(0, 0);
  co_return Ok("RENAME completed");
}

asio::awaitable<Session::Done> Session::Subscribe(const imap::Command& command, bool subscribe) {
  const std::string name = command.Get<imap::MailboxArgument>().mailbox;
  const int64_t account = account_id_;
  auto set = [this, account, name, subscribe] {
    return context_.store.SetSubscribed(account, name, subscribe);
  };
  Status s = co_await Offload(context_.blocking, std::move(set));
  const std::string verb = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
  if (!s.ok()) {
    // Unsubscribing from a name that is not there leaves it unsubscribed.
    if (s.code() == StatusCode::kNotFound && !subscribe) co_return Ok(verb + " completed");
    if (s.code() == StatusCode::kNotFound) co_return No("[NONEXISTENT] No such mailbox");
    co_return No("[SERVERBUG] " + s.message());
  }
  co_return Ok(verb + " completed");
}

asio::awaitable<Session::Done> Session::Append(const imap::Command& command) {
  const auto& args = command.Get<imap::Append>();
  // One message or several (MULTIAPPEND): each is checked before any is
  // stored, then all are stored in one transaction, or none (RFC 3502
  // §6.3.11).
  struct Pending {
    std::string_view content;  // in the command buffer, alive until the command ends
    bool literal8 = false;
    store::AppendOptions options;
  };
  std::vector<Pending> pending;
  for (const imap::AppendMessage& m : args.messages) {
    if (m.content.empty()) co_return No("Empty message");
    // RFC 9051 §9: a literal is CHAR8 (no NUL); only a literal8 may carry
    // binary data (RFC 3516 §4.4).
    if (!m.literal8 && m.content.find('\0') != std::string_view::npos) {
      co_return Bad("NUL in message data: send it as a literal8 (~{N})");
    }
    // RFC 6855 §4: the UTF8 data extension belongs to UTF8=ACCEPT.
    if (m.utf8 && !Utf8Enabled()) co_return Bad("APPEND UTF8 (...) needs ENABLE UTF8=ACCEPT");
    Pending p{m.content, m.literal8, {}};
    FlagsFromNames(m.flags, &p.options.flags, &p.options.keywords);
    p.options.internal_date =
        m.internal_date ? m.internal_date->ToUnixTime() : Clock::Real().NowUnix();
    pending.push_back(std::move(p));
  }
  std::optional<store::MailboxInfo> mailbox = co_await FindMailbox(args.mailbox);
  if (!mailbox) co_return No("[TRYCREATE] No such mailbox");
  const int64_t id = mailbox->id;
  // RFC 6855 §4 asks a server offering UTF8=ACCEPT to refuse 8-bit header
  // fields from a client that did not enable it. We store them anyway: old
  // mail with raw 8-bit headers is common, and refusing it would break every
  // migration by mbsync or a mail client (the message would stay behind).
  auto append = [this, id,
                 pending = std::move(pending)]() -> Result<std::vector<store::AppendResult>> {
    store::Store& store = context_.store;
    std::vector<store::Store::NewMessage> batch;
    auto unpin = [&store, &batch] {
      for (const auto& m : batch) {
        if (m.body.in_file) store.blobs().Unpin(m.body.ref.hash);
      }
    };
    for (size_t i = 0; i < pending.size(); ++i) {
      const Pending& p = pending[i];
      // Stored in the CRLF form IMAP serves, so sizes stay true; binary
      // parts of a literal8 as base64 (RFC 3516 §4.4, §6).
      Result<std::string> content = p.literal8 ? message::EncodeBinaryParts(p.content)
                                               : Result<std::string>(message::ToCrlf(p.content));
      const std::string which =
          pending.size() > 1 ? "Message " + std::to_string(i + 1) + ": " : std::string();
      if (!content.ok()) {
        unpin();
        return InvalidArgument(which + content.status().message());  // UNKNOWN-CTE
      }
      Result<store::Body> body = store.EncodeBody(*content);
      Status written = !body.ok()      ? body.status()
                       : body->in_file ? store.WriteBodyFile(*body)
                                       : Status::Ok();
      if (!written.ok()) {
        unpin();
        return Internal(which + written.message());
      }
      store::AppendOptions options = p.options;
      options.parse = mailbox::StructureOf(*content);
      batch.push_back({std::move(*body), std::move(options)});
    }
    return store.AppendMessages(id, batch);
  };
  Result<std::vector<store::AppendResult>> r =
      co_await Offload(context_.blocking, std::move(append));
  if (!r.ok()) {
    switch (r.status().code()) {
      case StatusCode::kInvalidArgument:  // binary content that cannot be kept
        co_return No("[UNKNOWN-CTE] " + r.status().message());
      case StatusCode::kResourceExhausted:
        co_return No("[OVERQUOTA] " + r.status().message());
      case StatusCode::kFailedPrecondition:
        co_return No(r.status().message());
      case StatusCode::kNotFound:
        co_return No("[TRYCREATE] No such mailbox");
      default:
        co_return No("[SERVERBUG] " + r.status().message());
    }
  }
  std::vector<uint32_t> uids;
  for (const store::AppendResult& a : *r) uids.push_back(a.uid);
  Announce(id, r->back().modseq, r->back().uid);
  if (selected_ && selected_->id() == id) changed_ = true;
  // RFC 4315 §3: APPENDUID with every UID, in order (RFC 3502 §6.3.11).
  co_return Ok("[APPENDUID " + std::to_string(r->front().uidvalidity) + " " +
               imap::FormatSequenceSet(uids) + "] APPEND completed");
}

}  // namespace postern::imapserver
