// Content-Type and Content-Disposition values with their parameters (RFC
// 2045 §5.1, RFC 2183, RFC 2231). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

struct Parameter {
  // What IMAP's BODYSTRUCTURE shows, in header order, as Dovecot writes it:
  // the attribute as written (RFC 2231 continuations "name*0", "name*1"
  // joined into one "name", or "name*" when the joined value is extended),
  // the value unquoted (for an extended value: "charset'lang'%XX..." as
  // written, joined). Like Dovecot, RFC 2231 parameters come after the plain
  // ones, ordered by name; sections whose numbers are not 0, 1, 2 ... stay
  // apart as "name*<n>" / "name*<n>*".
  std::string name;
  std::string value;
  // The value as a user sees it: RFC 2231 charset applied and percent
  // escapes decoded, or RFC 2047 encoded words decoded (mailers put them in
  // filename="=?utf-8?...?="), in UTF-8. For sections kept apart, the first
  // one's decoded value is all of them joined.
  std::string decoded;
};

struct ContentType {
  std::string type;     // lowercase; empty if the value has no valid type/subtype
                        // (then there are no params either, as in Dovecot)
  std::string subtype;  // lowercase
  std::vector<Parameter> params;
};

struct ContentDisposition {
  std::string type;  // as written ("attachment", "inline", ...); empty: no valid value
  std::vector<Parameter> params;
};

// "text/plain; charset=us-ascii (comment); format=flowed". Tolerates missing
// semicolons, comments, unquoted specials and duplicate parameters (kept).
ContentType ParseContentType(std::string_view raw_value);
ContentDisposition ParseContentDisposition(std::string_view raw_value);

// The decoded value of the first parameter named `name` (case-insensitive,
// RFC 2231 forms included), if any.
std::optional<std::string> FindParameter(const std::vector<Parameter>& params,
                                         std::string_view name);

}  // namespace postern::message
