// What the store keeps about a message's body beside it: its IMAP structure
// (ENVELOPE, BODY, BODYSTRUCTURE; message/imap_structure.h) and its
// searchable text for the full-text index (message/search_text.h) and its
// preview (message/preview.h), from one parse. Computed once: at SMTP acceptance, at APPEND, or on
// first use for older mail. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content);

// The cached structure of a stored body (Store::ReadParse); a body stored
// before the cache existed is parsed now and its structure saved for next
// time. nullopt when the body is gone (expunged elsewhere, then collected) or
// cannot be read. With `need_preview`, a cached structure without a preview
// (stored before previews existed) is completed the same way. Blocking: store
// reads, maybe a write.
std::optional<store::MessageParse> CachedStructure(store::Store& store, const std::string& blob,
                                                   bool need_preview = false);

}  // namespace postern::mailbox
