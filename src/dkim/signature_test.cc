#include "dkim/signature.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "base/base64.h"
#include "base/strings.h"

namespace postern::dkim {
namespace {

// RFC 8463 §A.1: the secret keys of the example.
constexpr std::string_view kEd25519Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
constexpr std::string_view kRsaPem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";
// RFC 8463 §A.2: the key records.
constexpr std::string_view kEd25519Record =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr std::string_view kRsaRecord =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

// The RFC 8463 §A.3 message (as kept in the MimeKit test data), with CRLF.
std::string Rfc8463Message() {
  std::ifstream in(std::string(POSTERN_TESTDATA_DIR) + "/dkim/mimekit/rfc8463-example.msg",
                   std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string crlf;
  for (char c : s.str()) {
    if (c == '\n' && !crlf.ends_with('\r')) crlf += '\r';
    crlf += c;
  }
  return crlf;
}

PrivateKey Ed25519Key() { return *PrivateKey::FromEd25519Seed(*DecodeBase64Strict(kEd25519Seed)); }
PrivateKey RsaKey() { return *PrivateKey::FromPem(kRsaPem); }

Result<std::string> LookupIn(const std::map<std::string, std::string>& zone,
                             std::string_view selector, std::string_view domain) {
  auto it = zone.find(std::string(selector) + "._domainkey." + std::string(domain));
  if (it == zone.end()) return NotFound("no key record");
  return it->second;
}

KeyLookup Rfc8463Zone() {
  std::map<std::string, std::string> zone = {
      {"brisbane._domainkey.football.example.com", std::string(kEd25519Record)},
      {"test._domainkey.football.example.com", std::string(kRsaRecord)}};
  return [zone](std::string_view s, std::string_view d) { return LookupIn(zone, s, d); };
}

std::string TagValue(std::string_view field, std::string_view name) {
  auto tags = ParseTagList(field.substr(field.find(':') + 1));
  for (const Tag& t : *tags) {
    if (t.name == name) return std::string(t.value);
  }
  return {};
}

std::string NoWhitespace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

TEST(Rfc8463, KeysGiveThePublishedRecords) {
  EXPECT_EQ(KeyRecord(Ed25519Key()), kEd25519Record);
  EXPECT_EQ(KeyRecord(RsaKey()), kRsaRecord);
}

TEST(Rfc8463, BothSignaturesReproduceExactly) {
  const std::string message = Rfc8463Message();
  ASSERT_FALSE(message.empty()) << "missing " POSTERN_TESTDATA_DIR "/dkim/mimekit";
  const SplitMessage split = SplitHeader(message);
  ASSERT_EQ(split.fields.size(), 7u);
  const PrivateKey keys[] = {Ed25519Key(), RsaKey()};
  for (int i = 0; i < 2; ++i) {
    const std::string_view field = split.fields[i].raw;
    SCOPED_TRACE(std::string(field));
    EXPECT_EQ(BodyHash(split.body, Canonicalization::kRelaxed), TagValue(field, "bh"));
    std::vector<std::string> headers;
    const std::string h = TagValue(field, "h");
    for (auto name : Split(h, ':')) headers.push_back(NoWhitespace(name));
    ASSERT_EQ(headers.size(), 8u);
    auto data = SignedData(split, headers, field, Canonicalization::kRelaxed);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto signature = keys[i].Sign(*data);
    ASSERT_TRUE(signature.ok());
    EXPECT_EQ(EncodeBase64Strict(*signature), NoWhitespace(TagValue(field, "b")));
  }
}

TEST(Rfc8463, VerifierAcceptsTheExample) {
  const auto results = Verify(Rfc8463Message(), Rfc8463Zone());
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_TRUE(r.status.ok()) << r.selector << ": " << r.status.ToString();
    EXPECT_EQ(r.domain, "football.example.com");
  }
}

TEST(Rfc8463, VerifierRefusesChanges) {
  const std::string message = Rfc8463Message();
  std::string body_changed = message;
  body_changed.replace(body_changed.find("hungry"), 6, "angry!");
  std::string subject_changed = message;
  subject_changed.replace(subject_changed.find("dinner"), 6, "supper");
  std::string from_added = message;
  from_added.insert(from_added.find("From:"), "From: mallory@evil.example\r\n");
  for (const std::string& m : {body_changed, subject_changed, from_added}) {
    for (const auto& r : Verify(m, Rfc8463Zone())) EXPECT_FALSE(r.status.ok());
  }
  // A wrong key record (the other key) fails too.
  std::map<std::string, std::string> swapped = {
      {"brisbane._domainkey.football.example.com",
       "v=DKIM1; k=ed25519; p=" + Ed25519Key().PublicKeyBase64().replace(0, 4, "AAAA")}};
  auto results = Verify(
      message, [&](std::string_view s, std::string_view d) { return LookupIn(swapped, s, d); });
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].status.ok());
  EXPECT_FALSE(results[1].status.ok());  // no record at all
}

