// RunExchange: the protocol-independent loop, driven through a scripted `ask`
// that records the challenges and plays back the client's replies.
#include "sasl/exchange.h"

#include <gtest/gtest.h>

#include <deque>

#include "base/base64.h"
#include "sasl/fake_credentials.h"

namespace postern::sasl {
namespace {

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    credentials_.Add("user", "pencil", true, *DecodeBase64Strict("W22ZaJ0SNY7soEsUEjb6gQ=="));
  }

  // Runs `mechanism` with the initial response, answering challenges from
  // `replies_` in order (a non-OK entry is what `ask` fails with).
  Result<StepResult> Run(std::string_view mechanism_name, std::optional<std::string> initial,
                         MechanismOptions options = {}) {
    std::unique_ptr<Mechanism> mechanism =
        NewMechanism(mechanism_name, credentials_, std::move(options));
    EXPECT_NE(mechanism, nullptr);
    Ask ask = [this](std::string challenge) { return Reply(std::move(challenge)); };
    out_.reset();
    asio::co_spawn(io_, Drive(*mechanism, std::move(initial), std::move(ask)),
                   [](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                   });
    io_.run();
    io_.restart();
    EXPECT_TRUE(out_.has_value());
    return std::move(*out_);
  }

  asio::awaitable<void> Drive(Mechanism& mechanism, std::optional<std::string> initial, Ask ask) {
    out_ = co_await RunExchange(pool_, mechanism, std::move(initial), std::move(ask));
  }

  asio::awaitable<Result<std::string>> Reply(std::string challenge) {
    challenges_.push_back(std::move(challenge));
    if (replies_.empty()) co_return Unavailable("no more replies");
    Result<std::string> reply = std::move(replies_.front());
    replies_.pop_front();
    co_return reply;
  }

  asio::io_context io_;
  asio::thread_pool pool_{1};
  FakeCredentials credentials_;
  std::vector<std::string> challenges_;
  std::deque<Result<std::string>> replies_;
  std::optional<Result<StepResult>> out_;
};

TEST_F(ExchangeTest, InitialResponseNeedsNoChallenge) {
  Result<StepResult> r = Run("PLAIN", std::string("\0user\0pencil", 12));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, StepStatus::kSuccess);
  EXPECT_TRUE(challenges_.empty());
}

TEST_F(ExchangeTest, WithoutInitialResponseTheClientIsAskedFirst) {
  replies_.push_back(std::string("\0user\0pencil", 12));
  Result<StepResult> r = Run("PLAIN", std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, StepStatus::kSuccess);
  EXPECT_EQ(challenges_, std::vector<std::string>{""});
}

TEST_F(ExchangeTest, LoginAsksForUserThenPassword) {
  replies_.push_back(std::string("user"));
  replies_.push_back(std::string("wrong"));
  Result<StepResult> r = Run("LOGIN", std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, StepStatus::kFailure);
  EXPECT_EQ(r->failure, Failure::kRejected);
  EXPECT_EQ(challenges_, (std::vector<std::string>{"Username:", "Password:"}));
}

TEST_F(ExchangeTest, AnErrorFromAskEndsTheExchange) {
  replies_.push_back(InvalidArgument("Authentication cancelled"));
  Result<StepResult> r = Run("LOGIN", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Authentication cancelled");
  EXPECT_EQ(challenges_.size(), 1u);
}

// RFC 7677 §3: the server-final message goes out as a last challenge, and only
// an empty reply completes the login (RFC 4422 §3.6).
class ScramExchangeTest : public ExchangeTest {
 protected:
  Result<StepResult> RunRfcExample(std::string last_reply) {
    replies_.push_back(
        std::string("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    replies_.push_back(std::move(last_reply));
    MechanismOptions options;
    options.scram_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    return Run("SCRAM-SHA-256", std::string("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), options);
  }
};

TEST_F(ScramExchangeTest, SuccessDataIsALastChallenge) {
  Result<StepResult> r = RunRfcExample("");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, StepStatus::kSuccess);
  ASSERT_EQ(challenges_.size(), 2u);
  EXPECT_EQ(challenges_[1], "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST_F(ScramExchangeTest, ANonEmptyReplyToSuccessDataFails) {
  Result<StepResult> r = RunRfcExample("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Expected an empty response");
}

}  // namespace
}  // namespace postern::sasl
