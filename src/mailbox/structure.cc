#include "mailbox/structure.h"

#include "message/imap_structure.h"
#include "message/mime.h"

namespace postern::mailbox {

store::MessageParse StructureOf(std::string_view content) {
  message::Message parsed = message::ParseMessage(content);
  return store::MessageParse{message::ImapEnvelope(parsed.root),
                             message::ImapBodyStructure(parsed.root, false),
                             message::ImapBodyStructure(parsed.root, true)};
}

}  // namespace postern::mailbox
