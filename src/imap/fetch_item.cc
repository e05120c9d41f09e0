// FETCH (RFC 9051 §6.4.5 with RFC 3501 RFC822.*, RFC 3516 BINARY, RFC 7162 MODSEQ and
// CHANGEDSINCE/VANISHED, RFC 8474, RFC 8514, RFC 8970) and STORE (RFC 9051 §6.4.6, RFC 7162
// UNCHANGEDSINCE).
#include "imap/fetch_item.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>

#include "base/strings.h"
#include "imap/parser.h"

namespace postern::imap {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsItemNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

bool IsSectionWordChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.';
}

bool IsStoreNameChar(char c) { return IsItemNameChar(c) || c == '+' || c == '-'; }

struct SimpleItem {
  std::string_view name;
  FetchKind kind;
};

constexpr SimpleItem kSimpleItems[] = {
    {"ENVELOPE", FetchKind::kEnvelope},
    {"FLAGS", FetchKind::kFlags},
    {"INTERNALDATE", FetchKind::kInternalDate},
    {"RFC822", FetchKind::kRfc822},
    {"RFC822.HEADER", FetchKind::kRfc822Header},
    {"RFC822.SIZE", FetchKind::kRfc822Size},
    {"RFC822.TEXT", FetchKind::kRfc822Text},
    {"BODYSTRUCTURE", FetchKind::kBodyStructure},
    {"UID", FetchKind::kUid},
    {"MODSEQ", FetchKind::kModSeq},
    {"EMAILID", FetchKind::kEmailId},
    {"THREADID", FetchKind::kThreadId},
    {"SAVEDATE", FetchKind::kSaveDate},
};

void AppendHeaderFieldName(std::string* out, std::string_view name) {
  bool atom = std::all_of(name.begin(), name.end(),
                          [](char c) { return internal::IsAtomChar(c) || c == ']'; });
  if (atom && !name.empty()) {
    out->append(name);
    return;
  }
  out->push_back('"');
  for (char c : name) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string Section::ToString() const {
  std::string out;
  for (uint32_t number : part) {
    if (!out.empty()) out.push_back('.');
    out.append(std::to_string(number));
  }
  if (text == SectionText::kNone) return out;
  if (!out.empty()) out.push_back('.');
  switch (text) {
    case SectionText::kNone:
      break;
    case SectionText::kHeader:
      out.append("HEADER");
      break;
    case SectionText::kHeaderFields:
    case SectionText::kHeaderFieldsNot:
      out.append(text == SectionText::kHeaderFields ? "HEADER.FIELDS (" : "HEADER.FIELDS.NOT (");
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out.push_back(' ');
        AppendHeaderFieldName(&out, fields[i]);
      }
      out.push_back(')');
      break;
    case SectionText::kText:
      out.append("TEXT");
      break;
    case SectionText::kMime:
      out.append("MIME");
      break;
  }
  return out;
}

std::string FetchItem::ResponseName() const {
  std::string name;
  switch (kind) {
    case FetchKind::kBodySection:
      name = "BODY[" + section.ToString() + "]";
      break;
    case FetchKind::kBinary:
      name = "BINARY[" + section.ToString() + "]";
      break;
    case FetchKind::kBinarySize:
      return "BINARY.SIZE[" + section.ToString() + "]";
    case FetchKind::kBody:
      return "BODY";
    case FetchKind::kPreview:
      return "PREVIEW";
    default:
      for (const SimpleItem& item : kSimpleItems) {
        if (item.kind == kind) return std::string(item.name);
      }
      return "UNKNOWN";
  }
  // RFC 9051 §7.5.2: only the origin octet is returned, "BODY[]<0>".
  if (partial) name += "<" + std::to_string(partial->offset) + ">";
  return name;
}

