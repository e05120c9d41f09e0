// Commands that name mailboxes: SELECT/EXAMINE with CONDSTORE and QRESYNC (RFC 7162 §3.1.8,
// §3.2.5), CREATE with USE (RFC 6154 §3), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, GETQUOTAROOT,
// LIST (RFC 9051 §6.3.9, RFC 5258, RFC 5819), LSUB, STATUS and APPEND (RFC 3502 MULTIAPPEND,
// RFC 3516 literal8, RFC 6855 §4 UTF8 data).
#include <algorithm>
#include <string>
#include <utility>

#include "base/strings.h"
#include "imap/parser.h"

namespace postern::imap::internal {
namespace {

// The special-use attributes of RFC 6154 §2, canonically spelled.
constexpr std::string_view kSpecialUses[] = {"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
                                             "\\Junk", "\\Sent",    "\\Trash"};

struct StatusItemName {
  std::string_view name;
  StatusItem item;
};

constexpr StatusItemName kStatusItems[] = {
    {"MESSAGES", StatusItem::kMessages},
    {"UIDNEXT", StatusItem::kUidNext},
    {"UIDVALIDITY", StatusItem::kUidValidity},
    {"UNSEEN", StatusItem::kUnseen},
    {"DELETED", StatusItem::kDeleted},
    {"SIZE", StatusItem::kSize},
    {"RECENT", StatusItem::kRecent},
    {"HIGHESTMODSEQ", StatusItem::kHighestModSeq},
    {"APPENDLIMIT", StatusItem::kAppendLimit},
    {"MAILBOXID", StatusItem::kMailboxId},
    {"DELETED-STORAGE", StatusItem::kDeletedStorage},
};

// "(" status-att *(SP status-att) ")"; duplicates are dropped.
Result<std::vector<StatusItem>> ParseStatusItems(Parser& p) {
  std::vector<StatusItem> items;
  PT_RETURN_IF_ERROR(p.ParenthesizedList("status item list", false, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string name, p.Keyword("status item"));
    for (const StatusItemName& known : kStatusItems) {
      if (name != known.name) continue;
      if (std::find(items.begin(), items.end(), known.item) == items.end()) {
        items.push_back(known.item);
      }
      return Status::Ok();
    }
    return SyntaxError("Unknown status item " + Shown(name));
  }));
  return items;
}

// "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" (RFC 7162 §7).
Result<Qresync> ParseQresync(Parser& p) {
  Qresync qresync;
  constexpr SetRules kKnownSet{.allow_star = false, .allow_saved = false};
  PT_RETURN_IF_ERROR(p.Expect('(', "( after QRESYNC"));
  PT_ASSIGN_OR_RETURN(qresync.uidvalidity, p.NzNumber("UIDVALIDITY"));
  PT_RETURN_IF_ERROR(p.Space());
  // mod-sequence-value is positive, but 0 (nothing known) is accepted from lax clients.
  PT_ASSIGN_OR_RETURN(qresync.modseq, p.Number64("mod-sequence"));
  if (p.Consume(' ')) {
    if (!p.Peek('(')) {
      PT_ASSIGN_OR_RETURN(qresync.known_uids, p.Set(kKnownSet));
      if (p.Consume(' ') && !p.Peek('(')) return SyntaxError("Expected sequence match data");
    }
    if (p.Consume('(')) {
      PT_ASSIGN_OR_RETURN(qresync.known_sequence_numbers, p.Set(kKnownSet));
      PT_RETURN_IF_ERROR(p.Space());
      PT_ASSIGN_OR_RETURN(qresync.known_sequence_uids, p.Set(kKnownSet));
      PT_RETURN_IF_ERROR(p.Expect(')', ") after sequence match data"));
    }
  }
  PT_RETURN_IF_ERROR(p.Expect(')', ") to close the QRESYNC parameters"));
  return qresync;
}

