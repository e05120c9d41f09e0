#include "smtpclient/protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "smtp/command.h"

namespace postern::smtpclient {
namespace {

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Splits on spaces, dropping empty words.
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  while (!text.empty()) {
    size_t space = text.find(' ');
    if (space != 0) words.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return words;
}

}  // namespace

Extensions ParseEhlo(const Reply& reply) {
  Extensions ext;
  // RFC 5321 §4.1.1.1: the first line is the server's name and greeting.
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::vector<std::string_view> words = Words(reply.lines[i]);
    if (words.empty()) continue;
    std::string keyword = Upper(words[0]);
    // Keywords that are a flag only.
    static constexpr std::pair<std::string_view, bool Extensions::*> kFlags[] = {
        {"STARTTLS", &Extensions::starttls},
        {"PIPELINING", &Extensions::pipelining},
        {"DSN", &Extensions::dsn},
        {"SMTPUTF8", &Extensions::smtputf8},
        {"8BITMIME", &Extensions::eightbitmime},
        {"REQUIRETLS", &Extensions::requiretls},
        {"CHUNKING", &Extensions::chunking},
    };
    bool flag = false;
    for (const auto& [name, member] : kFlags) {
      if (keyword == name) {
        ext.*member = true;
        flag = true;
      }
    }
    if (flag) {
      continue;
    } else if (keyword == "SIZE") {
      // RFC 1870 §4: "SIZE" alone or "SIZE 0" means no fixed limit.
      uint64_t limit = 0;
      if (words.size() > 1) {
        auto [end, error] =
            std::from_chars(words[1].data(), words[1].data() + words[1].size(), limit);
        if (error != std::errc() || end != words[1].data() + words[1].size()) limit = 0;
      }
      ext.size = limit;
      ext.size_offered = true;
    } else if (keyword == "AUTH" || keyword.starts_with("AUTH=")) {
      // "AUTH=PLAIN LOGIN" is the pre-RFC 4954 form some servers still send.
      std::vector<std::string> mechanisms;
      if (keyword.size() > 5) mechanisms.push_back(keyword.substr(5));
      for (size_t w = 1; w < words.size(); ++w) mechanisms.push_back(Upper(words[w]));
      for (auto& mechanism : mechanisms) {
        if (std::find(ext.auth.begin(), ext.auth.end(), mechanism) == ext.auth.end()) {
          ext.auth.push_back(std::move(mechanism));
        }
      }
    }
  }
  return ext;
}

bool SafeForPath(std::string_view text) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>') return false;
  }
  return true;
}

std::string MailCommand(const Envelope& envelope, const Extensions& extensions, uint64_t size) {
  std::string line = "MAIL FROM:<" + envelope.mail_from + ">";
  // RFC 1870: SIZE= to a server that announced SIZE (with or without a limit).
  if (extensions.size_offered) line += " SIZE=" + std::to_string(size);
  const std::string body = Upper(envelope.body_type);
  if ((body == "8BITMIME" || body == "BINARYMIME") && extensions.eightbitmime) {
    // BINARYMIME needs BDAT, which this client does not send: the body goes
    // as 8BITMIME through DATA.
    line += " BODY=8BITMIME";
  }
  if (envelope.smtputf8 && extensions.smtputf8) line += " SMTPUTF8";
  if (extensions.dsn) {
    const std::string ret = Upper(envelope.dsn_ret);
    if (ret == "FULL" || ret == "HDRS") line += " RET=" + ret;
    if (!envelope.dsn_envid.empty()) line += " ENVID=" + smtp::XtextEncode(envelope.dsn_envid);
  }
  if (envelope.requiretls) line += " REQUIRETLS";
  return line;
}

std::string RcptCommand(const Recipient& recipient, const Extensions& extensions) {
  std::string line = "RCPT TO:<" + recipient.address + ">";
  if (!extensions.dsn) return line;
  if (recipient.notify != 0) {
    line += " NOTIFY=";
    if (recipient.notify & smtp::kNotifyNever) {
      line += "NEVER";
    } else {
      std::string list;
      if (recipient.notify & smtp::kNotifySuccess) list += ",SUCCESS";
      if (recipient.notify & smtp::kNotifyFailure) list += ",FAILURE";
      if (recipient.notify & smtp::kNotifyDelay) list += ",DELAY";
      line += list.empty() ? "NEVER" : list.substr(1);
    }
  }
  if (!recipient.orcpt.empty()) {
    // RFC 3461 §4.2: ORCPT=addr-type ";" xtext.
    std::string_view orcpt = recipient.orcpt;
    size_t semicolon = orcpt.find(';');
    std::string_view type =
        semicolon == std::string_view::npos ? "rfc822" : orcpt.substr(0, semicolon);
    std::string_view address =
        semicolon == std::string_view::npos ? orcpt : orcpt.substr(semicolon + 1);
    line += " ORCPT=" + smtp::XtextEncode(type) + ";" + smtp::XtextEncode(address);
  }
  return line;
}

void DotStuffer::Stuff(std::string_view in, std::string* out) {
  out->reserve(out->size() + in.size() + in.size() / 32 + 8);
  for (char c : in) {
    if (pending_cr_) {
      pending_cr_ = false;
      out->append("\r\n");
      line_start_ = true;
      if (c == '\n') continue;
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (c == '\n') {
      out->append("\r\n");
      line_start_ = true;
      continue;
    }
    if (line_start_ && c == '.') out->push_back('.');
    out->push_back(c);
    line_start_ = false;
  }
}

void DotStuffer::Finish(std::string* out) {
  if (pending_cr_ || !line_start_) out->append("\r\n");
  out->append(".\r\n");
  pending_cr_ = false;
  line_start_ = true;
}

}  // namespace postern::smtpclient
