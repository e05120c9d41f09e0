// SCRAM-SHA-256 (RFC 5802 §5 and §7, RFC 7677), server side, without channel
// binding: the client's GS2 flag must be "n" or "y"; "p=..." fails, since
// the -PLUS variant is not offered. Exposes the message parsers for tests
// and the fuzz target. Pure except for the credential lookup in Step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sasl/credentials.h"
#include "sasl/mechanism.h"

namespace postern::sasl {

// RFC 5802 §7 server-error-value names.
namespace scram_error {
inline constexpr std::string_view kInvalidEncoding = "invalid-encoding";
inline constexpr std::string_view kExtensionsNotSupported = "extensions-not-supported";
inline constexpr std::string_view kInvalidProof = "invalid-proof";
inline constexpr std::string_view kChannelBindingsDontMatch = "channel-bindings-dont-match";
inline constexpr std::string_view kChannelBindingNotSupported = "channel-binding-not-supported";
inline constexpr std::string_view kInvalidUsernameEncoding = "invalid-username-encoding";
inline constexpr std::string_view kOtherError = "other-error";
}  // namespace scram_error

// A client message that failed to parse: the server-error-value to send and
// what to log.
struct ScramError {
  std::string_view error;
  std::string reason;
  Failure failure = Failure::kMalformed;
};

// client-first-message (RFC 5802 §7).
struct ClientFirst {
  std::string gs2_header;  // "n,," / "y,,a=user," as sent: part of c= later
  std::string authzid;     // decoded; "" if absent
  std::string user;        // decoded saslname
  std::string nonce;       // c-nonce
  std::string bare;        // client-first-message-bare, for the AuthMessage
};

// client-final-message (RFC 5802 §7).
struct ClientFinal {
  std::string channel_binding;  // c=, decoded
  std::string nonce;            // r=
  std::string proof;            // p=, decoded
  std::string without_proof;    // client-final-message-without-proof, for the AuthMessage
};

// saslname (RFC 5802 §5.1): "=2C" is ',' and "=3D" is '='; any other '='
// fails, and so do NUL, an empty name and invalid UTF-8.
std::optional<std::string> DecodeSaslname(std::string_view name);

// The parsers: a value, or the error that ends the exchange.
std::variant<ClientFirst, ScramError> ParseClientFirst(std::string_view message);
std::variant<ClientFinal, ScramError> ParseClientFinal(std::string_view message);

class ScramSha256Mechanism final : public Mechanism {
 public:
  // `server_nonce`: "" for a random one (tests inject a fixed one).
  ScramSha256Mechanism(Credentials& credentials, std::string server_nonce);
  std::string_view name() const override { return "SCRAM-SHA-256"; }
  StepResult Step(std::optional<std::string_view> client_data) override;

 private:
  StepResult First(std::string_view message);
  StepResult Final(std::string_view message);
  StepResult Fail(std::string_view error, std::string reason, Failure failure);

  enum class State { kStart, kAskedFirst, kSentFirst, kDone };
  Credentials& credentials_;
  std::string server_nonce_;
  State state_ = State::kStart;
  ClientFirst first_;
  std::string server_first_;
  std::string nonce_;  // c-nonce + s-nonce
  ScramLookup lookup_;
};

}  // namespace postern::sasl
