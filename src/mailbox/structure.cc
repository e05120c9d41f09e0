#include "mailbox/structure.h"

#include "message/imap_structure.h"
#include "message/mime.h"
#include "message/preview.h"
#include "message/search_text.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content) {
  message::Message parsed = message::ParseMessage(content);
  message::SearchableText text = message::ExtractSearchableText(parsed);
  return store::MessageParse{message::ImapEnvelope(parsed.root),
                             message::ImapBodyStructure(parsed.root, false),
                             message::ImapBodyStructure(parsed.root, true),
                             store::MessageText{std::move(text.header), std::move(text.body)},
                             message::MessagePreview(parsed)};
}

std::optional<store::MessageParse> CachedStructure(store::Store& store, const std::string& blob,
                                                   bool need_preview) {
  Result<std::optional<store::MessageParse>> cached = store.ReadParse(blob);
  if (!cached.ok()) return std::nullopt;
  if (cached->has_value() && (!need_preview || (*cached)->preview)) return std::move(**cached);
  // Mail stored before the cache (or before previews) existed: parse once
  // and keep it. A body already gone keeps what was cached: without a parse
  // the message is skipped, without a preview it gets none.
  Result<std::string> body = store.ReadBody(blob);
  if (!body.ok()) {
    if (cached->has_value()) return std::move(**cached);
    return std::nullopt;
  }
  store::MessageParse parse = StructureOf(*body);
  (void)store.SaveParse(blob, parse);
  parse.text.reset();  // for the index only, as ReadParse leaves it
  return parse;
}

}  // namespace postern::mailbox
