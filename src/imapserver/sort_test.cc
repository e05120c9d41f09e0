// Tests for SORT's values and order (RFC 5256 §2 and §3, RFC 5957), taken
// from envelopes as the parse cache stores them.
#include "imapserver/sort.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "message/mime.h"

namespace postern::imapserver {
namespace {

using imap::SortCriterion;
using imap::SortKey;

// The envelope of a message with this header, as FETCH serves it and SORT
// reads it back.
message::Envelope EnvelopeOf(const std::string& header) {
  const std::string raw = header + "\r\n\r\nbody\r\n";
  message::Message parsed = message::ParseMessage(raw);
  std::optional<message::Envelope> envelope =
      message::ReadImapEnvelope(message::ImapEnvelope(parsed.root));
  EXPECT_TRUE(envelope.has_value()) << header;
  return envelope.value_or(message::Envelope{});
}

const std::vector<SortCriterion> kAllKeys = {
    {SortKey::kArrival}, {SortKey::kCc},          {SortKey::kDate},
    {SortKey::kFrom},    {SortKey::kSize},        {SortKey::kSubject},
    {SortKey::kTo},      {SortKey::kDisplayFrom}, {SortKey::kDisplayTo}};

SortValues ValuesOf(const std::string& header, int64_t internal_date = 0) {
  message::Envelope envelope = EnvelopeOf(header);
  return SortValuesOf(&envelope, 1, internal_date, 100, kAllKeys);
}

TEST(SortValuesTest, SubjectIsTheDecodedBaseSubject) {
  EXPECT_EQ(ValuesOf("Subject: Re: [list] Fwd: Hello  World (fwd)").subject, "HELLO WORLD");
  EXPECT_EQ(ValuesOf("Subject: =?utf-8?q?Re=3A_R=C3=A9sum=C3=A9?=").subject,
            "RE\xCC\x81SUME\xCC\x81");
  EXPECT_EQ(ValuesOf("Subject: =?iso-8859-1?q?[fwd:_caf=E9]?=").subject, "CAFE\xCC\x81");
  EXPECT_EQ(ValuesOf("Subject: Re:\r\n\tfolded").subject, "FOLDED");
  EXPECT_EQ(ValuesOf("From: a@b").subject, "");
}

TEST(SortValuesTest, AddressesAreTheFirstMailbox) {
  SortValues v = ValuesOf(
      "From: \"Zed\" <Alice@Example.org>, bob@example.org\r\n"
      "To: undisclosed: ;, Carol <carol@x>\r\n"
      "Cc: team: Dan <dan@x>, eve@x;");
  EXPECT_EQ(v.from, "ALICE");  // addr-mailbox only, not the host
  EXPECT_EQ(v.to, "CAROL");    // an empty group is no address
  EXPECT_EQ(v.cc, "DAN");      // the first mailbox inside a group
  SortValues none = ValuesOf("Subject: x");
  EXPECT_EQ(none.from, "");
  EXPECT_EQ(none.to, "");
  EXPECT_EQ(none.cc, "");
}

TEST(SortValuesTest, DisplayNamesPerRfc5957) {
  EXPECT_EQ(ValuesOf("From: \"Zed Zulu\" <a@b>").display_from, "ZED ZULU");
  EXPECT_EQ(ValuesOf("From: =?utf-8?q?=C3=89mile?= <a@b>").display_from, "E\xCC\x81MILE");
  // No name, or one that decodes to nothing: mailbox@host.
  EXPECT_EQ(ValuesOf("From: Alice@Example.org").display_from, "ALICE@EXAMPLE.ORG");
  EXPECT_EQ(ValuesOf("From: \"\" <a@b>").display_from, "A@B");
  EXPECT_EQ(ValuesOf("From: =?utf-8?q?_?= <a@b>").display_from, "A@B");
  EXPECT_EQ(ValuesOf("To: Bob <bob@x>, Al <al@x>").display_to, "BOB");
  EXPECT_EQ(ValuesOf("Subject: x").display_to, "");
}

TEST(SortValuesTest, SentDateIsUtcOrTheInternalDate) {
  // RFC 5256 §2.2: "31 Dec 2000 16:01:33 -0800" is 1 Jan 2001 00:01:33 UTC.
  EXPECT_EQ(ValuesOf("Date: Sun, 31 Dec 2000 16:01:33 -0800").sent, 978307293);
  EXPECT_EQ(ValuesOf("Date: 1 Jan 2001 00:01:33 +0000").sent, 978307293);
  EXPECT_EQ(ValuesOf("Date: not a date", 12345).sent, 12345);
  EXPECT_EQ(ValuesOf("Subject: no date", 777).sent, 777);
  EXPECT_EQ(SortValuesOf(nullptr, 1, 99, 5, kAllKeys).sent, 99);
}

std::vector<uint32_t> Sorted(std::vector<SortValues> values,
                             const std::vector<SortCriterion>& criteria) {
  SortMessages(criteria, &values);
  std::vector<uint32_t> seqs;
  for (const SortValues& v : values) seqs.push_back(v.seq);
  return seqs;
}

std::vector<SortValues> Mailbox() {
  // seq, arrival, sent, size, subject, from, to, cc
  std::vector<SortValues> m(5);
  m[0] = {1, 50, 300, 10, "B", "ZOE", "", "X"};
  m[1] = {2, 40, 100, 30, "A", "", "BOB", ""};
  m[2] = {3, 30, 300, 20, "B", "ANN", "BOB", "X"};
  m[3] = {4, 20, 200, 30, "", "ANN", "AL", ""};
  m[4] = {5, 10, 100, 5, "A\xC3\xA9", "_X", "BOB", "Y"};
  return m;
}

TEST(SortMessagesTest, EachKeyAscendingWithTiesBySequence) {
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kArrival}}), (std::vector<uint32_t>{5, 4, 3, 2, 1}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kDate}}), (std::vector<uint32_t>{2, 5, 4, 1, 3}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kSize}}), (std::vector<uint32_t>{5, 1, 3, 2, 4}));
  // The empty string first; octet order of the casemapped keys.
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kSubject}}), (std::vector<uint32_t>{4, 2, 5, 1, 3}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kFrom}}), (std::vector<uint32_t>{2, 3, 4, 1, 5}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kTo}}), (std::vector<uint32_t>{1, 4, 2, 3, 5}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kCc}}), (std::vector<uint32_t>{2, 4, 1, 3, 5}));
}

