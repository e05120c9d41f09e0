// SCRAM-SHA-256: the RFC 7677 §3 exchange byte for byte, then RFC 5802 edge
// cases and hostile messages.
#include "sasl/scram.h"

#include <gtest/gtest.h>

#include "base/base64.h"
#include "base/strings.h"
#include "directory/scram_secrets.h"
#include "sasl/fake_credentials.h"

namespace postern::sasl {
namespace {

using directory::HmacSha256;
using directory::Sha256;

constexpr std::string_view kRfcSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view kRfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kClientNonce = "rOprNGfwEbeRWgbNEkqO";

// The client side of RFC 5802 §3: client-final-message for this exchange.
std::string ClientFinalFor(std::string_view password, std::string_view client_first_bare,
                           std::string_view server_first, std::string_view gs2_header = "n,,",
                           std::string_view extensions = "") {
  std::string salt, nonce;
  uint32_t iterations = 0;
  for (std::string_view a : Split(server_first, ',')) {
    if (a.starts_with("r=")) nonce = std::string(a.substr(2));
    if (a.starts_with("s=")) salt = *DecodeBase64Strict(a.substr(2));
    if (a.starts_with("i="))
      iterations = static_cast<uint32_t>(std::stoul(std::string(a.substr(2))));
  }
  const std::string without_proof =
      "c=" + EncodeBase64Strict(gs2_header) + ",r=" + nonce + std::string(extensions);
  const std::string auth =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  const std::string salted = directory::SaltedPassword(password, salt, iterations);
  std::string proof = HmacSha256(salted, "Client Key");
  const std::string signature = HmacSha256(Sha256(proof), auth);
  for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= signature[i];
  return without_proof + ",p=" + EncodeBase64Strict(proof);
}

class ScramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    credentials_.Add("user", "pencil", true, *DecodeBase64Strict(kRfcSalt));
    credentials_.Add("old@example.test", "pencil", false);
  }
  std::unique_ptr<Mechanism> New(std::string nonce = std::string(kRfcServerNonce)) {
    MechanismOptions options;
    options.scram_server_nonce = std::move(nonce);
    return NewMechanism("SCRAM-SHA-256", credentials_, options);
  }
  // Runs client-first, then the client-final the real password gives.
  StepResult Exchange(std::string_view user_attr, std::string_view password,
                      std::string_view gs2 = "n,,") {
    auto m = New();
    const std::string bare = std::string(user_attr) + ",r=" + std::string(kClientNonce);
    StepResult first = m->Step(std::string(gs2) + bare);
    if (first.status != StepStatus::kContinue) return first;
    return m->Step(ClientFinalFor(password, bare, first.data, gs2));
  }

  FakeCredentials credentials_;
};