Result<AppendMessage> ParseAppendMessage(Parser& p) {
  // append-message = append-opts SP append-data (RFC 4466 §2.3, RFC 3502 §6.3.11).
  AppendMessage message;
  if (p.Peek('(')) {
    PT_ASSIGN_OR_RETURN(message.flags, p.FlagList());
    PT_RETURN_IF_ERROR(p.Space());
  }
  if (p.Peek('"')) {
    PT_ASSIGN_OR_RETURN(message.internal_date, p.QuotedDateTime());
    PT_RETURN_IF_ERROR(p.Space());
  }
  LiteralValue literal;
  if (p.ConsumeKeyword("UTF8")) {  // utf8-literal = "UTF8" SP "(" literal8 ")" (RFC 6855 §4)
    PT_RETURN_IF_ERROR(p.Space());
    PT_RETURN_IF_ERROR(p.Expect('(', "( after UTF8"));
    if (!p.Peek('~')) return SyntaxError("UTF8 data must be a binary literal (~{N})");
    PT_ASSIGN_OR_RETURN(literal, p.Literal(LiteralUse::kMessage));
    PT_RETURN_IF_ERROR(p.Expect(')', ") after UTF8 data"));
    message.utf8 = true;
  } else if (p.Peek('{') || p.Peek('~')) {
    PT_ASSIGN_OR_RETURN(literal, p.Literal(LiteralUse::kMessage));
  } else if (p.PeekKeyword("CATENATE")) {
    return SyntaxError("CATENATE is not supported");
  } else {
    return SyntaxError("Expected the message as a literal");
  }
  message.content = literal.bytes;
  message.literal8 = literal.literal8;
  return message;
}

}  // namespace

Result<Arguments> ParseSelectArguments(Parser& p) {
  Select select;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(select.mailbox, p.Mailbox());
  if (!p.Consume(' ')) return Arguments(std::move(select));
  // select-params = SP "(" select-param *(SP select-param) ")" (RFC 4466 §2.1)
  PT_RETURN_IF_ERROR(p.ParenthesizedList("SELECT parameter list", false, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string name, p.Keyword("SELECT parameter"));
    if (name == "CONDSTORE") {
      if (select.condstore) return SyntaxError("CONDSTORE given twice");
      select.condstore = true;
      return Status::Ok();
    }
    if (name == "QRESYNC") {
      if (select.qresync) return SyntaxError("QRESYNC given twice");
      PT_RETURN_IF_ERROR(p.Space());
      PT_ASSIGN_OR_RETURN(select.qresync, ParseQresync(p));
      return Status::Ok();
    }
    return SyntaxError("Unknown SELECT parameter " + Shown(name));
  }));
  return Arguments(std::move(select));
}

Result<Arguments> ParseCreateArguments(Parser& p) {
  Create create;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(create.mailbox, p.Mailbox());
  if (!p.Consume(' ')) return Arguments(std::move(create));
  bool use_seen = false;
  PT_RETURN_IF_ERROR(p.ParenthesizedList("CREATE parameter list", false, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string name, p.Keyword("CREATE parameter"));
    if (name != "USE") return SyntaxError("Unknown CREATE parameter " + Shown(name));
    if (use_seen) return SyntaxError("USE given twice");
    use_seen = true;
    PT_RETURN_IF_ERROR(p.Space());
    // "USE" SP "(" [use-attr *(SP use-attr)] ")" (RFC 6154 §6)
    return p.ParenthesizedList("special-use list", true, [&]() -> Status {
      PT_RETURN_IF_ERROR(p.Expect('\\', "special-use attribute"));
      PT_ASSIGN_OR_RETURN(std::string_view atom, p.Atom("special-use attribute"));
      std::string attribute = "\\" + std::string(atom);
      for (std::string_view known : kSpecialUses) {
        if (EqualsIgnoreCase(attribute, known)) attribute = std::string(known);
      }
      if (std::find(create.special_use.begin(), create.special_use.end(), attribute) ==
          create.special_use.end()) {
        create.special_use.push_back(std::move(attribute));
      }
      return Status::Ok();
    });
  }));
  return Arguments(std::move(create));
}

Result<Arguments> ParseRenameArguments(Parser& p) {
  Rename rename;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(rename.from, p.Mailbox());
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(rename.to, p.Mailbox());
  return Arguments(std::move(rename));
}

