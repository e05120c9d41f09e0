#include "message/binary_parts.h"

#include <gtest/gtest.h>

#include "message/codec.h"
#include "message/mime.h"

namespace postern::message {
namespace {

using namespace std::string_literals;

// The decoded octets of part `path` of `raw`, as FETCH BINARY serves them.
std::string DecodedPart(const std::string& raw, std::vector<uint32_t> path) {
  Message m = ParseMessage(raw);
  const Part* part = FindPart(m, path);
  if (part == nullptr) return "<none>";
  return DecodeTransferEncoding(part->transfer_encoding, m.BodyBytes(*part));
}

TEST(BinaryPartsTest, MessageWithoutBinaryPartsIsOnlyMadeCrlf) {
  Result<std::string> r = EncodeBinaryParts("Subject: x\n\nline one\nline two\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "Subject: x\r\n\r\nline one\r\nline two\r\n");
}

TEST(BinaryPartsTest, BinaryLeafBecomesBase64AndKeepsItsOctets) {
  const std::string data = "\x00\x01\n\r\xff\x00zz\r\n"s;
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhello\n"
      "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
      "\r\n" +
      data + "\r\n--b--\r\n";
  Result<std::string> r = EncodeBinaryParts(raw);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->find('\0'), std::string::npos);
  EXPECT_NE(r->find("Content-Transfer-Encoding: base64\r\n"), std::string::npos);
  EXPECT_EQ(r->find("binary"), std::string::npos);
  EXPECT_EQ(DecodedPart(*r, {2}), data);
  EXPECT_EQ(DecodedPart(*r, {1}), "hello");
  EXPECT_NE(r->find("\r\n\r\nhello\r\n--b\r\n"), std::string::npos);  // made CRLF
  Message m = ParseMessage(*r);
  ASSERT_EQ(m.root.children.size(), 2u);
  EXPECT_EQ(m.root.children[1].transfer_encoding, "base64");
}

TEST(BinaryPartsTest, NulInAnUnlabelledPartGetsAnEncodingField) {
  const std::string data =
      "a\x00"
      "b"s;
  const std::string raw = "Subject: x\r\nContent-Type: application/x-thing\r\n\r\n" + data;
  Result<std::string> r = EncodeBinaryParts(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "Subject: x\r\nContent-Type: application/x-thing\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" +
                EncodeBase64(data));
  EXPECT_EQ(DecodedPart(*r, {1}), data);
}

TEST(BinaryPartsTest, PartWithoutHeaderFieldsGetsOne) {
  const std::string data = "\x00\x00"s;
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + data + "\r\n--b--\r\n";
  Result<std::string> r = EncodeBinaryParts(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(DecodedPart(*r, {1}), data);
  EXPECT_EQ(ParseMessage(*r).root.children.at(0).transfer_encoding, "base64");
}

TEST(BinaryPartsTest, NestedMessageAndContainersLabelledBinary) {
  const std::string data = "\x00\xfe\n"s;
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=outer\r\n"
      "Content-Transfer-Encoding: binary\r\n\r\n"
      "--outer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "Subject: inner\r\nContent-Type: application/octet-stream\r\n\r\n" +
      data + "\r\n--outer--\r\n";
  Result<std::string> r = EncodeBinaryParts(raw);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(DecodedPart(*r, {1, 1}), data);
  Message m = ParseMessage(*r);
  EXPECT_EQ(m.root.transfer_encoding, "8bit");
  EXPECT_EQ(m.root.children.at(0).transfer_encoding, "8bit");
  EXPECT_TRUE(m.root.children.at(0).embedded);
}

TEST(BinaryPartsTest, NulWhereNoEncodingCanCarryItIsRefused) {
  // In a header field.
  EXPECT_FALSE(EncodeBinaryParts("Subject: a\x00"
                                 "b\r\n\r\nbody"s)
                   .ok());
  // In a multipart preamble.
  EXPECT_FALSE(EncodeBinaryParts("Content-Type: multipart/mixed; boundary=b\r\n\r\npre\x00\r\n"
                                 "--b\r\n\r\nx\r\n--b--\r\n"s)
                   .ok());
  // In a part that claims base64 or quoted-printable: decoding would lose it.
  EXPECT_FALSE(EncodeBinaryParts("Content-Transfer-Encoding: base64\r\n\r\nAA\x00"
                                 "AA"s)
                   .ok());
  EXPECT_FALSE(EncodeBinaryParts("Content-Transfer-Encoding: quoted-printable\r\n\r\na\x00"s).ok());
  EXPECT_FALSE(EncodeBinaryParts("Content-Transfer-Encoding: x-uuencode\r\n\r\na\x00"s).ok());
}

}  // namespace
}  // namespace postern::message
