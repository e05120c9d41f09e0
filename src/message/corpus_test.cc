// The MIME parser against other people's expectations
// (../shared/testdata/mime, README there): Dovecot's BODYSTRUCTURE, BODY and
// ENVELOPE strings, MimeKit's part offsets in the CRLF form of its mbox
// files, mime4j's trees, and every other corpus message parsed with its
// invariants checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/strings.h"
#include "message/imap_structure.h"
#include "message/mime.h"

namespace postern::message {
namespace {

namespace fs = std::filesystem;

const fs::path kMime = fs::path(POSTERN_TESTDATA_DIR) / "mime";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json ReadJson(const fs::path& path) { return nlohmann::json::parse(ReadFile(path)); }

std::vector<fs::path> FilesUnder(const fs::path& dir, std::string_view extension) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The structural invariants every parse must satisfy, whatever the input.
void CheckInvariants(const Message& message, const Part& part, size_t begin, size_t end,
                     const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_LE(begin, part.header_begin);
  EXPECT_LE(part.header_begin, part.body_begin);
  EXPECT_LE(part.body_begin, part.body_end);
  EXPECT_LE(part.body_end, end);
  CrlfSize body = MeasureCrlf(message.BodyBytes(part));
  EXPECT_EQ(part.body_size, body.size);
  EXPECT_EQ(part.body_lines, body.lines);
  EXPECT_EQ(part.header_size, MeasureCrlf(message.HeaderBytes(part)).size);
  for (const HeaderField& field : part.fields) {
    EXPECT_GE(field.offset, part.header_begin);
    EXPECT_LE(field.value.data() + field.value.size(), message.raw.data() + part.body_begin);
  }
  if (part.embedded) {
    ASSERT_EQ(part.children.size(), 1u);
    EXPECT_EQ(part.children[0].header_begin, part.body_begin);
  }
  size_t previous = part.body_begin;
  for (size_t i = 0; i < part.children.size(); ++i) {
    const Part& child = part.children[i];
    EXPECT_GE(child.header_begin, previous);
    CheckInvariants(message, child, part.body_begin, part.body_end,
                    where + "." + std::to_string(i + 1));
    previous = child.body_end;
  }
}

// Parentheses balance outside strings and literals, and literals are whole.
bool WellFormedImapList(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
      if (i >= s.size()) return false;
    } else if (c == '{') {
      size_t close = s.find("}\r\n", i);
      if (close == std::string_view::npos) return false;
      size_t n = std::stoul(std::string(s.substr(i + 1, close - i - 1)));
      i = close + 2 + n;
      if (i >= s.size() + 1) return false;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    }
  }
  return depth == 0;
}

void CheckWholeMessage(std::string_view raw, const std::string& name) {
  Message message = ParseMessage(raw);
  CheckInvariants(message, message.root, 0, raw.size(), name);
  std::string structure = ImapBodyStructure(message.root, true);
  std::string body = ImapBodyStructure(message.root, false);
  std::string envelope = ImapEnvelope(message.root);
  EXPECT_TRUE(WellFormedImapList("(" + structure + ")")) << name << ": " << structure;
  EXPECT_EQ(NormalizeBodyStructure(structure), structure) << name;
  EXPECT_TRUE(WellFormedImapList("(" + body + ")")) << name << ": " << body;
  EXPECT_TRUE(WellFormedImapList("(" + envelope + ")")) << name << ": " << envelope;
}

// ---- Dovecot: src/lib-imap/test-imap-bodystructure.c, test-imap-envelope.c

TEST(DovecotCorpus, BodyStructureAndBody) {
  auto tests = ReadJson(kMime / "bodystructure/dovecot/imap-bodystructure-parse-tests.json");
  ASSERT_EQ(tests.size(), 8u);
  int i = 0;
  for (const auto& test : tests) {
    SCOPED_TRACE("parse test " + std::to_string(i++));
    std::string raw = test["message"];
    Message message = ParseMessage(raw);
    EXPECT_EQ(ImapBodyStructure(message.root, true), test["bodystructure"].get<std::string>());
    EXPECT_EQ(ImapBodyStructure(message.root, false), test["body"].get<std::string>());
  }
}

