// PLAIN and LOGIN over fake credentials, and the factory.
#include "sasl/mechanism.h"

#include <gtest/gtest.h>

#include "sasl/fake_credentials.h"

namespace postern::sasl {
namespace {

using namespace std::string_literals;

class MechanismTest : public ::testing::Test {
 protected:
  void SetUp() override { credentials_.Add("demo@example.test", "secret pw", false); }
  std::unique_ptr<Mechanism> New(std::string_view name) { return NewMechanism(name, credentials_); }
  FakeCredentials credentials_;
};

TEST_F(MechanismTest, Factory) {
  EXPECT_EQ(MechanismNames(), (std::vector<std::string_view>{"SCRAM-SHA-256", "PLAIN", "LOGIN"}));
  for (std::string_view name : MechanismNames()) {
    auto m = New(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->name(), name);
  }
  EXPECT_EQ(New("plain")->name(), "PLAIN");
  EXPECT_EQ(New("CRAM-MD5"), nullptr);
  EXPECT_EQ(New("SCRAM-SHA-256-PLUS"), nullptr);
  EXPECT_EQ(New(""), nullptr);
}

TEST_F(MechanismTest, PlainWithInitialResponse) {
  auto m = New("PLAIN");
  StepResult r = m->Step("\0demo@example.test\0secret pw"s);
  ASSERT_EQ(r.status, StepStatus::kSuccess) << r.reason;
  EXPECT_EQ(r.account->address, "demo@example.test");
  EXPECT_EQ(r.data, "");
  EXPECT_EQ(m->user(), "demo@example.test");
  EXPECT_EQ(m->Step("\0demo@example.test\0secret pw"s).failure, Failure::kMalformed);
}

TEST_F(MechanismTest, PlainAsksWithAnEmptyChallenge) {
  auto m = New("PLAIN");
  StepResult ask = m->Step(std::nullopt);
  ASSERT_EQ(ask.status, StepStatus::kContinue);
  EXPECT_EQ(ask.data, "");
  EXPECT_EQ(m->Step("Demo@Example.test\0Demo@Example.TEST\0secret pw"s).status,
            StepStatus::kSuccess);
  auto again = New("PLAIN");
  again->Step(std::nullopt);
  EXPECT_EQ(again->Step(std::nullopt).failure, Failure::kMalformed);
}

TEST_F(MechanismTest, PlainRejections) {
  StepResult wrong = New("PLAIN")->Step("\0demo@example.test\0wrong"s);
  EXPECT_EQ(wrong.status, StepStatus::kFailure);
  EXPECT_EQ(wrong.failure, Failure::kRejected);
  EXPECT_EQ(New("PLAIN")->Step("\0nobody@example.test\0secret pw"s).failure, Failure::kRejected);
  // RFC 4616 §2: acting as another user is not allowed here.
  EXPECT_EQ(New("PLAIN")->Step("admin@example.test\0demo@example.test\0secret pw"s).failure,
            Failure::kNotAuthorized);
  EXPECT_EQ(credentials_.password_checks, 2);
  for (const std::string& bad :
       {""s, "demo\0secret"s, "\0\0secret pw"s, "\0demo@example.test\0"s, "a\0b\0c\0d"s,
        "\0demo@example.test\0"s + std::string(kMaxClientMessage, 'x')}) {
    EXPECT_EQ(New("PLAIN")->Step(bad).failure, Failure::kMalformed);
  }
  EXPECT_EQ(credentials_.password_checks, 2);
  credentials_.unavailable = true;
  EXPECT_EQ(New("PLAIN")->Step("\0demo@example.test\0secret pw"s).failure, Failure::kUnavailable);
}

TEST_F(MechanismTest, LoginAsksForBoth) {
  auto m = New("LOGIN");
  StepResult user = m->Step(std::nullopt);
  ASSERT_EQ(user.status, StepStatus::kContinue);
  EXPECT_EQ(user.data, "Username:");
  StepResult pass = m->Step("demo@example.test");
  ASSERT_EQ(pass.status, StepStatus::kContinue);
  EXPECT_EQ(pass.data, "Password:");
  StepResult done = m->Step("secret pw");
  EXPECT_EQ(done.status, StepStatus::kSuccess) << done.reason;
  EXPECT_EQ(m->Step("x").failure, Failure::kMalformed);
}

TEST_F(MechanismTest, LoginWithInitialResponse) {
  auto m = New("LOGIN");
  StepResult pass = m->Step("demo@example.test");
  ASSERT_EQ(pass.status, StepStatus::kContinue);
  EXPECT_EQ(pass.data, "Password:");
  StepResult wrong = m->Step("nope");
  EXPECT_EQ(wrong.failure, Failure::kRejected);
  EXPECT_EQ(New("LOGIN")->Step("").failure, Failure::kMalformed);
  auto missing = New("LOGIN");
  missing->Step("demo@example.test");
  EXPECT_EQ(missing->Step(std::nullopt).failure, Failure::kMalformed);
  EXPECT_EQ(New("LOGIN")->Step(std::string(kMaxClientMessage + 1, 'u')).failure,
            Failure::kMalformed);
}

TEST_F(MechanismTest, DisabledAccountIsRejected) {
  credentials_.at("demo@example.test").disabled = true;
  EXPECT_EQ(New("PLAIN")->Step("\0demo@example.test\0secret pw"s).failure, Failure::kRejected);
}

}  // namespace
}  // namespace postern::sasl
