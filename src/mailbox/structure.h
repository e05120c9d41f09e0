// What the store keeps about a message's body beside it: its IMAP structure
// (ENVELOPE, BODY, BODYSTRUCTURE; message/imap_structure.h) and its
// searchable text for the full-text index (message/search_text.h) and its
// preview (message/preview.h), from one parse. Computed once: at SMTP acceptance, at APPEND, or on
// first use for older mail. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// CachedStructure of many bodies (parallel to `blobs`): one store read for
// all of them, and the structures computed for bodies without one saved in
// one write. Blocking.
std::vector<std::optional<store::MessageParse>> CachedStructures(
    store::Store& store, const std::vector<std::string>& blobs, bool need_preview = false);

// The top-level headers of messages (by id) as IMAP serves them: the
// per-recipient prefix, then the body's header up to and including the blank
// line that ends it; parallel to `message_ids`, nullopt for a message that
// no longer exists. Cached headers (store::MessageParse::header) come from
// one store read; for the rest the body is read and parsed, and what was
// computed is saved in one write so the next read finds it. Blocking.
Result<std::vector<std::optional<std::string>>> MessageHeaders(
    store::Store& store, const std::vector<int64_t>& message_ids);

}  // namespace postern::mailbox