TEST(DovecotCorpus, NormalizedBodyStructure) {
  auto tests = ReadJson(kMime / "bodystructure/dovecot/imap-bodystructure-normalize-tests.json");
  ASSERT_EQ(tests.size(), 7u);
  int i = 0;
  for (const auto& test : tests) {
    // Dovecot turns a cached BODY or partial BODYSTRUCTURE ("input") into a
    // full BODYSTRUCTURE ("output"); the message is what it was cached from.
    SCOPED_TRACE("normalize test " + std::to_string(i++));
    std::optional<std::string> normalized =
        NormalizeBodyStructure(test["input"].get<std::string>());
    ASSERT_TRUE(normalized.has_value());
    EXPECT_EQ(*normalized, test["output"].get<std::string>());
    // Our own BODYSTRUCTURE of the message is already normal.
    std::string raw = test["message"];  // the parse points into it
    Message message = ParseMessage(raw);
    std::string ours = ImapBodyStructure(message.root, true);
    EXPECT_EQ(NormalizeBodyStructure(ours), ours);
  }
}

TEST(DovecotCorpus, Envelope) {
  auto tests = ReadJson(kMime / "bodystructure/dovecot/imap-envelope-parse-tests.json");
  ASSERT_EQ(tests.size(), 6u);
  int i = 0;
  for (const auto& test : tests) {
    SCOPED_TRACE("envelope test " + std::to_string(i++));
    std::string raw = test["message"];
    Message message = ParseMessage(raw);
    EXPECT_EQ(ImapEnvelope(message.root), test["envelope"].get<std::string>());
  }
}

// ---- MimeKit: part offsets in the CRLF ("dos") form of each mbox file.

void CompareMimeKitEntity(const nlohmann::json& expected, const Part& part, size_t base,
                          const std::string& where);

void CompareMimeKitBody(const nlohmann::json& expected, const Part& part, size_t base,
                        const std::string& where) {
  SCOPED_TRACE(where);
  // MimeKit keeps the type's case as written; ours is lowercase.
  std::string mime_type = expected["mimeType"];
  EXPECT_TRUE(EqualsIgnoreCase(part.type + "/" + part.subtype, mime_type))
      << part.type << "/" << part.subtype << " vs " << mime_type;
  EXPECT_EQ(part.header_begin + base, expected["beginOffset"].get<size_t>());
  EXPECT_EQ(part.body_begin + base, expected["headersEndOffset"].get<size_t>());
  EXPECT_EQ(part.body_end + base, expected["endOffset"].get<size_t>());
  if (expected.contains("octets")) {
    EXPECT_EQ(part.body_size, expected["octets"].get<size_t>());
  }
  if (expected.contains("lines")) {
    EXPECT_EQ(part.body_lines, expected["lines"].get<size_t>());
  }
  if (expected.contains("children")) {
    ASSERT_TRUE(part.multipart);
    ASSERT_EQ(part.children.size(), expected["children"].size());
    for (size_t i = 0; i < part.children.size(); ++i) {
      CompareMimeKitBody(expected["children"][i], part.children[i], base,
                         where + "." + std::to_string(i + 1));
    }
  } else if (expected.contains("message")) {
    ASSERT_TRUE(part.embedded);
    CompareMimeKitEntity(expected["message"], part.children[0], base, where + ".message");
  } else {
    EXPECT_TRUE(part.children.empty());
  }
}

void CompareMimeKitEntity(const nlohmann::json& expected, const Part& message_part, size_t base,
                          const std::string& where) {
  // A message's own offsets are those of its header and whole body.
  EXPECT_EQ(message_part.header_begin + base, expected["beginOffset"].get<size_t>()) << where;
  EXPECT_EQ(message_part.body_begin + base, expected["headersEndOffset"].get<size_t>()) << where;
  CompareMimeKitBody(expected["body"], message_part, base, where + " body");
}