Result<Arguments> ParseMailboxArgument(Parser& p) {
  MailboxArgument argument;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(argument.mailbox, p.Mailbox());
  return Arguments(std::move(argument));
}

Result<Arguments> ParseListArguments(Parser& p) {
  List list;
  PT_RETURN_IF_ERROR(p.Space());
  if (p.Peek('(')) {  // list-select-opts (RFC 5258 §6)
    list.extended = true;
    PT_RETURN_IF_ERROR(p.ParenthesizedList("LIST selection options", true, [&]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string option, p.Keyword("LIST selection option"));
      if (option == "SUBSCRIBED") {
        list.select_subscribed = true;
      } else if (option == "REMOTE") {
        list.select_remote = true;
      } else if (option == "RECURSIVEMATCH") {
        list.select_recursive_match = true;
      } else if (option == "SPECIAL-USE") {  // RFC 6154 §5.1
        list.select_special_use = true;
      } else {
        return SyntaxError("Unknown LIST selection option " + Shown(option));
      }
      return Status::Ok();
    }));
    // RECURSIVEMATCH needs a base option; REMOTE and SPECIAL-USE are independent (RFC 5258 §3).
    if (list.select_recursive_match && !list.select_subscribed) {
      return SyntaxError("RECURSIVEMATCH needs SUBSCRIBED");
    }
    PT_RETURN_IF_ERROR(p.Space());
  }
  PT_ASSIGN_OR_RETURN(list.reference, p.Reference());
  PT_RETURN_IF_ERROR(p.Space());
  if (p.Peek('(')) {  // patterns = "(" list-mailbox *(SP list-mailbox) ")"
    list.extended = true;
    PT_RETURN_IF_ERROR(p.ParenthesizedList("pattern list", false, [&]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string pattern, p.ListMailbox());
      list.patterns.push_back(std::move(pattern));
      return Status::Ok();
    }));
  } else {
    PT_ASSIGN_OR_RETURN(std::string pattern, p.ListMailbox());
    list.patterns.push_back(std::move(pattern));
  }
  if (!p.Consume(' ')) return Arguments(std::move(list));
  if (!p.ConsumeKeyword("RETURN")) return SyntaxError("Expected RETURN");
  list.extended = true;
  PT_RETURN_IF_ERROR(p.Space());
  PT_RETURN_IF_ERROR(p.ParenthesizedList("LIST return options", true, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string option, p.Keyword("LIST return option"));
    if (option == "SUBSCRIBED") {
      list.return_subscribed = true;
    } else if (option == "CHILDREN") {
      list.return_children = true;
    } else if (option == "SPECIAL-USE") {  // RFC 6154 §5.2
      list.return_special_use = true;
    } else if (option == "STATUS") {  // RFC 5819 §2
      if (list.return_status) return SyntaxError("STATUS given twice");
      PT_RETURN_IF_ERROR(p.Space());
      PT_ASSIGN_OR_RETURN(list.return_status, ParseStatusItems(p));
    } else {
      return SyntaxError("Unknown LIST return option " + Shown(option));
    }
    return Status::Ok();
  }));
  return Arguments(std::move(list));
}

Result<Arguments> ParseLsubArguments(Parser& p) {
  Lsub lsub;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(lsub.reference, p.Reference());
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(lsub.pattern, p.ListMailbox());
  return Arguments(std::move(lsub));
}

Result<Arguments> ParseStatusArguments(Parser& p) {
  StatusQuery query;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(query.mailbox, p.Mailbox());
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(query.items, ParseStatusItems(p));
  return Arguments(std::move(query));
}

Result<Arguments> ParseAppendArguments(Parser& p) {
  Append append;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(append.mailbox, p.Mailbox());
  size_t count = 0;
  // append = "APPEND" SP mailbox 1*append-message; each message starts with its SP.
  while (p.Consume(' ')) {
    PT_RETURN_IF_ERROR(p.CountItem(&count, "APPEND message list"));
    PT_ASSIGN_OR_RETURN(AppendMessage message, ParseAppendMessage(p));
    append.messages.push_back(std::move(message));
  }
  if (append.messages.empty()) return SyntaxError("Missing message");
  return Arguments(std::move(append));
}

}  // namespace postern::imap::internal
