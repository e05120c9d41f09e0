#include "sasl/scram.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/base64.h"
#include "base/strings.h"
#include "directory/scram_secrets.h"

namespace postern::sasl {
namespace {

namespace err = scram_error;

ScramError Error(std::string_view error, std::string reason,
                 Failure failure = Failure::kMalformed) {
  return ScramError{error, std::move(reason), failure};
}

bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// attr-val = ALPHA "=" value, value = 1*value-char (RFC 5802 §7); the
// message was checked for UTF-8 and has no ',' inside one attribute.
bool IsAttribute(std::string_view a) { return a.size() >= 3 && IsAlpha(a[0]) && a[1] == '='; }

// printable = %x21-2B / %x2D-7E, one or more (a nonce).
bool IsNonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// Optional extensions (RFC 5802 §7 "extensions"): unknown ones are ignored,
// but "m" (a mandatory extension) must fail the exchange (§5.1).
std::optional<ScramError> CheckExtension(std::string_view a) {
  if (!IsAttribute(a)) return Error(err::kInvalidEncoding, "malformed SCRAM attribute");
  if (a[0] == 'm') return Error(err::kExtensionsNotSupported, "SCRAM mandatory extension");
  return std::nullopt;
}

std::optional<ScramError> CheckMessage(std::string_view message) {
  if (message.size() > kMaxClientMessage) {
    return Error(err::kInvalidEncoding, "SCRAM message too long");
  }
  if (!IsValidUtf8(message)) {
    return Error(err::kInvalidEncoding, "SCRAM message is not UTF-8 or holds a NUL");
  }
  return std::nullopt;
}

std::string RandomNonce() {
  unsigned char bytes[18];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "";
  return EncodeBase64Strict(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace

std::optional<std::string> DecodeSaslname(std::string_view name) {
  if (name.empty() || !IsValidUtf8(name)) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == ',') return std::nullopt;
    if (name[i] != '=') {
      out.push_back(name[i]);
      continue;
    }
    std::string_view escape = name.substr(i, 3);
    if (escape == "=2C") {
      out.push_back(',');
    } else if (escape == "=3D") {
      out.push_back('=');
    } else {
      return std::nullopt;  // RFC 5802 §5.1: MUST fail
    }
    i += 2;
  }
  return out;
}

std::variant<ClientFirst, ScramError> ParseClientFirst(std::string_view message) {
  if (auto bad = CheckMessage(message)) return *bad;
  ClientFirst first;
  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  size_t pos = 0;
  if (message.starts_with("n,") || message.starts_with("y,")) {
    pos = 2;  // "y": the client could bind but thinks we cannot, which is true
  } else if (message.starts_with("p=")) {
    // RFC 5802 §6: channel binding required, but no -PLUS is offered.
    return Error(err::kChannelBindingNotSupported, "SCRAM client requires channel binding",
                 Failure::kRejected);
  } else {
    return Error(err::kInvalidEncoding, "SCRAM GS2 header must start with n, y or p=");
  }
  if (message.substr(pos).starts_with("a=")) {
    size_t comma = message.find(',', pos);
    if (comma == std::string_view::npos) return Error(err::kInvalidEncoding, "SCRAM GS2 header");
    std::optional<std::string> authzid = DecodeSaslname(message.substr(pos + 2, comma - pos - 2));
    if (!authzid) return Error(err::kInvalidEncoding, "SCRAM authzid is not a saslname");
    first.authzid = std::move(*authzid);
    pos = comma + 1;
  } else if (message.substr(pos, 1) != ",") {
    return Error(err::kInvalidEncoding, "SCRAM GS2 header");
  } else {
    pos += 1;
  }
  first.gs2_header = std::string(message.substr(0, pos));
  first.bare = std::string(message.substr(pos));

  // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
  std::vector<std::string_view> attrs = Split(first.bare, ',');
  if (!attrs.empty() && attrs[0].starts_with("m=")) {
    return Error(err::kExtensionsNotSupported, "SCRAM mandatory extension");
  }
  if (attrs.size() < 2 || !attrs[0].starts_with("n=") || !attrs[1].starts_with("r=")) {
    return Error(err::kInvalidEncoding, "SCRAM client-first needs n= and r=");
  }
  std::optional<std::string> user = DecodeSaslname(attrs[0].substr(2));
  if (!user) return Error(err::kInvalidUsernameEncoding, "SCRAM user name is not a saslname");
  first.user = std::move(*user);
  if (!IsNonce(attrs[1].substr(2))) return Error(err::kInvalidEncoding, "SCRAM nonce");
  first.nonce = std::string(attrs[1].substr(2));
  for (size_t i = 2; i < attrs.size(); ++i) {
    if (auto bad = CheckExtension(attrs[i])) return *bad;
  }
  return first;
}

std::variant<ClientFinal, ScramError> ParseClientFinal(std::string_view message) {
  if (auto bad = CheckMessage(message)) return *bad;
  // client-final-message = channel-binding "," nonce ["," extensions] "," proof
  std::vector<std::string_view> attrs = Split(message, ',');
  for (std::string_view a : attrs) {
    if (a.starts_with("m=")) {
      return Error(err::kExtensionsNotSupported, "SCRAM mandatory extension");
    }
  }
  if (attrs.size() < 3 || !attrs[0].starts_with("c=") || !attrs[1].starts_with("r=") ||
      !attrs.back().starts_with("p=")) {
    return Error(err::kInvalidEncoding, "SCRAM client-final needs c=, r= and p= last");
  }
  ClientFinal client_final;
  std::optional<std::string> binding = DecodeBase64Strict(attrs[0].substr(2));
  if (!binding) return Error(err::kInvalidEncoding, "SCRAM c= is not base64");
  client_final.channel_binding = std::move(*binding);
  if (!IsNonce(attrs[1].substr(2))) return Error(err::kInvalidEncoding, "SCRAM nonce");
  client_final.nonce = std::string(attrs[1].substr(2));
  for (size_t i = 2; i + 1 < attrs.size(); ++i) {
    if (auto bad = CheckExtension(attrs[i])) return *bad;
  }
  std::optional<std::string> proof = DecodeBase64Strict(attrs.back().substr(2));
  if (!proof || proof->empty()) return Error(err::kInvalidEncoding, "SCRAM p= is not base64");
  client_final.proof = std::move(*proof);
  client_final.without_proof =
      std::string(message.substr(0, message.size() - attrs.back().size() - 1));
  return client_final;
}

ScramSha256Mechanism::ScramSha256Mechanism(Credentials& credentials, std::string server_nonce)
    : credentials_(credentials), server_nonce_(std::move(server_nonce)) {}

StepResult ScramSha256Mechanism::Fail(std::string_view error, std::string reason, Failure failure) {
  state_ = State::kDone;
  return Failed(failure, std::move(reason), "e=" + std::string(error));
}

StepResult ScramSha256Mechanism::Step(std::optional<std::string_view> data) {
  switch (state_) {
    case State::kStart:
      if (!data) {
        // Client-first mechanism without an initial response: an empty
        // challenge asks for it (RFC 4422 §5 item 2a).
        state_ = State::kAskedFirst;
        return Challenge("");
      }
      return First(*data);
    case State::kAskedFirst:
      if (!data) return Fail(err::kOtherError, "SCRAM client-first missing", Failure::kMalformed);
      return First(*data);
    case State::kSentFirst:
      if (!data) return Fail(err::kOtherError, "SCRAM client-final missing", Failure::kMalformed);
      return Final(*data);
    case State::kDone:
      break;
  }
  return Failed(Failure::kMalformed, "SCRAM exchange already over");
}

StepResult ScramSha256Mechanism::First(std::string_view message) {
  std::variant<ClientFirst, ScramError> parsed = ParseClientFirst(message);
  if (auto* bad = std::get_if<ScramError>(&parsed)) {
    return Fail(bad->error, std::move(bad->reason), bad->failure);
  }
  first_ = std::move(std::get<ClientFirst>(parsed));
  user_ = first_.user;
  if (!first_.authzid.empty() && !EqualsIgnoreCase(first_.authzid, first_.user)) {
    return Fail(err::kOtherError,
                "SCRAM authzid <" + SanitizeForLog(first_.authzid) + "> differs from the user name",
                Failure::kNotAuthorized);
  }
  Result<ScramLookup> lookup = credentials_.FindScram(first_.user);
  if (!lookup.ok()) {
    return Fail(err::kOtherError, lookup.status().ToString(), Failure::kUnavailable);
  }
  lookup_ = std::move(*lookup);
  std::string server_nonce = server_nonce_.empty() ? RandomNonce() : server_nonce_;
  if (server_nonce.empty()) {
    return Fail(err::kOtherError, "no random bytes for a nonce", Failure::kUnavailable);
  }
  nonce_ = first_.nonce + server_nonce;
  // server-first-message = nonce "," salt "," iteration-count (RFC 5802 §7)
  server_first_ = "r=" + nonce_ + ",s=" + EncodeBase64Strict(lookup_.secrets.salt) +
                  ",i=" + std::to_string(lookup_.secrets.iterations);
  state_ = State::kSentFirst;
  return Challenge(server_first_);
}

StepResult ScramSha256Mechanism::Final(std::string_view message) {
  std::variant<ClientFinal, ScramError> parsed = ParseClientFinal(message);
  if (auto* bad = std::get_if<ScramError>(&parsed)) {
    return Fail(bad->error, std::move(bad->reason), bad->failure);
  }
  const ClientFinal& client_final = std::get<ClientFinal>(parsed);
  // RFC 5802 §6: c= must be exactly the GS2 header (no channel binding data
  // follows it for "n" and "y").
  if (client_final.channel_binding != first_.gs2_header) {
    return Fail(err::kChannelBindingsDontMatch, "SCRAM c= differs from the GS2 header",
                Failure::kRejected);
  }
  if (client_final.nonce != nonce_) {
    return Fail(err::kOtherError, "SCRAM nonce differs from the one sent", Failure::kRejected);
  }
  const directory::ScramSecrets& secrets = lookup_.secrets;
  if (client_final.proof.size() != secrets.stored_key.size()) {
    return Fail(err::kInvalidProof, "SCRAM proof has the wrong size", Failure::kRejected);
  }
  // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage),
  // and H(ClientKey) must be StoredKey, compared in constant time.
  const std::string auth_message =
      first_.bare + "," + server_first_ + "," + client_final.without_proof;
  std::string client_key = directory::HmacSha256(secrets.stored_key, auth_message);
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= client_final.proof[i];
  const std::string computed = directory::Sha256(client_key);
  const bool match =
      CRYPTO_memcmp(computed.data(), secrets.stored_key.data(), computed.size()) == 0;
  if (!match || !lookup_.account) {
    return Fail(err::kInvalidProof, lookup_.account ? "wrong password" : lookup_.reason,
                Failure::kRejected);
  }
  state_ = State::kDone;
  return Succeeded(*lookup_.account, "v=" + EncodeBase64Strict(directory::HmacSha256(
                                                secrets.server_key, auth_message)));
}

}  // namespace postern::sasl