TEST_F(ScramTest, Rfc7677Example) {
  auto m = New();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name(), "SCRAM-SHA-256");
  StepResult first = m->Step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_EQ(first.status, StepStatus::kContinue) << first.reason;
  EXPECT_EQ(first.data,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
            "i=4096");
  EXPECT_EQ(m->user(), "user");
  StepResult final_step = m->Step(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_EQ(final_step.status, StepStatus::kSuccess) << final_step.reason;
  EXPECT_EQ(final_step.data, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  ASSERT_TRUE(final_step.account.has_value());
  EXPECT_EQ(final_step.account->address, "user");
  // The exchange is over.
  StepResult again = m->Step("c=biws");
  EXPECT_EQ(again.status, StepStatus::kFailure);
  EXPECT_EQ(again.failure, Failure::kMalformed);
}

TEST_F(ScramTest, WithoutInitialResponseAnEmptyChallengeComesFirst) {
  auto m = New();
  StepResult ask = m->Step(std::nullopt);
  ASSERT_EQ(ask.status, StepStatus::kContinue);
  EXPECT_EQ(ask.data, "");
  StepResult first = m->Step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_EQ(first.status, StepStatus::kContinue);
  StepResult last = m->Step(ClientFinalFor("pencil", "n=user,r=rOprNGfwEbeRWgbNEkqO", first.data));
  EXPECT_EQ(last.status, StepStatus::kSuccess) << last.reason;
  // A later step without data is a broken exchange.
  auto other = New();
  other->Step(std::nullopt);
  EXPECT_EQ(other->Step(std::nullopt).failure, Failure::kMalformed);
}

TEST_F(ScramTest, RandomServerNonceExtendsTheClientNonce) {
  auto m = New("");
  StepResult first = m->Step("n,,n=user,r=abc");
  ASSERT_EQ(first.status, StepStatus::kContinue);
  ASSERT_TRUE(first.data.starts_with("r=abc"));
  const size_t comma = first.data.find(',');
  EXPECT_GE(comma, std::string("r=abc").size() + 16) << first.data;
  EXPECT_EQ(m->Step(ClientFinalFor("pencil", "n=user,r=abc", first.data)).status,
            StepStatus::kSuccess);
  auto other = New("");
  EXPECT_NE(other->Step("n,,n=user,r=abc").data, first.data);
}

TEST_F(ScramTest, WrongPasswordFailsWithInvalidProof) {
  StepResult r = Exchange("n=user", "pencil2");
  EXPECT_EQ(r.status, StepStatus::kFailure);
  EXPECT_EQ(r.failure, Failure::kRejected);
  EXPECT_EQ(r.data, "e=invalid-proof");
  EXPECT_FALSE(r.account.has_value());
}

TEST_F(ScramTest, UnknownUserAndAccountWithoutSecretsFailOnlyAtTheProof) {
  for (const char* user : {"n=nobody@example.test", "n=old@example.test"}) {
    auto m = New();
    StepResult first = m->Step(std::string("n,,") + user + ",r=abc");
    ASSERT_EQ(first.status, StepStatus::kContinue) << user;
    EXPECT_NE(first.data.find(",s="), std::string::npos);
    // The same made-up salt each time, so probing tells nothing.
    EXPECT_EQ(New()->Step(std::string("n,,") + user + ",r=abc").data, first.data);
    StepResult r = m->Step(ClientFinalFor("pencil", std::string(user) + ",r=abc", first.data));
    EXPECT_EQ(r.status, StepStatus::kFailure) << user;
    EXPECT_EQ(r.failure, Failure::kRejected);
    EXPECT_EQ(r.data, "e=invalid-proof");
  }
}

TEST_F(ScramTest, YFlagAndOwnAuthzidAccepted) {
  EXPECT_EQ(Exchange("n=user", "pencil", "y,,").status, StepStatus::kSuccess);
  EXPECT_EQ(Exchange("n=user", "pencil", "n,a=user,").status, StepStatus::kSuccess);
  StepResult other = Exchange("n=user", "pencil", "n,a=admin,");
  EXPECT_EQ(other.status, StepStatus::kFailure);
  EXPECT_EQ(other.failure, Failure::kNotAuthorized);
}

TEST_F(ScramTest, ChannelBindingRequiredIsRefused) {
  StepResult r = New()->Step("p=tls-exporter,,n=user,r=abc");
  EXPECT_EQ(r.status, StepStatus::kFailure);
  EXPECT_EQ(r.data, "e=channel-binding-not-supported");
  EXPECT_EQ(credentials_.scram_lookups, 0);
}

TEST_F(ScramTest, ChannelBindingMustRepeatTheGs2Header) {
  // "y,," in the first message, "n,," (biws) in c=: a downgrade or a bug.
  auto m = New();
  StepResult first = m->Step("y,,n=user,r=abc");
  ASSERT_EQ(first.status, StepStatus::kContinue);
  StepResult r = m->Step(ClientFinalFor("pencil", "n=user,r=abc", first.data, "n,,"));
  EXPECT_EQ(r.data, "e=channel-bindings-dont-match");
}

TEST_F(ScramTest, WrongNonceFails) {
  auto m = New();
  StepResult first = m->Step("n,,n=user,r=abc");
  ASSERT_EQ(first.status, StepStatus::kContinue);
  std::string final_message = ClientFinalFor("pencil", "n=user,r=abc", first.data);
  size_t at = final_message.find("r=abc") + 5;
  final_message[at] = final_message[at] == 'x' ? 'y' : 'x';
  StepResult r = m->Step(final_message);
  EXPECT_EQ(r.status, StepStatus::kFailure);
  EXPECT_EQ(r.failure, Failure::kRejected);
  EXPECT_EQ(r.data, "e=other-error");
}

TEST_F(ScramTest, SaslnameEscapes) {
  credentials_.Add("a,b=c", "pencil");
  EXPECT_EQ(DecodeSaslname("a=2Cb=3Dc"), std::optional<std::string>("a,b=c"));
  EXPECT_EQ(Exchange("n=a=2Cb=3Dc", "pencil").status, StepStatus::kSuccess);
  for (const char* bad : {"a=2c", "a=41", "a=", "a=3", "", "a,b"}) {
    EXPECT_FALSE(DecodeSaslname(bad).has_value()) << bad;
  }
  StepResult r = New()->Step("n,,n=a=41,r=abc");
  EXPECT_EQ(r.data, "e=invalid-username-encoding");
}

TEST_F(ScramTest, OptionalExtensionsAreIgnoredMandatoryOnesFail) {
  auto m = New();
  StepResult first = m->Step("n,,n=user,r=abc,x=whatever");
  ASSERT_EQ(first.status, StepStatus::kContinue) << first.reason;
  StepResult r =
      m->Step(ClientFinalFor("pencil", "n=user,r=abc,x=whatever", first.data, "n,,", ",z=ext"));
  EXPECT_EQ(r.status, StepStatus::kSuccess) << r.reason;

  EXPECT_EQ(New()->Step("n,,m=ext,n=user,r=abc").data, "e=extensions-not-supported");
  EXPECT_EQ(New()->Step("n,,n=user,r=abc,m=ext").data, "e=extensions-not-supported");
  auto late = New();
  first = late->Step("n,,n=user,r=abc");
  std::string final_message = ClientFinalFor("pencil", "n=user,r=abc", first.data, "n,,", ",m=1");
  EXPECT_EQ(late->Step(final_message).data, "e=extensions-not-supported");
}

TEST_F(ScramTest, MalformedClientFirst) {
  const std::string huge_nonce(kMaxClientMessage, 'x');
  for (const std::string& bad : {
           std::string(""),
           std::string("x,,n=user,r=abc"),
           std::string("n"),
           std::string("n,n=user,r=abc"),
           std::string("n,,r=abc"),
           std::string("n,,n=user"),
           std::string("n,,n=,r=abc"),
           std::string("n,,n=user,r="),
           std::string("n,,n=user,r=a b"),
           std::string("n,,r=abc,n=user"),
           std::string("n,,n=user,r=abc,"),
           std::string("n,,n=user,r=abc,1=x"),
           std::string("n,,n=user,r=abc,x"),
           std::string("n,a=,n=user,r=abc"),
           std::string("n,a=user"),
           std::string("n,,n=us\xff"
                       "er,r=abc"),
           std::string("n,,n=us\0er,r=abc", 16),
           "n,,n=user,r=" + huge_nonce,
       }) {
    StepResult r = New()->Step(bad);
    EXPECT_EQ(r.status, StepStatus::kFailure) << bad;
    EXPECT_TRUE(r.data.starts_with("e=")) << bad;
  }
  EXPECT_EQ(credentials_.scram_lookups, 0);
}

TEST_F(ScramTest, MalformedClientFinal) {
  for (const std::string& bad : {
           std::string(""),
           std::string("c=biws"),
           std::string("c=biws,r=x"),
           std::string("r=x,c=biws,p=AAAA"),
           std::string("c=biws,p=AAAA,r=x"),
           std::string("c=bi-s,r=x,p=AAAA"),
           std::string("c=biws,r=x,p=AA=A"),
           std::string("c=biws,r=x,p="),
           std::string("c=biws,r=x,,p=AAAA"),
           "c=biws,r=x,p=" + std::string(kMaxClientMessage, 'A'),
       }) {
    auto m = New();
    ASSERT_EQ(m->Step("n,,n=user,r=abc").status, StepStatus::kContinue);
    StepResult r = m->Step(bad);
    EXPECT_EQ(r.status, StepStatus::kFailure) << bad;
    EXPECT_EQ(r.failure, Failure::kMalformed) << bad;
    EXPECT_EQ(r.data, "e=invalid-encoding") << bad;
  }
  // Well formed, but a proof of the wrong size.
  auto m = New();
  StepResult first = m->Step("n,,n=user,r=abc");
  StepResult r = m->Step("c=biws," + first.data.substr(0, first.data.find(',')) + ",p=AAAA");
  EXPECT_EQ(r.data, "e=invalid-proof");
}

TEST_F(ScramTest, StoreTroubleIsUnavailable) {
  credentials_.unavailable = true;
  StepResult r = New()->Step("n,,n=user,r=abc");
  EXPECT_EQ(r.status, StepStatus::kFailure);
  EXPECT_EQ(r.failure, Failure::kUnavailable);
}

TEST_F(ScramTest, ParsersReturnTheParts) {
  auto first = ParseClientFirst("y,a=us=3Der,n=us=3Der,r=n0nce,q=1");
  ASSERT_TRUE(std::holds_alternative<ClientFirst>(first));
  const auto& f = std::get<ClientFirst>(first);
  EXPECT_EQ(f.gs2_header, "y,a=us=3Der,");
  EXPECT_EQ(f.authzid, "us=er");
  EXPECT_EQ(f.user, "us=er");
  EXPECT_EQ(f.nonce, "n0nce");
  EXPECT_EQ(f.bare, "n=us=3Der,r=n0nce,q=1");
  auto last = ParseClientFinal("c=eSws,r=n0nce,q=2,p=AAAA");
  ASSERT_TRUE(std::holds_alternative<ClientFinal>(last));
  const auto& l = std::get<ClientFinal>(last);
  EXPECT_EQ(l.channel_binding, "y,,");
  EXPECT_EQ(l.nonce, "n0nce");
  EXPECT_EQ(l.proof, std::string(3, '\0'));
  EXPECT_EQ(l.without_proof, "c=eSws,r=n0nce,q=2");
}

}  // namespace
}  // namespace postern::sasl
