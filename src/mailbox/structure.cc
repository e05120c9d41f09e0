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

}  // namespace postern::mailbox
