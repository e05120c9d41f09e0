// IMAP SEARCH BODY and TEXT over one mailbox, answered from the store's
// full-text index (store::Store::SearchText). Bodies not indexed yet (mail
// stored before the index existed, or whose indexing failed at delivery) are
// read, matched in memory against the same text the index would hold, and
// indexed on the way (in batches), so the answer is complete and the next
// search finds them in the index. Matching is case-insensitive by Unicode
// simple case folding (message/search_text.h). Blocking: call it from the
// blocking pool. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace postern::mailbox {

// The ids (ascending) of the messages of the mailbox whose text holds
// `needle` (UTF-8, any case) in the body (kBody) or in the header or the body
// (kText). The empty needle matches every message.
Result<std::vector<int64_t>> FindText(store::Store& store, int64_t mailbox_id,
                                      store::TextField field, std::string_view needle);

// The ids (ascending) of the messages of the mailbox whose header MAY hold
// `needle` in some field: those whose indexed header text ("name: value"
// lines, decoded, folded) holds it, and every message not indexed yet. A
// superset, for IMAP SEARCH FROM/SUBJECT/HEADER...: the caller still checks
// each candidate exactly. nullopt when the index cannot narrow the search
// (a needle under 3 characters, or one that spans fields).
Result<std::optional<std::vector<int64_t>>> HeaderCandidates(store::Store& store,
                                                             int64_t mailbox_id,
                                                             std::string_view needle);

}  // namespace postern::mailbox
