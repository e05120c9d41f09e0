// The IMAP structure of a message as the store caches it beside the body
// (ENVELOPE, BODY, BODYSTRUCTURE; message/imap_structure.h). Computed once:
// at SMTP acceptance, at APPEND, or on first use for older mail. Pure;
// thread-safe.
#pragma once

#include <string_view>

#include "store/store.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content);

}  // namespace postern::mailbox
