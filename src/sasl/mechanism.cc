// PLAIN and LOGIN, and the mechanism factory.
#include "sasl/mechanism.h"

#include "base/strings.h"
#include "sasl/scram.h"

namespace postern::sasl {
namespace {

// RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd. One round; an
// exchange without an initial response starts with an empty challenge
// (RFC 4422 §5 item 2a).
class PlainMechanism final : public Mechanism {
 public:
  explicit PlainMechanism(Credentials& credentials) : credentials_(credentials) {}
  std::string_view name() const override { return "PLAIN"; }

  StepResult Step(std::optional<std::string_view> data) override {
    if (done_) return Failed(Failure::kMalformed, "PLAIN exchange already over");
    if (!data && !asked_) {
      asked_ = true;
      return Challenge("");
    }
    done_ = true;
    if (!data) return Failed(Failure::kMalformed, "PLAIN response missing");
    if (data->size() > kMaxClientMessage) return Failed(Failure::kMalformed, "PLAIN too long");
    std::vector<std::string_view> parts = Split(*data, '\0');
    if (parts.size() != 3 || parts[1].empty() || parts[2].empty()) {
      return Failed(Failure::kMalformed, "malformed PLAIN response");
    }
    user_ = std::string(parts[1]);
    // The authorization identity must be empty or the authentication
    // identity itself: nobody may act as another user here (RFC 4616 §2).
    if (!parts[0].empty() && !EqualsIgnoreCase(parts[0], parts[1])) {
      return Failed(Failure::kNotAuthorized,
                    "PLAIN authzid <" + SanitizeForLog(parts[0]) + "> differs from the user name");
    }
    return FromPasswordCheck(credentials_.CheckPassword(parts[1], parts[2]));
  }

 private:
  Credentials& credentials_;
  bool asked_ = false;
  bool done_ = false;
};

// LOGIN (draft-murchison-sasl-login-00): "Username:", then "Password:". An
// initial response, which many clients send, is the user name.
class LoginMechanism final : public Mechanism {
 public:
  explicit LoginMechanism(Credentials& credentials) : credentials_(credentials) {}
  std::string_view name() const override { return "LOGIN"; }

  StepResult Step(std::optional<std::string_view> data) override {
    switch (state_) {
      case State::kUser:
        if (!data) {
          state_ = State::kAskedUser;
          return Challenge("Username:");
        }
        [[fallthrough]];
      case State::kAskedUser:
        if (!data || data->empty() || data->size() > kMaxClientMessage) {
          state_ = State::kDone;
          return Failed(Failure::kMalformed, "LOGIN user name missing or too long");
        }
        user_ = std::string(*data);
        state_ = State::kAskedPassword;
        return Challenge("Password:");
      case State::kAskedPassword:
        state_ = State::kDone;
        if (!data || data->size() > kMaxClientMessage) {
          return Failed(Failure::kMalformed, "LOGIN password missing or too long");
        }
        return FromPasswordCheck(credentials_.CheckPassword(user_, *data));
      case State::kDone:
        break;
    }
    return Failed(Failure::kMalformed, "LOGIN exchange already over");
  }

 private:
  enum class State { kUser, kAskedUser, kAskedPassword, kDone };
  Credentials& credentials_;
  State state_ = State::kUser;
};

}  // namespace

StepResult Challenge(std::string data) {
  StepResult r;
  r.status = StepStatus::kContinue;
  r.data = std::move(data);
  return r;
}

StepResult Succeeded(directory::AccountInfo account, std::string data) {
  StepResult r;
  r.status = StepStatus::kSuccess;
  r.account = std::move(account);
  r.data = std::move(data);
  return r;
}

StepResult Failed(Failure failure, std::string reason, std::string data) {
  StepResult r;
  r.status = StepStatus::kFailure;
  r.failure = failure;
  r.reason = std::move(reason);
  r.data = std::move(data);
  return r;
}

StepResult FromPasswordCheck(PasswordCheck check) {
  switch (check.outcome) {
    case PasswordCheck::Outcome::kAccepted:
      return Succeeded(std::move(*check.account));
    case PasswordCheck::Outcome::kUnavailable:
      return Failed(Failure::kUnavailable, std::move(check.reason));
    case PasswordCheck::Outcome::kRejected:
      break;
  }
  return Failed(Failure::kRejected, std::move(check.reason));
}

const std::vector<std::string_view>& MechanismNames() {
  static const std::vector<std::string_view> names = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};
  return names;
}

std::unique_ptr<Mechanism> NewMechanism(std::string_view name, Credentials& credentials,
                                        MechanismOptions options) {
  if (EqualsIgnoreCase(name, "PLAIN")) return std::make_unique<PlainMechanism>(credentials);
  if (EqualsIgnoreCase(name, "LOGIN")) return std::make_unique<LoginMechanism>(credentials);
  if (EqualsIgnoreCase(name, "SCRAM-SHA-256")) {
    return std::make_unique<ScramSha256Mechanism>(credentials,
                                                  std::move(options.scram_server_nonce));
  }
  return nullptr;
}

}  // namespace postern::sasl
