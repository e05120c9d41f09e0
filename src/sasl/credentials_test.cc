// StoreCredentials over a real SQLite store: password checks, the SCRAM
// lookup, and the upgrade in place of accounts created before SCRAM.
#include "sasl/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/base64.h"
#include "base/strings.h"
#include "directory/password.h"
#include "sasl/mechanism.h"
#include "store/sqlite_store.h"
#include "store/test_store.h"

namespace postern::sasl {
namespace {

using namespace std::string_literals;

class StoreCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::FreshTestDir("sasl");
    auto s = store::OpenTestStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->AddDomain("example.test").ok());
    auto stored = directory::ProtectPassword("new password", 4096);
    ASSERT_TRUE(stored.ok());
    ASSERT_TRUE(store_->AddAccount("new@example.test", *stored, 0, 0).ok());
    // An account from before SCRAM: a hash alone.
    auto hash = directory::HashPassword("old password");
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(store_->AddAccount("old@example.test", *hash, 0, 0).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string ScramOf(const std::string& address) {
    return (*store_->FindAccount(address))->scram_sha256;
  }
  // A whole SCRAM-SHA-256 exchange with the client side computed here.
  StepResult Scram(Credentials& credentials, const std::string& user, const std::string& password) {
    auto m = NewMechanism("SCRAM-SHA-256", credentials);
    const std::string bare = "n=" + user + ",r=clientnonce";
    StepResult first = m->Step("n,," + bare);
    if (first.status != StepStatus::kContinue) return first;
    std::string nonce, salt;
    uint32_t iterations = 0;
    for (std::string_view a : Split(first.data, ',')) {
      if (a.starts_with("r=")) nonce = std::string(a.substr(2));
      if (a.starts_with("s=")) salt = *DecodeBase64Strict(a.substr(2));
      if (a.starts_with("i="))
        iterations = static_cast<uint32_t>(std::stoul(std::string(a.substr(2))));
    }
    const std::string without_proof = "c=biws,r=" + nonce;
    const std::string auth = bare + "," + first.data + "," + without_proof;
    directory::ScramSecrets s = directory::DeriveScramSecrets(password, salt, iterations);
    std::string proof =
        directory::HmacSha256(directory::SaltedPassword(password, salt, iterations), "Client Key");
    const std::string signature = directory::HmacSha256(s.stored_key, auth);
    for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= signature[i];
    return m->Step(without_proof + ",p=" + EncodeBase64Strict(proof));
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(StoreCredentialsTest, PasswordChecks) {
  StoreCredentials credentials(*store_, 4096);
  PasswordCheck ok = credentials.CheckPassword("New@Example.TEST", "new password");
  ASSERT_EQ(ok.outcome, PasswordCheck::Outcome::kAccepted) << ok.reason;
  EXPECT_EQ(ok.account->address, "new@example.test");
  PasswordCheck wrong = credentials.CheckPassword("new@example.test", "old password");
  EXPECT_EQ(wrong.outcome, PasswordCheck::Outcome::kRejected);
  EXPECT_EQ(wrong.reason, "wrong password");
  PasswordCheck unknown = credentials.CheckPassword("nobody@example.test", "new password");
  EXPECT_EQ(unknown.outcome, PasswordCheck::Outcome::kRejected);
  EXPECT_EQ(unknown.reason, "no such account");
  EXPECT_EQ(credentials.CheckPassword("", "x").outcome, PasswordCheck::Outcome::kRejected);
  EXPECT_EQ(credentials.CheckPassword(std::string(kMaxUserName + 1, 'a'), "x").outcome,
            PasswordCheck::Outcome::kRejected);
  EXPECT_EQ(
      credentials.CheckPassword("new@example.test", std::string(kMaxPassword + 1, 'a')).outcome,
      PasswordCheck::Outcome::kRejected);
}

TEST_F(StoreCredentialsTest, AppPasswordsWorkLikeThePasswordButNeverTouchScram) {
  StoreCredentials credentials(*store_, 4096);
  const std::string app = directory::GenerateAppPassword();
  ASSERT_TRUE(
      store_->AddAppPassword("old@example.test", "phone", directory::AppPasswordHash(app)).ok());
  PasswordCheck ok = credentials.CheckPassword("old@example.test", app);
  ASSERT_EQ(ok.outcome, PasswordCheck::Outcome::kAccepted) << ok.reason;
  EXPECT_EQ(ok.app_password, "phone");
  // Typed without dashes, in capitals: the same app password.
  std::string typed = app;
  std::erase(typed, '-');
  EXPECT_EQ(credentials.CheckPassword("old@example.test", AsciiToUpper(typed)).outcome,
            PasswordCheck::Outcome::kAccepted);
  // SCRAM secrets are derived from the main password only.
  EXPECT_EQ(ScramOf("old@example.test"), "");
  // Another account's app password is no key to this one.
  EXPECT_EQ(credentials.CheckPassword("new@example.test", app).outcome,
            PasswordCheck::Outcome::kRejected);
  ASSERT_TRUE(store_->RemoveAppPassword("old@example.test", "phone").ok());
  EXPECT_EQ(credentials.CheckPassword("old@example.test", app).outcome,
            PasswordCheck::Outcome::kRejected);
  // The main password still works.
  EXPECT_EQ(credentials.CheckPassword("old@example.test", "old password").outcome,
            PasswordCheck::Outcome::kAccepted);
}

TEST_F(StoreCredentialsTest, ScramWorksForAccountsWithSecrets) {
  StoreCredentials credentials(*store_, 4096);
  StepResult ok = Scram(credentials, "new@example.test", "new password");
  ASSERT_EQ(ok.status, StepStatus::kSuccess) << ok.reason;
  EXPECT_EQ(ok.account->address, "new@example.test");
  EXPECT_TRUE(ok.data.starts_with("v="));
  EXPECT_EQ(Scram(credentials, "new@example.test", "wrong").failure, Failure::kRejected);
  StepResult unknown = Scram(credentials, "nobody@example.test", "new password");
  EXPECT_EQ(unknown.failure, Failure::kRejected);
  EXPECT_EQ(unknown.reason, "no such account");
}

TEST_F(StoreCredentialsTest, MadeUpSaltsAreStablePerNameAndDiffer) {
  StoreCredentials credentials(*store_, 4096);
  auto a = credentials.FindScram("nobody@example.test");
  auto b = credentials.FindScram("NOBODY@example.test");
  auto c = credentials.FindScram("someone@example.test");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(a->account.has_value());
  EXPECT_EQ(a->secrets.salt, b->secrets.salt);
  EXPECT_NE(a->secrets.salt, c->secrets.salt);
  EXPECT_EQ(a->secrets.salt.size(), directory::kScramSaltSize);
  EXPECT_EQ(a->secrets.iterations, 4096u);
}

TEST_F(StoreCredentialsTest, OldAccountUpgradesAtItsFirstPlaintextLogin) {
  StoreCredentials credentials(*store_, 4096);
  EXPECT_EQ(ScramOf("old@example.test"), "");
  StepResult before = Scram(credentials, "old@example.test", "old password");
  EXPECT_EQ(before.failure, Failure::kRejected);
  EXPECT_NE(before.reason.find("log in once with PLAIN or LOGIN"), std::string::npos);

  // A wrong password stores nothing.
  EXPECT_EQ(credentials.CheckPassword("old@example.test", "wrong").outcome,
            PasswordCheck::Outcome::kRejected);
  EXPECT_EQ(ScramOf("old@example.test"), "");

  auto plain = NewMechanism("PLAIN", credentials);
  ASSERT_EQ(plain->Step("\0old@example.test\0old password"s).status, StepStatus::kSuccess);
  const std::string secrets = ScramOf("old@example.test");
  ASSERT_TRUE(directory::ParseScramSecrets(secrets).ok()) << secrets;
  EXPECT_EQ(secrets.find("old password"), std::string::npos);
  StepResult after = Scram(credentials, "old@example.test", "old password");
  EXPECT_EQ(after.status, StepStatus::kSuccess) << after.reason;

  // Logging in again does not derive them again.
  ASSERT_EQ(credentials.CheckPassword("old@example.test", "old password").outcome,
            PasswordCheck::Outcome::kAccepted);
  EXPECT_EQ(ScramOf("old@example.test"), secrets);
}

TEST_F(StoreCredentialsTest, HigherIterationCountUpgradesToo) {
  StoreCredentials credentials(*store_, 5000);
  ASSERT_EQ(directory::ParseScramSecrets(ScramOf("new@example.test"))->iterations, 4096u);
  ASSERT_EQ(credentials.CheckPassword("new@example.test", "new password").outcome,
            PasswordCheck::Outcome::kAccepted);
  EXPECT_EQ(directory::ParseScramSecrets(ScramOf("new@example.test"))->iterations, 5000u);
  EXPECT_EQ(Scram(credentials, "new@example.test", "new password").status, StepStatus::kSuccess);
}

}  // namespace
}  // namespace postern::sasl