TEST(SortMessagesTest, ReverseAndSeveralCriteria) {
  // RFC 5256 §3: REVERSE reverses its criterion only, not the implicit
  // sequence order of ties.
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kDate, true}}), (std::vector<uint32_t>{1, 3, 4, 2, 5}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kSubject}, {SortKey::kDate, true}}),
            (std::vector<uint32_t>{4, 2, 5, 1, 3}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kTo}, {SortKey::kSize, true}}),
            (std::vector<uint32_t>{1, 4, 2, 3, 5}));
  EXPECT_EQ(Sorted(Mailbox(), {{SortKey::kCc, true}, {SortKey::kArrival}}),
            (std::vector<uint32_t>{5, 3, 1, 4, 2}));
}

TEST(SortMessagesTest, CollationIgnoresCase) {
  message::Envelope lower = EnvelopeOf("Subject: apple\r\nFrom: zed@x");
  message::Envelope upper = EnvelopeOf("Subject: APPLE\r\nFrom: Zed@x");
  message::Envelope banana = EnvelopeOf("Subject: Banana\r\nFrom: ann@x");
  std::vector<SortValues> values = {
      SortValuesOf(&banana, 1, 0, 0, kAllKeys),
      SortValuesOf(&upper, 2, 0, 0, kAllKeys),
      SortValuesOf(&lower, 3, 0, 0, kAllKeys),
  };
  EXPECT_EQ(Sorted(values, {{SortKey::kSubject}}), (std::vector<uint32_t>{2, 3, 1}));
  EXPECT_EQ(Sorted(values, {{SortKey::kFrom}, {SortKey::kSubject}}),
            (std::vector<uint32_t>{1, 2, 3}));
}

TEST(ReadImapEnvelopeTest, LiteralsNilAndJunk) {
  std::optional<message::Envelope> e = message::ReadImapEnvelope(
      "NIL {5}\r\nhello ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL \"<m@x>\"");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->subject, "hello");
  EXPECT_EQ(e->date, "");
  ASSERT_EQ(e->from.size(), 1u);
  EXPECT_FALSE(e->from[0].has_name);
  EXPECT_EQ(e->from[0].mailbox, "a");
  EXPECT_EQ(e->message_id, "<m@x>");
  EXPECT_FALSE(message::ReadImapEnvelope("").has_value());
  EXPECT_FALSE(message::ReadImapEnvelope("NIL NIL NIL").has_value());
  EXPECT_FALSE(
      message::ReadImapEnvelope("\"d\" \"s\" (((( NIL NIL NIL NIL NIL NIL NIL").has_value());
  EXPECT_FALSE(message::ReadImapEnvelope("(NIL) NIL NIL NIL NIL NIL NIL NIL NIL NIL").has_value());
  EXPECT_FALSE(message::ReadImapEnvelope("NIL NIL \"x\" NIL NIL NIL NIL NIL NIL NIL").has_value());
  EXPECT_FALSE(message::ReadImapEnvelope("NIL {99}\r\nshort NIL").has_value());
}

TEST(ThreadInputTest, IdsSubjectAndDate) {
  message::Envelope e = EnvelopeOf(
      "Subject: =?utf-8?q?Re=3A_hello?=\r\nDate: 1 Jan 2001 00:01:33 +0000\r\n"
      "Message-ID: <\"m 1\"@x>\r\nIn-Reply-To: <p@x> <q@x>");
  message::ThreadMessage t = ThreadInputOf(&e, "", 7, 5);
  EXPECT_EQ(t.number, 7u);
  EXPECT_EQ(t.sent_date, 978307293);
  EXPECT_EQ(t.base_subject, "HELLO");
  EXPECT_TRUE(t.reply_or_forward);
  EXPECT_EQ(t.message_id, "<m 1@x>");
  EXPECT_EQ(t.references, std::vector<std::string>{"<p@x>"});  // the first of In-Reply-To
  t = ThreadInputOf(&e, " <a@x>\r\n <b@x>", 7, 5);
  EXPECT_EQ(t.references, (std::vector<std::string>{"<a@x>", "<b@x>"}));
  t = ThreadInputOf(nullptr, "<a@x>", 8, 5);
  EXPECT_EQ(t.sent_date, 5);
  EXPECT_TRUE(t.message_id.empty());
  EXPECT_TRUE(t.references.empty());
}

}  // namespace
}  // namespace postern::imapserver
