// SmtpSession: message submission (RFC 6409): AUTH (RFC 4954) over the
// shared SASL exchange, and the checks an MSA makes on what a user sends.
#include <set>

#include "base/base64.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"
#include "directory/directory.h"
#include "message/address.h"
#include "message/mime.h"
#include "net/listener.h"
#include "smtpserver/session.h"

namespace postern::smtpserver {

using smtp::Reply;

namespace {

// RFC 4954 §4: a client's line in an AUTH exchange may be up to 12288 octets.
constexpr size_t kMaxAuthLine = 12288;
// From:/Sender: addresses checked in one message; more are refused (each is
// a directory lookup).
constexpr size_t kMaxAuthorAddresses = 20;

// The header of `message` (its fields, up to and including the CRLF of the
// last one; "" when the message starts with the blank line).
std::string_view HeaderOf(std::string_view message) {
  if (message.starts_with("\r\n")) return {};
  const size_t end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

}  // namespace

asio::awaitable<void> Session::DoAuth(const smtp::Command& cmd) {
  std::optional<Reply> refusal;
  if (!options_.submission) {
    refusal = Reply(503, "5.5.1", "Error: authentication is not enabled on this port");
  } else if (!extended_) {
    refusal = Reply(503, "5.5.1", "Error: send EHLO first");
  } else if (!authenticated_.empty()) {
    refusal = Reply(503, "5.5.1", "Error: already authenticated");  // RFC 4954 §4
  } else if (txn_.active) {
    refusal = Reply(503, "5.5.1", "Error: AUTH is not allowed during a mail transaction");
  } else if (!CanAuthenticate()) {
    // RFC 4954 §6: 538 5.7.11, encryption required.
    refusal = Reply(538, "5.7.11", "Encryption required: use STARTTLS (or port 465) first");
  }
  const std::string_view argument = TrimWhitespace(cmd.argument);
  const size_t space = argument.find(' ');
  const std::string mechanism(argument.substr(0, space));
  std::optional<std::string> initial;
  if (!refusal && mechanism.empty()) {
    refusal = Reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  }
  if (!refusal && space != std::string_view::npos) {
    const std::string_view encoded = TrimWhitespace(argument.substr(space + 1));
    // RFC 4954 §4: "=" is an empty initial response.
    initial = encoded == "=" ? std::optional<std::string>("") : DecodeBase64Strict(encoded);
    if (!initial) refusal = Reply(501, "5.5.2", "Invalid base64 data in the initial response");
  }
  if (refusal) {
    Send(*refusal);
    CountError();
    co_return;
  }
  const std::string client = net::ConnectionLimiter::KeyFor(conn_->remote_ip());
  if (options_.guard && options_.guard->Check(client)) {
    LOG_INFO("smtp: [{}] AUTH refused: blocked after too many failed logins", conn_->remote_ip());
    Send(Reply(454, "4.7.0", "Too many failed authentications from your address, try later"));
    co_return;
  }
  auth_error_.reset();
  auto ask = [this](std::string challenge) { return AuthChallenge(std::move(challenge)); };
  AuthOutcome outcome = co_await backend_.Authenticate(mechanism, std::move(initial), ask);
  if (!outcome.supported) {
    Send(Reply(504, "5.5.4", "Unrecognized authentication mechanism"));
    CountError();
    co_return;
  }
  if (!outcome.step.ok()) {
    // The exchange ended early: the reply is already decided (or the
    // connection is gone).
    if (auth_error_) {
      Send(*auth_error_);
      CountError();
    }
    co_return;
  }
  if (options_.guard) {
    outcome.step = options_.guard->Review(client, "smtp", outcome.user, std::move(*outcome.step));
  }
  const sasl::StepResult& step = *outcome.step;
  if (step.status == sasl::StepStatus::kSuccess && step.account) {
    authenticated_ = step.account->address;
    LOG_INFO("smtp: [{}] authenticated as <{}> ({})", conn_->remote_ip(), authenticated_,
             mechanism);
    Send(Reply(235, "2.7.0", "Authentication successful"));
    co_return;
  }
  switch (step.failure) {
    case sasl::Failure::kMalformed:
      Send(Reply(501, "5.5.2", "Malformed " + AsciiToUpper(mechanism) + " response"));
      CountError();
      co_return;
    case sasl::Failure::kUnavailable:
      Send(Reply(454, "4.7.0", "Temporary authentication failure, try again later"));
      co_return;
    case sasl::Failure::kBlocked:
      LOG_WARN("smtp: login for <{}> from [{}] refused: {}", SanitizeForLog(outcome.user),
               conn_->remote_ip(), step.reason);
      Send(Reply(454, "4.7.0", "Too many failed authentications, try later"));
      co_return;
    case sasl::Failure::kNotAuthorized:
    case sasl::Failure::kRejected:
      co_await AuthFailed(mechanism, outcome.user, step.reason);
      co_return;
  }
}

asio::awaitable<Result<std::string>> Session::AuthChallenge(std::string challenge) {
  // RFC 4954 §4: "334 " and the base64 challenge.
  conn_->Queue("334 " + EncodeBase64Strict(challenge) + "\r\n");
  co_await Flush();
  if (closing_) co_return Unavailable("connection lost");
  net::Line line = co_await conn_->ReadLine(kMaxAuthLine, options_.command_timeout, false);
  switch (line.status) {
    case net::ReadStatus::kOk:
      break;
    case net::ReadStatus::kTooLong:
      auth_error_ = Reply(500, "5.5.6", "Authentication exchange line is too long");
      co_return InvalidArgument("line too long");
    case net::ReadStatus::kTimeout:
      Send(Reply(421, "4.4.2", options_.hostname + " Error: timeout exceeded", true));
      co_return Unavailable("timeout");
    case net::ReadStatus::kDrained:
      Send(smtp::ShuttingDownReply(options_.hostname));
      co_return Unavailable("shutting down");
    case net::ReadStatus::kEof:
    case net::ReadStatus::kError:
      closing_ = true;
      co_return Unavailable("connection lost");
  }
  if (line.text == "*") {
    auth_error_ = Reply(501, "5.0.0", "Authentication cancelled");
    co_return InvalidArgument("cancelled");
  }
  std::optional<std::string> decoded = DecodeBase64Strict(line.text);
  if (!decoded) {
    auth_error_ = Reply(501, "5.5.2", "Invalid base64 data in the response");
    co_return InvalidArgument("bad base64");
  }
  co_return std::move(*decoded);
}

asio::awaitable<void> Session::AuthFailed(const std::string& mechanism, const std::string& user,
                                          const std::string& reason) {
  LOG_WARN("smtp: failed login for <{}> from [{}] ({}): {}", SanitizeForLog(user),
           conn_->remote_ip(), AsciiToUpper(mechanism), SanitizeForLog(reason));
  ++failed_logins_;
  // Each failure costs the client more time: guessing passwords is slow.
  asio::steady_timer delay(co_await asio::this_coro::executor);
  delay.expires_after(options_.failed_login_delay * failed_logins_);
  co_await delay.async_wait(kAwait);
  if (failed_logins_ >= options_.max_failed_logins) {
    Send(Reply(421, "4.7.0", options_.hostname + " Too many failed authentications", true));
    co_return;
  }
  Send(Reply(535, "5.7.8", "Authentication credentials invalid"));
}

asio::awaitable<std::optional<Reply>> Session::CheckSender(const std::string& from) {
  if (from.empty()) {
    co_return Reply(553, "5.7.1",
                    "Sender address rejected: submitted mail needs one of your addresses, "
                    "not <>");
  }
  Result<std::string> address = directory::NormalizeAddress(from);
  if (!address.ok()) {
    co_return Reply(553, "5.7.1", "<" + from + ">: Sender address rejected: not one of yours");
  }
  Result<bool> may = co_await backend_.MaySendAs(authenticated_, *address);
  if (!may.ok()) co_return Reply(451, "4.3.0", "Temporary lookup failure, try again later");
  if (!*may) {
    LOG_INFO("smtp: <{}> may not send as <{}>", authenticated_, *address);
    co_return Reply(
        553, "5.7.1",
        "<" + from + ">: Sender address rejected: not owned by <" + authenticated_ + ">");
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<Reply>> Session::CheckSubmittedHeader() {
  // Read what is needed first: the views below point into txn_.content,
  // which grows at the end.
  std::vector<std::string> authors;  // From: and Sender: addresses, normalized
  std::string author_domain;         // of the first From: address, for DKIM
  bool has_from = false, has_date = false, has_message_id = false;
  {
    const std::string_view header =
        HeaderOf(std::string_view(txn_.content).substr(txn_.message_begin));
    const message::Message parsed = message::ParseMessage(header);
    std::set<std::string> seen;
    for (const message::HeaderField& field : parsed.root.fields) {
      has_date = has_date || EqualsIgnoreCase(field.name, "Date");
      has_message_id = has_message_id || EqualsIgnoreCase(field.name, "Message-ID");
      const bool from = EqualsIgnoreCase(field.name, "From");
      if (!from && !EqualsIgnoreCase(field.name, "Sender")) continue;
      has_from = has_from || from;
      for (const message::Address& a : message::ParseAddressList(field.value)) {
        if (a.kind != message::Address::Kind::kMailbox) continue;
        const std::string spec = message::AddressSpec(a);
        Result<std::string> normalized = directory::NormalizeAddress(spec);
        if (!normalized.ok()) {
          co_return Reply(553, "5.7.1",
                          "The " + std::string(field.name) + ": address <" + spec +
                              "> is not valid; use one of your addresses");
        }
        if (from && author_domain.empty()) {
          author_domain = normalized->substr(normalized->rfind('@') + 1);
        }
        if (seen.insert(*normalized).second) authors.push_back(std::move(*normalized));
      }
    }
  }
  if (!has_from || authors.empty()) {
    co_return Reply(550, "5.6.0",
                    "Message has no From: address; RFC 5322 requires one (your address)");
  }
  if (authors.size() > kMaxAuthorAddresses) {
    co_return Reply(553, "5.7.1", "Too many From:/Sender: addresses");
  }
  for (const std::string& author : authors) {
    Result<bool> may = co_await backend_.MaySendAs(authenticated_, author);
    if (!may.ok()) co_return Reply(451, "4.3.0", "Temporary lookup failure, try again later");
    if (!*may) {
      LOG_INFO("smtp: <{}> may not send as <{}> (header)", authenticated_, author);
      co_return Reply(
          553, "5.7.1",
          "From: <" + author + "> is not one of your addresses (<" + authenticated_ + ">)");
    }
  }
  // RFC 6409 §8.2, §8.3: the MSA adds what the client left out; after our
  // Received: field, where the client's header begins.
  std::string added;
  if (!has_date) added += "Date: " + FormatRfc5322Date(Clock::Real().NowUnix()) + "\r\n";
  if (!has_message_id) {
    added += "Message-ID: <" + txn_.queue_id + "@" + options_.hostname + ">\r\n";
  }
  // Header fields we add go where the client's header begins; false when
  // that passes the memory budget.
  auto prepend = [this](const std::string& fields) {
    const size_t before = txn_.content.size();
    txn_.content.insert(txn_.message_begin, fields);
    ChargeContent(before);
    return !txn_.over_budget;
  };
  const Reply no_room(452, "4.3.1",
                      "Insufficient system storage: too much mail in progress, try again later");
  if (!added.empty() && !prepend(added)) co_return no_room;
  // DKIM signing comes last, over the header as it will leave (with the
  // Date: and Message-ID: just added), and covers only the client's part:
  // our Received: field above it is not signed (RFC 6376 §5.4.1).
  const std::string signatures = co_await backend_.DkimSignatures(
      author_domain, std::string_view(txn_.content).substr(txn_.message_begin));
  if (!signatures.empty() && !prepend(signatures)) co_return no_room;
  co_return std::nullopt;
}

}  // namespace postern::smtpserver
