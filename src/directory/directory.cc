#include "directory/directory.h"

#include "base/strings.h"
#include "smtp/address.h"

namespace postern::directory {

Result<std::string> NormalizeDomainName(std::string_view domain) {
  return smtp::NormalizeDomain(domain);
}

Result<std::string> NormalizeAddress(std::string_view address, bool allow_catch_all) {
  std::string_view trimmed = TrimWhitespace(address);
  if (allow_catch_all && !trimmed.empty() && trimmed[0] == '@') {
    PT_ASSIGN_OR_RETURN(std::string domain, smtp::NormalizeDomain(trimmed.substr(1)));
    return "@" + domain;
  }
  auto mailbox = smtp::ParseMailbox(trimmed, /*allow_utf8=*/true);
  if (!mailbox.ok()) {
    return InvalidArgument("\"" + SanitizeForLog(trimmed) +
                           "\" is not an email address like user@example.org");
  }
  if (mailbox->address_literal) {
    return InvalidArgument("\"" + SanitizeForLog(trimmed) +
                           "\" uses an IP address literal; use a domain name");
  }
  PT_ASSIGN_OR_RETURN(std::string domain, smtp::NormalizeDomain(mailbox->domain));
  return AsciiToLower(mailbox->local_part) + "@" + domain;
}

}  // namespace postern::directory
