// What the store keeps about a message's body beside it: its IMAP structure
// (ENVELOPE, BODY, BODYSTRUCTURE; message/imap_structure.h) and its
// searchable text for the full-text index (message/search_text.h) and its
// preview (message/preview.h), from one parse. Computed once: at SMTP acceptance, at APPEND, or on
// first use for older mail. Pure; thread-safe.
#pragma once

#include <string_view>

#include "store/store.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content);

}  // namespace postern::mailbox
