// Runs one SASL exchange (RFC 4422 §3) for a line-based protocol: IMAP
// AUTHENTICATE, POP3 AUTH and SMTP AUTH differ only in how a challenge is
// framed ("+ ", "334 ") and how errors are answered, so the loop over the
// mechanism lives here once and the protocol passes its framing as `ask`.
//
// Steps run on the blocking pool (credential checks read the store and
// hash). Additional data with success (SCRAM's server-final message) goes out
// as one more challenge whose response must be empty (RFC 4422 §3.6), since
// none of these protocols' success replies carry SASL data here.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "net/asio.h"
#include "sasl/mechanism.h"

namespace postern::sasl {

// Sends `challenge` (raw bytes: `ask` does the base64 and framing), reads the
// client's reply and returns it decoded, or an error that ends the exchange:
// its message is what the protocol reports (the client cancelled with "*",
// sent bad base64, or the connection was lost).
using Ask = std::function<asio::awaitable<Result<std::string>>(std::string challenge)>;

// Runs `mechanism` from the client's initial response (nullopt if none was
// sent) to the end. Returns the final step (kSuccess or kFailure, for the
// protocol's login handling), or the error of `ask`, or InvalidArgument when
// the response to additional data with success was not empty.
asio::awaitable<Result<StepResult>> RunExchange(asio::thread_pool& pool, Mechanism& mechanism,
                                                std::optional<std::string> initial_response,
                                                Ask ask);

}  // namespace postern::sasl
