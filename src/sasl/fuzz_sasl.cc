// Fuzz target for the SASL mechanisms. Input: the mechanism name, then the
// client's messages, each line one message ("\n" separated; a first line
// "-" means "no initial response"). Credentials: "user" with password
// "pencil" and the RFC 7677 salt, "old" without SCRAM secrets; SCRAM's server
// nonce is fixed so a corpus file can hold a whole successful exchange.
// Invariants: no crash; a mechanism ends within a few steps; success names an
// account; after the end every step fails; challenges stay small.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/fuzz_check.h"
#include "base/strings.h"
#include "sasl/fake_credentials.h"
#include "sasl/mechanism.h"
#include "sasl/scram.h"

namespace {

using namespace postern::sasl;

FakeCredentials& TestCredentials() {
  static FakeCredentials* credentials = [] {
    auto* c = new FakeCredentials;
    c->Add("user", "pencil", true, *postern::DecodeBase64Strict("W22ZaJ0SNY7soEsUEjb6gQ=="));
    c->Add("old", "pencil", false);
    return c;
  }();
  return *credentials;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines = postern::Split(input, '\n');
  // The parsers alone, on every line.
  for (std::string_view line : lines) {
    (void)ParseClientFirst(line);
    (void)ParseClientFinal(line);
    if (auto name = DecodeSaslname(line)) FUZZ_CHECK(name->size() <= line.size());
  }
  MechanismOptions options;
  options.scram_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  std::unique_ptr<Mechanism> mechanism = NewMechanism(lines[0], TestCredentials(), options);
  if (!mechanism) return 0;
  bool over = false;
  size_t steps = 0;
  for (size_t i = 1; i < lines.size() && !over; ++i) {
    std::optional<std::string_view> message = lines[i];
    if (i == 1 && lines[i] == "-") message = std::nullopt;
    StepResult r = mechanism->Step(message);
    ++steps;
    FUZZ_CHECK(steps <= 3);
    switch (r.status) {
      case StepStatus::kContinue:
        FUZZ_CHECK(r.data.size() <= 2 * kMaxClientMessage);
        break;
      case StepStatus::kSuccess:
        FUZZ_CHECK(r.account.has_value() && !r.account->address.empty());
        FUZZ_CHECK(r.account->address == "user" || r.account->address == "old");
        over = true;
        break;
      case StepStatus::kFailure:
        FUZZ_CHECK(!r.account.has_value());
        over = true;
        break;
    }
  }
  if (over) FUZZ_CHECK(mechanism->Step("x").status == StepStatus::kFailure);
  return 0;
}