constexpr std::string_view kMessage =
    "Received: from client by us\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net,\r\n"
    "  carol@example.net\r\n"
    "Subject:  Hello   there \r\n"
    "Date: Mon, 2 Jun 2025 10:00:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "X-Mailer: whatever\r\n"
    "\r\n"
    "Hi Bob,  \r\n"
    "\r\n"
    "see you.\r\n"
    "\r\n";

TEST(Sign, RecommendedHeadersPresentOnesAndFromOversigned) {
  const auto names = RecommendedHeaders(SplitHeader(kMessage));
  const std::vector<std::string> expected = {"From",       "To",           "Subject",      "Date",
                                             "Message-ID", "MIME-Version", "Content-Type", "From"};
  EXPECT_EQ(names, expected);
}

TEST(Sign, RoundTripsEveryAlgorithmAndCanonicalization) {
  for (Algorithm a : {Algorithm::kEd25519Sha256, Algorithm::kRsaSha256}) {
    auto key = PrivateKey::Generate(a);
    ASSERT_TRUE(key.ok());
    std::map<std::string, std::string> zone = {{"sel._domainkey.example.org", KeyRecord(*key)}};
    for (auto hc : {Canonicalization::kSimple, Canonicalization::kRelaxed}) {
      for (auto bc : {Canonicalization::kSimple, Canonicalization::kRelaxed}) {
        SignOptions o{"example.org", "sel", hc, bc, 1700000000, {}};
        auto field = Sign(kMessage, o, *key);
        ASSERT_TRUE(field.ok()) << field.status().ToString();
        SCOPED_TRACE(*field);
        EXPECT_TRUE(
            field->starts_with("DKIM-Signature: v=1; a=" + std::string(AlgorithmName(a)) + "; c="));
        EXPECT_TRUE(field->ends_with("\r\n"));
        for (auto line : Split(*field, '\n')) EXPECT_LE(line.size(), 79u);  // 78 + CR
        EXPECT_NE(field->find("t=1700000000;"), std::string::npos);
        std::string unfolded = *field;
        for (size_t fold; (fold = unfolded.find("\r\n ")) != std::string::npos;) {
          unfolded.erase(fold, 3);
        }
        EXPECT_NE(
            unfolded.find("h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:From;"),
            std::string::npos);
        const std::string signed_message = *field + std::string(kMessage);
        auto results = Verify(signed_message, [&](std::string_view s, std::string_view d) {
          return LookupIn(zone, s, d);
        });
        ASSERT_EQ(results.size(), 1u);
        EXPECT_TRUE(results[0].status.ok()) << results[0].status.ToString();
        // Relaxed survives rewhitespacing; both fail on a changed word.
        std::string changed = signed_message;
        changed.replace(changed.find("see you"), 7, "see YOU");
        EXPECT_FALSE(Verify(changed, [&](std::string_view s,
                                         std::string_view d) { return LookupIn(zone, s, d); })[0]
                         .status.ok());
      }
    }
  }
}

TEST(Sign, RefusesAMessageWithoutFrom) {
  auto key = PrivateKey::Generate(Algorithm::kEd25519Sha256);
  auto field = Sign("Subject: x\r\n\r\nbody\r\n", {"example.org", "s"}, *key);
  EXPECT_FALSE(field.ok());
}

TEST(Keys, PemRoundTripAndShortRsaRefused) {
  auto key = PrivateKey::Generate(Algorithm::kEd25519Sha256);
  auto again = PrivateKey::FromPem(key->ToPem());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->PublicKeyBase64(), key->PublicKeyBase64());
  auto small = PrivateKey::Generate(Algorithm::kRsaSha256, 512);
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(PrivateKey::FromPem(small->ToPem()).ok());  // RFC 8301 §3.2
  EXPECT_FALSE(PrivateKey::FromPem("not a key").ok());
}

TEST(TagList, ParsesAndRefusesBadLists) {
  auto tags = ParseTagList(" v = 1 ;a=rsa-sha256;\r\n b= ab\r\n cd ;");
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].name, "v");
  EXPECT_EQ((*tags)[0].value, "1");
  EXPECT_EQ((*tags)[2].value, "ab\r\n cd");
  EXPECT_FALSE(ParseTagList("v=1; v=2").ok());
  EXPECT_FALSE(ParseTagList("v=1; junk").ok());
  EXPECT_FALSE(ParseTagList("1v=1").ok());
  EXPECT_TRUE(ParseTagList("").ok());
}

}  // namespace
}  // namespace postern::dkim
