#include "mailbox/structure.h"

#include <map>
#include <utility>

#include "message/imap_structure.h"
#include "message/mime.h"
#include "message/preview.h"
#include "message/search_text.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content) {
  message::Message parsed = message::ParseMessage(content);
  message::SearchableText text = message::ExtractSearchableText(parsed);
  store::MessageParse parse{message::ImapEnvelope(parsed.root),
                            message::ImapBodyStructure(parsed.root, false),
                            message::ImapBodyStructure(parsed.root, true),
                            store::MessageText{std::move(text.header), std::move(text.body)},
                            message::MessagePreview(parsed)};
  const std::string_view header = parsed.HeaderBytes(parsed.root);
  if (header.size() <= store::kMaxCachedHeader) parse.header = std::string(header);
  return parse;
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
  parse.header.reset();
  return parse;
}

std::vector<std::optional<store::MessageParse>> CachedStructures(
    store::Store& store, const std::vector<std::string>& blobs, bool need_preview) {
  Result<std::vector<std::optional<store::MessageParse>>> cached = store.ReadParses(blobs);
  if (!cached.ok()) return std::vector<std::optional<store::MessageParse>>(blobs.size());
  std::vector<std::optional<store::MessageParse>> out = std::move(*cached);
  std::vector<std::pair<std::string, store::MessageParse>> computed;
  for (size_t i = 0; i < blobs.size(); ++i) {
    if (out[i] && (!need_preview || out[i]->preview)) continue;
    // Not parsed yet (or no preview yet), as in CachedStructure.
    Result<std::string> body = store.ReadBody(blobs[i]);
    if (!body.ok()) continue;
    store::MessageParse parse = StructureOf(*body);
    computed.emplace_back(blobs[i], parse);
    parse.text.reset();
    parse.header.reset();
    out[i] = std::move(parse);
  }
  (void)store.SaveParses(computed);
  return out;
}

Result<std::vector<std::optional<std::string>>> MessageHeaders(
    store::Store& store, const std::vector<int64_t>& message_ids) {
  PT_ASSIGN_OR_RETURN(std::vector<std::optional<store::StoredHeader>> stored,
                      store.ReadHeaders(message_ids));
  std::vector<std::optional<std::string>> out(message_ids.size());
  std::map<std::string, std::vector<size_t>> uncached;  // blob -> indexes; copies share a body
  for (size_t i = 0; i < stored.size(); ++i) {
    if (!stored[i]) continue;
    if (stored[i]->header) {
      out[i] = std::move(stored[i]->prefix) + *stored[i]->header;
    } else {
      uncached[stored[i]->blob].push_back(i);
    }
  }
  std::vector<std::pair<std::string, store::MessageParse>> computed;
  for (const auto& [blob, indexes] : uncached) {
    Result<std::string> body = store.ReadBody(blob);
    if (!body.ok()) continue;  // gone meanwhile
    store::MessageParse parse = StructureOf(*body);
    // A header over kMaxCachedHeader is not cached: read from its body.
    std::string header;
    if (parse.header) {
      header = *parse.header;
    } else {
      const message::Message parsed = message::ParseMessage(*body);
      header = std::string(parsed.HeaderBytes(parsed.root));
    }
    for (size_t i : indexes) out[i] = stored[i]->prefix + header;
    computed.emplace_back(blob, std::move(parse));
  }
  // Only a cache: the answer is complete without it.
  (void)store.SaveParses(computed);
  return out;
}

}  // namespace postern::mailbox
