#include "mailbox/text_search.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "base/log.h"
#include "message/mime.h"
#include "message/search_text.h"

namespace postern::mailbox {
namespace {

// Bodies indexed per write transaction, and the most text one batch holds.
constexpr size_t kIndexBatch = 64;
constexpr size_t kIndexBatchBytes = 8 << 20;

class LazyIndexer {
 public:
  explicit LazyIndexer(store::Store& store) : store_(store) {}
  ~LazyIndexer() { Flush(); }
  LazyIndexer(const LazyIndexer&) = delete;
  LazyIndexer& operator=(const LazyIndexer&) = delete;

  void Add(const std::string& blob, message::SearchableText text) {
    bytes_ += text.header.size() + text.body.size();
    batch_.emplace_back(blob, store::MessageText{std::move(text.header), std::move(text.body)});
    if (batch_.size() >= kIndexBatch || bytes_ >= kIndexBatchBytes) Flush();
  }

 private:
  void Flush() {
    if (batch_.empty()) return;
    // Only a cache: the search answers from the texts in hand anyway.
    if (Status s = store_.SaveTexts(batch_); !s.ok()) {
      LOG_WARN("search: could not index {} bodies: {}", batch_.size(), s.ToString());
    }
    batch_.clear();
    bytes_ = 0;
  }

  store::Store& store_;
  std::vector<std::pair<std::string, store::MessageText>> batch_;
  size_t bytes_ = 0;
};

}  // namespace

Result<std::vector<int64_t>> FindText(store::Store& store, int64_t mailbox_id,
                                      store::TextField field, std::string_view needle) {
  const std::string folded = message::FoldCase(needle);
  PT_ASSIGN_OR_RETURN(store::TextSearchResult found, store.SearchText(mailbox_id, field, folded));
  if (found.unindexed.empty()) return std::move(found.matching);

  std::map<std::string, std::vector<int64_t>> ids_by_blob;  // copies share a body
  for (auto& [id, blob] : found.unindexed) ids_by_blob[std::move(blob)].push_back(id);
  const message::TextScope scope = field == store::TextField::kBody
                                       ? message::TextScope::kBody
                                       : message::TextScope::kHeaderAndBody;
  std::vector<int64_t> matching = std::move(found.matching);
  LazyIndexer indexer(store);
  for (const auto& [blob, ids] : ids_by_blob) {
    Result<std::string> body = store.ReadBody(blob);
    if (!body.ok()) {
      if (body.status().code() == StatusCode::kNotFound) continue;  // expunged meanwhile
      return body.status();
    }
    message::SearchableText text = message::ExtractSearchableText(message::ParseMessage(*body));
    if (message::TextContains(text, scope, folded)) {
      matching.insert(matching.end(), ids.begin(), ids.end());
    }
    indexer.Add(blob, std::move(text));
  }
  std::sort(matching.begin(), matching.end());
  return matching;
}

Result<std::optional<std::vector<int64_t>>> HeaderCandidates(store::Store& store,
                                                             int64_t mailbox_id,
                                                             std::string_view needle) {
  const std::string folded = message::FoldCase(needle);
  // Below a trigram the index is no help; a line break cannot be in one
  // field's indexed text, though the exact check joins fields with a space.
  size_t characters = 0;
  for (char c : folded) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (characters < 3 || folded.find_first_of("\r\n") != std::string::npos) {
    return std::optional<std::vector<int64_t>>();
  }
  PT_ASSIGN_OR_RETURN(store::TextSearchResult found,
                      store.SearchText(mailbox_id, store::TextField::kHeader, folded));
  std::vector<int64_t> ids = std::move(found.matching);
  for (const auto& [id, blob] : found.unindexed) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return std::optional<std::vector<int64_t>>(std::move(ids));
}

}  // namespace postern::mailbox