TEST(MimeKitCorpus, CrlfOffsetsOfEveryPart) {
  int files = 0, messages = 0;
  for (const fs::path& offsets : FilesUnder(kMime / "mimekit/mbox", ".json")) {
    std::string name = offsets.filename().string();
    if (name.find(".dos-offsets.json") == std::string::npos) continue;
    fs::path mbox = offsets.parent_path() /
                    (name.substr(0, name.size() - strlen(".dos-offsets.json")) + ".mbox.txt");
    ASSERT_TRUE(fs::exists(mbox)) << mbox;
    std::string raw = ToCrlf(ReadFile(mbox));
    ++files;
    for (const auto& expected : ReadJson(offsets)) {
      size_t begin = expected["beginOffset"];
      size_t end = expected["endOffset"];
      ASSERT_LE(end, raw.size());
      std::string where = name + " @" + std::to_string(begin);
      Message message = ParseMessage(std::string_view(raw).substr(begin, end - begin));
      CompareMimeKitEntity(expected, message.root, begin, where);
      CheckInvariants(message, message.root, 0, end - begin, where);
      ++messages;
    }
  }
  EXPECT_EQ(files, 2);
  EXPECT_GE(messages, 30);
}

// ---- mime4j: the tree its parser writes as XML beside each test message.

struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;
  const XmlNode* Child(std::string_view child_name) const {
    for (const XmlNode& c : children) {
      if (c.name == child_name) return &c;
    }
    return nullptr;
  }
};

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    std::string_view entity = s.substr(i + 1, semi - i - 1);
    if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (!entity.empty() && entity[0] == '#') {
      out.push_back(static_cast<char>(std::stoi(std::string(entity.substr(1)))));
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string WithoutCr(std::string_view s) {
  std::string out;
  std::copy_if(s.begin(), s.end(), std::back_inserter(out), [](char c) { return c != '\r'; });
  return out;
}

// mime4j's writer starts each element's text on a new line.
std::string ElementText(const XmlNode* node) {
  std::string text = WithoutCr(node->text);
  if (!text.empty() && text[0] == '\n') text.erase(0, 1);
  return text;
}

// The small XML dialect of mime4j's test files: elements and text only.
XmlNode ParseXml(std::string_view xml, size_t* pos) {
  XmlNode node;
  size_t close = xml.find('>', *pos);
  node.name = std::string(xml.substr(*pos + 1, close - *pos - 1));
  *pos = close + 1;
  while (*pos < xml.size()) {
    size_t lt = xml.find('<', *pos);
    if (lt == std::string_view::npos) break;
    node.text += XmlUnescape(xml.substr(*pos, lt - *pos));
    *pos = lt;
    if (xml.compare(lt, 2, "</") == 0) {
      *pos = xml.find('>', lt) + 1;
      return node;
    }
    node.children.push_back(ParseXml(xml, pos));
  }
  return node;
}

void CompareMime4jEntity(const Message& message, const XmlNode& expected, const Part& part,
                         const std::string& where) {
  SCOPED_TRACE(where);
  const XmlNode* header = expected.Child("header");
  ASSERT_NE(header, nullptr);
  std::vector<std::string> want, got;
  for (const XmlNode& field : header->children) {
    want.push_back(ElementText(&field));
  }
  for (const HeaderField& field : part.fields) {
    std::string_view raw = message.raw.substr(
        field.offset, field.value.data() + field.value.size() - message.raw.data() - field.offset);
    got.push_back(WithoutCr(raw));
  }
  EXPECT_EQ(got, want);
  if (const XmlNode* multipart = expected.Child("multipart")) {
    ASSERT_TRUE(part.multipart);
    std::vector<const XmlNode*> parts;
    for (const XmlNode& c : multipart->children) {
      if (c.name == "body-part") parts.push_back(&c);
    }
    ASSERT_EQ(part.children.size(), parts.size());
    if (const XmlNode* preamble = multipart->Child("preamble")) {
      EXPECT_EQ(WithoutCr(message.raw.substr(part.preamble_begin,
                                             part.preamble_end - part.preamble_begin)),
                ElementText(preamble));
    }
    if (const XmlNode* epilogue = multipart->Child("epilogue")) {
      // mime4j sometimes counts the line break after the close delimiter
      // as the epilogue's first line ("--b--\n" at the very end gives
      // "\n"), sometimes not; RFC 2046 says not. Compare without it.
      auto trim = [](std::string s) { return s.starts_with('\n') ? s.substr(1) : s; };
      EXPECT_EQ(trim(WithoutCr(message.raw.substr(part.epilogue_begin,
                                                  part.epilogue_end - part.epilogue_begin))),
                trim(ElementText(epilogue)));
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      CompareMime4jEntity(message, *parts[i], part.children[i],
                          where + "." + std::to_string(i + 1));
    }
  } else if (const XmlNode* embedded = expected.Child("message")) {
    if (!part.transfer_encoding.empty() && !EqualsIgnoreCase(part.transfer_encoding, "7bit") &&
        !EqualsIgnoreCase(part.transfer_encoding, "8bit") &&
        !EqualsIgnoreCase(part.transfer_encoding, "binary")) {
      // Deliberate difference: mime4j decodes a base64 or quoted-printable
      // message/rfc822 and parses what it finds. IMAP sections address the
      // raw bytes, so such a part stays a leaf here, as in Dovecot.
      EXPECT_FALSE(part.embedded);
      EXPECT_TRUE(part.children.empty());
      return;
    }
    ASSERT_TRUE(part.embedded);
    CompareMime4jEntity(message, *embedded, part.children[0], where + ".message");
  } else if (const XmlNode* body = expected.Child("body")) {
    EXPECT_FALSE(part.multipart);
    EXPECT_EQ(WithoutCr(message.BodyBytes(part)), ElementText(body));
  }
}

void RunMime4jFolder(const fs::path& dir, int* files, std::vector<std::string>* failed) {
  for (const fs::path& msg : FilesUnder(dir, ".msg")) {
    // These run mime4j with a non-default option (a malformed header line
    // starts the body); by default, like Dovecot, it skips such lines.
    if (msg.filename().string().starts_with("malformedHeaderStartsBody")) continue;
    fs::path xml_path = msg;
    xml_path.replace_extension(".xml");
    if (!fs::exists(xml_path)) continue;
    std::string raw = ReadFile(msg);
    std::string xml = ReadFile(xml_path);
    size_t pos = xml.find("<message>");
    ASSERT_NE(pos, std::string::npos) << xml_path;
    XmlNode expected = ParseXml(xml, &pos);
    Message message = ParseMessage(raw);
    ++*files;
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int before = result->total_part_count();
    CompareMime4jEntity(message, expected, message.root, msg.filename().string());
    CheckInvariants(message, message.root, 0, raw.size(), msg.filename().string());
    if (result->total_part_count() != before) failed->push_back(msg.filename().string());
  }
}

TEST(Mime4jCorpus, TreesMatch) {
  int files = 0;
  std::vector<std::string> failed;
  RunMime4jFolder(kMime / "mime4j/testmsgs", &files, &failed);
  RunMime4jFolder(kMime / "mime4j/mimetools-testmsgs", &files, &failed);
  EXPECT_GE(files, 75);
  std::string names;
  for (const std::string& name : failed) names += " " + name;
  EXPECT_TRUE(failed.empty()) << failed.size() << " of " << files << " differ:" << names;
}

// ---- Everything else: parses, with invariants, and yields well-formed IMAP.

TEST(AllCorpora, EveryMessageParses) {
  int count = 0;
  for (const char* dir : {"mail-parser/eml", "cpython-email", "mimekit/messages", "mime4j"}) {
    for (const char* ext : {".eml", ".txt", ".msg"}) {
      for (const fs::path& file : FilesUnder(kMime / dir, ext)) {
        std::string name = file.filename().string();
        if (name.find("LICENSE") != std::string::npos || name == "README.txt" ||
            name.find("_decoded") != std::string::npos) {
          continue;
        }
        CheckWholeMessage(ReadFile(file), file.string());
        ++count;
      }
    }
  }
  EXPECT_GE(count, 200);
}

}  // namespace
}  // namespace postern::message
