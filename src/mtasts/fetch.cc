#include "mtasts/fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "base/strings.h"
#include "mtasts/http_response.h"
#include "mtasts/policy.h"

namespace postern::mtasts {
namespace {

using Stream = asio::ssl::stream<asio::ip::tcp::socket>;

// The media type without parameters, lowercase (RFC 9110 §8.3.1).
std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  return AsciiToLower(TrimWhitespace(type));
}

// Reads the response until it is complete, malformed, or the peer leaves.
asio::awaitable<Status> ReadResponse(Stream& stream, HttpResponseReader& reader) {
  std::string buffer(16 * 1024, '\0');
  while (true) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), kAwait);
    HttpResponseReader::State state;
    if (ec == asio::error::eof) {
      state = reader.Finish();  // a close_notify: the end is genuine
    } else if (ec) {
      co_return Unavailable("reading the response: " + ec.message());
    } else {
      state = reader.Feed(std::string_view(buffer).substr(0, n));
    }
    // Anything but 200 is refused as soon as its header is in.
    if (reader.headers_complete() && reader.status() != 200) co_return Status::Ok();
    if (state == HttpResponseReader::State::kError) co_return InvalidArgument(reader.error());
    if (state == HttpResponseReader::State::kDone) co_return Status::Ok();
    if (ec) co_return Unavailable("connection closed early");
  }
}

}  // namespace

asio::awaitable<Result<std::string>> FetchPolicy(asio::any_io_executor ex, dns::Resolver& resolver,
                                                 std::string domain, asio::ssl::context& tls,
                                                 uint16_t port, std::chrono::seconds timeout) {
  std::string host = "mta-sts." + AsciiToLower(domain);
  if (host.ends_with('.')) host.pop_back();
  std::string url = "https://" + host + "/.well-known/mta-sts.txt";

  dns::AddressAnswer addresses = co_await resolver.Addresses(host);
  if (!addresses.status.ok()) co_return addresses.status.WithContext(url);
  if (addresses.addresses.empty()) co_return NotFound(url + ": " + host + " has no address");

  // The watchdog closes the socket at the deadline, ending whatever waits.
  auto stream = std::make_shared<Stream>(ex, tls);
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  auto on_deadline = [stream, expired](error_code ec) {
    if (ec) return;
    *expired = true;
    error_code ignored;
    stream->lowest_layer().close(ignored);
  };
  deadline.async_wait(std::move(on_deadline));
  auto timed_out = [&] { return DeadlineExceeded(url + ": no policy within the timeout"); };

  error_code ec;
  for (const auto& address : addresses.addresses) {
    error_code ignored;
    stream->lowest_layer().close(ignored);
    std::tie(ec) = co_await stream->lowest_layer().async_connect({address, port}, kAwait);
    if (!ec || *expired) break;
  }
  if (*expired) co_return timed_out();
  if (ec) co_return Unavailable(url + ": cannot connect: " + ec.message());

  // SNI and the RFC 6125 DNS-ID check (RFC 8461 §3.3).
  SSL* ssl = stream->native_handle();
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    co_return Internal(url + ": cannot set the TLS host name");
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  stream->set_verify_mode(asio::ssl::verify_peer);
  std::tie(ec) = co_await stream->async_handshake(asio::ssl::stream_base::client, kAwait);
  if (*expired) co_return timed_out();
  if (ec) co_return Unavailable(url + ": TLS handshake: " + ec.message());

  std::string request =
      "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host +
      "\r\nUser-Agent: Postern\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  std::tie(ec, std::ignore) = co_await asio::async_write(*stream, asio::buffer(request), kAwait);
  if (*expired) co_return timed_out();
  if (ec) co_return Unavailable(url + ": sending the request: " + ec.message());

  HttpResponseReader reader(kMaxPolicySize);
  Status read = co_await ReadResponse(*stream, reader);
  deadline.cancel();
  if (*expired) co_return timed_out();
  if (!read.ok()) co_return read.WithContext(url);
  // RFC 8461 §3.3: only 200 counts; redirects are not followed.
  if (reader.status() != 200) {
    co_return InvalidArgument(url + ": HTTP status " + std::to_string(reader.status()));
  }
  // RFC 8461 §3.2: the media type must be text/plain.
  if (MediaType(reader.content_type()) != "text/plain") {
    co_return InvalidArgument(url + ": media type \"" + reader.content_type().substr(0, 64) +
                              "\" is not text/plain");
  }
  error_code ignored;
  stream->lowest_layer().close(ignored);
  co_return reader.body();
}

}  // namespace postern::mtasts