namespace internal {
namespace {

// section = "[" [section-spec] "]"; section-binary = "[" [section-part] "]" (RFC 9051 §9).
Result<Section> ParseSection(Parser& p, bool binary) {
  Section section;
  PT_RETURN_IF_ERROR(p.Expect('[', "[ to open the section"));
  size_t count = 0;
  bool after_dot = false;  // "1." must go on with a part number or a section-text word
  while (p.PeekIf(IsDigit)) {
    PT_RETURN_IF_ERROR(p.CountItem(&count, "section part"));
    PT_ASSIGN_OR_RETURN(uint32_t number, p.NzNumber("section part number"));
    section.part.push_back(number);
    after_dot = p.Consume('.');
    if (!after_dot) break;
  }
  if (binary && after_dot) return SyntaxError("Expected a part number in the binary section");
  if (!binary && (section.part.empty() ? !p.Peek(']') : after_dot)) {
    std::string word = AsciiToUpper(p.TakeWhile(IsSectionWordChar));
    if (word == "HEADER") {
      section.text = SectionText::kHeader;
    } else if (word == "TEXT") {
      section.text = SectionText::kText;
    } else if (word == "MIME" && !section.part.empty()) {
      section.text = SectionText::kMime;
    } else if (word == "HEADER.FIELDS" || word == "HEADER.FIELDS.NOT") {
      section.text =
          word == "HEADER.FIELDS" ? SectionText::kHeaderFields : SectionText::kHeaderFieldsNot;
      PT_RETURN_IF_ERROR(p.Space());
      // header-list = "(" header-fld-name *(SP header-fld-name) ")"
      PT_RETURN_IF_ERROR(p.ParenthesizedList("header field list", false, [&]() -> Status {
        PT_ASSIGN_OR_RETURN(std::string field, p.AString("header field name"));
        if (!IsHeaderFieldName(field)) return SyntaxError("Invalid header field name");
        section.fields.push_back(std::move(field));
        return Status::Ok();
      }));
    } else {
      return SyntaxError("Invalid section");
    }
  }
  PT_RETURN_IF_ERROR(p.Expect(']', "] to close the section"));
  return section;
}

// partial = "<" number64 "." nz-number64 ">"
Result<std::optional<Partial>> ParsePartial(Parser& p) {
  if (!p.Consume('<')) return std::optional<Partial>();
  Partial partial;
  PT_ASSIGN_OR_RETURN(partial.offset, p.Number64("partial offset"));
  PT_RETURN_IF_ERROR(p.Expect('.', ". in the partial range"));
  PT_ASSIGN_OR_RETURN(partial.length, p.Number64("partial length", true));
  PT_RETURN_IF_ERROR(p.Expect('>', "> to close the partial range"));
  return std::optional<Partial>(partial);
}

// One fetch-att. Macros are refused here: they stand alone.
Result<FetchItem> ParseFetchItem(Parser& p) {
  FetchItem item;
  std::string name = AsciiToUpper(p.TakeWhile(IsItemNameChar));
  if (name.empty()) return SyntaxError("Expected a FETCH item");
  for (const SimpleItem& simple : kSimpleItems) {
    if (name != simple.name) continue;
    item.kind = simple.kind;
    return item;
  }
  if (name == "BODY" || name == "BODY.PEEK") {
    item.peek = name == "BODY.PEEK";
    if (!p.Peek('[')) {
      if (item.peek) return SyntaxError("BODY.PEEK needs a section");
      item.kind = FetchKind::kBody;
      return item;
    }
    item.kind = FetchKind::kBodySection;
    PT_ASSIGN_OR_RETURN(item.section, ParseSection(p, false));
    PT_ASSIGN_OR_RETURN(item.partial, ParsePartial(p));
    return item;
  }
  if (name == "BINARY" || name == "BINARY.PEEK" || name == "BINARY.SIZE") {
    item.kind = name == "BINARY.SIZE" ? FetchKind::kBinarySize : FetchKind::kBinary;
    item.peek = name == "BINARY.PEEK";
    PT_ASSIGN_OR_RETURN(item.section, ParseSection(p, true));
    if (item.kind == FetchKind::kBinary) {
      PT_ASSIGN_OR_RETURN(item.partial, ParsePartial(p));
    }
    return item;
  }
  if (name == "PREVIEW") {
    item.kind = FetchKind::kPreview;
    // "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"] (RFC 8970 §6). A "(" that does not
    // open LAZY belongs to the FETCH modifiers that may follow a lone item.
    if (p.PeekText(" (LAZY")) {
      PT_RETURN_IF_ERROR(p.Space());
      PT_RETURN_IF_ERROR(p.ParenthesizedList("PREVIEW modifiers", false, [&]() -> Status {
        PT_ASSIGN_OR_RETURN(std::string modifier, p.Keyword("PREVIEW modifier"));
        if (modifier != "LAZY") return SyntaxError("Unknown PREVIEW modifier " + Shown(modifier));
        item.lazy = true;
        return Status::Ok();
      }));
    }
    return item;
  }
  if (name == "ALL" || name == "FAST" || name == "FULL") {
    return SyntaxError("Macro " + name + " cannot be combined with other items");
  }
  return SyntaxError("Unknown FETCH item " + Shown(name));
}

// ALL, FAST and FULL (RFC 9051 §6.4.5; FULL from RFC 3501).
std::optional<std::vector<FetchItem>> ExpandMacro(Parser& p) {
  auto items = [](std::initializer_list<FetchKind> kinds) {
    std::vector<FetchItem> out;
    for (FetchKind kind : kinds) out.push_back(FetchItem{.kind = kind});
    return out;
  };
  if (p.ConsumeKeyword("ALL")) {
    return items({FetchKind::kFlags, FetchKind::kInternalDate, FetchKind::kRfc822Size,
                  FetchKind::kEnvelope});
  }
  if (p.ConsumeKeyword("FAST")) {
    return items({FetchKind::kFlags, FetchKind::kInternalDate, FetchKind::kRfc822Size});
  }
  if (p.ConsumeKeyword("FULL")) {
    return items({FetchKind::kFlags, FetchKind::kInternalDate, FetchKind::kRfc822Size,
                  FetchKind::kEnvelope, FetchKind::kBody});
  }
  return std::nullopt;
}

}  // namespace

Result<Arguments> ParseFetchArguments(Parser& p, bool uid) {
  Fetch fetch;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(fetch.set, p.Set());
  PT_RETURN_IF_ERROR(p.Space());
  if (p.Peek('(')) {
    PT_RETURN_IF_ERROR(p.ParenthesizedList("FETCH item list", false, [&]() -> Status {
      PT_ASSIGN_OR_RETURN(FetchItem item, ParseFetchItem(p));
      fetch.items.push_back(std::move(item));
      return Status::Ok();
    }));
  } else if (std::optional<std::vector<FetchItem>> macro = ExpandMacro(p)) {
    fetch.items = std::move(*macro);
  } else {
    PT_ASSIGN_OR_RETURN(FetchItem item, ParseFetchItem(p));
    fetch.items.push_back(std::move(item));
  }
  if (!p.Consume(' ')) return Arguments(std::move(fetch));
  // fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")" (RFC 4466 §2.4)
  PT_RETURN_IF_ERROR(p.ParenthesizedList("FETCH modifier list", false, [&]() -> Status {
    PT_ASSIGN_OR_RETURN(std::string modifier, p.Keyword("FETCH modifier"));
    if (modifier == "CHANGEDSINCE") {
      if (fetch.changed_since) return SyntaxError("CHANGEDSINCE given twice");
      PT_RETURN_IF_ERROR(p.Space());
      // mod-sequence-value is positive, but 0 (every message) is accepted from lax clients.
      PT_ASSIGN_OR_RETURN(fetch.changed_since, p.Number64("mod-sequence"));
      return Status::Ok();
    }
    if (modifier == "VANISHED") {
      fetch.vanished = true;
      return Status::Ok();
    }
    return SyntaxError("Unknown FETCH modifier " + Shown(modifier));
  }));
  // RFC 7162 §3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
  if (fetch.vanished && !uid) return SyntaxError("VANISHED needs UID FETCH");
  if (fetch.vanished && !fetch.changed_since) return SyntaxError("VANISHED needs CHANGEDSINCE");
  return Arguments(std::move(fetch));
}

Result<Arguments> ParseStoreArguments(Parser& p) {
  Store store;
  PT_RETURN_IF_ERROR(p.Space());
  PT_ASSIGN_OR_RETURN(store.set, p.Set());
  PT_RETURN_IF_ERROR(p.Space());
  if (p.Peek('(')) {  // store-modifiers (RFC 4466 §2.5)
    PT_RETURN_IF_ERROR(p.ParenthesizedList("STORE modifier list", false, [&]() -> Status {
      PT_ASSIGN_OR_RETURN(std::string modifier, p.Keyword("STORE modifier"));
      if (modifier != "UNCHANGEDSINCE") {
        return SyntaxError("Unknown STORE modifier " + Shown(modifier));
      }
      if (store.unchanged_since) return SyntaxError("UNCHANGEDSINCE given twice");
      PT_RETURN_IF_ERROR(p.Space());
      PT_ASSIGN_OR_RETURN(store.unchanged_since, p.Number64("mod-sequence"));
      return Status::Ok();
    }));
    PT_RETURN_IF_ERROR(p.Space());
  }
  // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
  std::string action = AsciiToUpper(p.TakeWhile(IsStoreNameChar));
  std::string_view name = action;
  if (!name.empty() && (name.front() == '+' || name.front() == '-')) {
    store.mode = name.front() == '+' ? StoreMode::kAdd : StoreMode::kRemove;
    name.remove_prefix(1);
  }
  if (name == "FLAGS.SILENT") {
    store.silent = true;
  } else if (name != "FLAGS") {
    return SyntaxError("Expected FLAGS, +FLAGS or -FLAGS");
  }
  PT_RETURN_IF_ERROR(p.Space());
  if (p.Peek('(')) {
    PT_ASSIGN_OR_RETURN(store.flags, p.FlagList());
    return Arguments(std::move(store));
  }
  size_t count = 0;
  do {
    PT_RETURN_IF_ERROR(p.CountItem(&count, "flag list"));
    PT_ASSIGN_OR_RETURN(std::string flag, p.Flag());
    if (std::find(store.flags.begin(), store.flags.end(), flag) == store.flags.end()) {
      store.flags.push_back(std::move(flag));
    }
  } while (p.Consume(' '));
  return Arguments(std::move(store));
}

}  // namespace internal
}  // namespace postern::imap
