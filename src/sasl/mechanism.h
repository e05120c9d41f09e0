// SASL (RFC 4422) server mechanisms, independent of any protocol: PLAIN
// (RFC 4616), LOGIN (draft-murchison-sasl-login) and SCRAM-SHA-256 (RFC 5802,
// RFC 7677). A mechanism takes the client's raw bytes and returns raw bytes;
// the protocol does the base64, the "*" cancel and the framing.
//
// How a protocol runs an exchange:
//
//   std::unique_ptr<sasl::Mechanism> m = sasl::NewMechanism(name, credentials);
//   if (!m) -> "unsupported mechanism"
//   std::optional<std::string> data = initial_response;  // nullopt if none was sent
//   for (;;) {
//     sasl::StepResult r = <on the blocking pool> m->Step(data);
//     if (r.status == sasl::StepStatus::kContinue) { data = <send r.data, read reply>; continue; }
//     if (r.status == sasl::StepStatus::kSuccess) -> logged in as *r.account
//         (r.data, when not empty, is "additional data with success": send it
//         where the protocol allows, else as one more challenge whose reply
//         must be empty, RFC 4422 §3.6)
//     else -> r.failure says which error to answer, r.reason what to log
//   }
//
// A Mechanism is used by one session at a time (not thread-safe); Step may
// run on any thread, one call at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "directory/directory.h"
#include "sasl/credentials.h"

namespace postern::sasl {

// Largest client message any mechanism accepts; larger ones fail (kMalformed).
constexpr size_t kMaxClientMessage = 4096;

enum class StepStatus {
  kContinue,  // send `data` as the next challenge and pass the reply to Step
  kSuccess,   // authenticated as `account`
  kFailure,   // the exchange is over; see `failure`
};

enum class Failure {
  kMalformed,      // the client broke the mechanism's syntax (IMAP: BAD)
  kRejected,       // wrong credentials, unknown or disabled account (count as a failed login)
  kNotAuthorized,  // may not act as the authorization identity it asked for
  kUnavailable,    // the store could not answer: try again later
  kBlocked,        // too many failed logins from this client or for this account (guard.h)
};

struct StepResult {
  StepStatus status = StepStatus::kFailure;
  // kContinue: the challenge. kSuccess: additional data with success (SCRAM's
  // server-final message "v=..."), "" if none. kFailure: the mechanism's own
  // error message when it has one (SCRAM's "e=..."); a protocol may send it
  // or not (RFC 5802 §5.1 lets a server fail without it).
  std::string data;
  Failure failure = Failure::kRejected;           // kFailure
  std::string reason;                             // kFailure: for the log only
  std::optional<directory::AccountInfo> account;  // kSuccess
};

class Mechanism {
 public:
  virtual ~Mechanism() = default;

  virtual std::string_view name() const = 0;

  // One round. The first call gets the initial response if the client sent
  // one ("" for an empty one) or nullopt; every later call gets the client's
  // reply to the last challenge. May block (credential checks): run it on the
  // blocking pool. After kSuccess or kFailure the exchange is over and further
  // calls fail with kMalformed.
  virtual StepResult Step(std::optional<std::string_view> client_data) = 0;

  // The authentication identity the client gave so far ("" if none), for logs.
  const std::string& user() const { return user_; }

 protected:
  std::string user_;
};

struct MechanismOptions {
  // Tests only: SCRAM's server nonce part instead of a random one.
  std::string scram_server_nonce;
};

// The mechanisms implemented, in the order a server advertises them.
const std::vector<std::string_view>& MechanismNames();

// The mechanism called `name` (any case), or null if there is none. The
// mechanism keeps a reference to `credentials`, which must outlive it.
std::unique_ptr<Mechanism> NewMechanism(std::string_view name, Credentials& credentials,
                                        MechanismOptions options = {});

// Results for mechanisms to return.
StepResult Challenge(std::string data);
StepResult Succeeded(directory::AccountInfo account, std::string data = "");
StepResult Failed(Failure failure, std::string reason, std::string data = "");
// The result of a password check as a step result.
StepResult FromPasswordCheck(PasswordCheck check);

}  // namespace postern::sasl
