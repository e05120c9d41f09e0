// SqliteStore: the full-text index (schema 6, table message_texts) that
// answers IMAP SEARCH BODY and TEXT.
#include <algorithm>

#include "base/log.h"
#include "store/sqlite_store.h"

namespace postern::store {
namespace {

// The trigram tokenizer indexes every run of 3 characters; a needle shorter
// than that cannot be looked up in the index.
constexpr size_t kTrigram = 3;

// Messages of a mailbox whose text the index says holds the MATCH expression
// ?2, then those that are unindexed (3rd column 1). From the index outwards
// (CROSS JOIN fixes the order, INDEXED BY the index): a rare word costs a few
// lookups, not one per message of the mailbox.
constexpr const char* kIndexedSql =
    "SELECT m.id, m.blob, 0 FROM message_texts t CROSS JOIN blobs b ON b.text_id = t.rowid "
    "CROSS JOIN messages m INDEXED BY messages_by_blob ON m.blob = b.hash "
    "WHERE message_texts MATCH ?2 AND m.mailbox_id = ?1 "
    "UNION ALL SELECT m.id, m.blob, 1 FROM blobs b CROSS JOIN messages m INDEXED BY "
    "messages_by_blob ON m.blob = b.hash WHERE b.text_id IS NULL AND m.mailbox_id = ?1";
// The same by reading each indexed text (?3: the header counts, ?4: the
// body counts).
constexpr const char* kScanSql =
    "SELECT m.id, m.blob, b.text_id IS NULL FROM messages m JOIN blobs b ON b.hash = m.blob "
    "LEFT JOIN message_texts t ON t.rowid = b.text_id WHERE m.mailbox_id = ?1 AND "
    "(b.text_id IS NULL OR (?4 AND instr(t.body, ?2) > 0) OR (?3 AND instr(t.header, ?2) > 0))";

size_t CountCharacters(std::string_view utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// An FTS5 query (https://sqlite.org/fts5.html §3) for the needle as one
// phrase: inside double quotes every character is literal except the double
// quote itself, written twice. With the trigram tokenizer a phrase matches
// where its trigrams follow each other: a substring.
std::string PhraseQuery(TextField field, std::string_view needle) {
  std::string query = field == TextField::kBody     ? "body : \""
                      : field == TextField::kHeader ? "header : \""
                                                    : "\"";
  for (char c : needle) {
    if (c == '"') query += '"';
    query += c;
  }
  query += '"';
  return query;
}

Status Collect(Statement& q, TextSearchResult* out) {
  while (q.Step()) {
    if (q.Int(2) != 0) {
      out->unindexed.emplace_back(q.Int(0), q.Text(1));
    } else {
      out->matching.push_back(q.Int(0));
    }
  }
  return q.status();
}

}  // namespace

Result<TextSearchResult> SqliteStore::SearchText(int64_t mailbox_id, TextField field,
                                                 std::string_view folded_needle) {
  PT_ASSIGN_OR_RETURN(auto db, Read());
  TextSearchResult out;
  if (folded_needle.empty()) {
    PT_ASSIGN_OR_RETURN(auto all, db->Prepare("SELECT id FROM messages WHERE mailbox_id = ?"));
    all.BindAll(mailbox_id);
    while (all.Step()) out.matching.push_back(all.Int(0));
    PT_RETURN_IF_ERROR(all.status());
  } else if (folded_needle.find('\0') != std::string_view::npos) {
    // Indexed texts hold no NUL (message/search_text.h): nothing matches.
    return out;
  } else {
    Status indexed = Unavailable("needle too short for the index");
    if (CountCharacters(folded_needle) >= kTrigram) {
      PT_ASSIGN_OR_RETURN(auto q, db->Prepare(kIndexedSql));
      q.BindAll(mailbox_id, PhraseQuery(field, folded_needle));
      indexed = Collect(q, &out);
      if (!indexed.ok()) {
        LOG_WARN("store: full-text query failed, reading the texts instead: {}",
                 indexed.ToString());
        out = TextSearchResult{};
      }
    }
    if (!indexed.ok()) {
      PT_ASSIGN_OR_RETURN(auto q, db->Prepare(kScanSql));
      q.BindAll(mailbox_id, folded_needle, field != TextField::kBody, field != TextField::kHeader);
      PT_RETURN_IF_ERROR(Collect(q, &out));
    }
  }
  std::sort(out.matching.begin(), out.matching.end());
  return out;
}

Status SqliteStore::SaveTexts(const std::vector<std::pair<std::string, MessageText>>& texts) {
  if (texts.empty()) return Status::Ok();
  return Write([&](Database& db, WriteEffects&) -> Status {
    for (const auto& [hash, text] : texts) PT_RETURN_IF_ERROR(IndexIfMissing(db, hash, text));
    return Status::Ok();
  });
}

Status SqliteStore::IndexIfMissing(Database& db, const std::string& hash, const MessageText& text) {
  PT_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT text_id IS NULL FROM blobs WHERE hash = ?"));
  q.BindAll(hash);
  const bool missing = q.Step() && q.Int(0) != 0;
  PT_RETURN_IF_ERROR(q.status());
  q.Reset();
  if (!missing) return Status::Ok();  // indexed already, or the body is gone
  PT_ASSIGN_OR_RETURN(std::optional<int64_t> id, TryInsertText(db, hash, text));
  if (!id) return Status::Ok();
  PT_ASSIGN_OR_RETURN(auto set, db.Prepare("UPDATE blobs SET text_id = ? WHERE hash = ?"));
  return set.BindAll(*id, hash).Run();
}

Result<std::optional<int64_t>> SqliteStore::TryInsertText(Database& db, const std::string& hash,
                                                          const MessageText& text) {
  PT_RETURN_IF_ERROR(db.Run("SAVEPOINT text"));
  auto insert = [&]() -> Result<int64_t> {
    PT_ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO message_texts(header, body) "
                                             "VALUES(?, ?)"));
    PT_RETURN_IF_ERROR(ins.BindAll(text.header, text.body).Run());
    return db.LastInsertId();
  };
  Result<int64_t> id = insert();
  // SQLite rolled the whole transaction back (disk full, I/O error): nothing
  // of the job happened, so the job must fail too.
  if (!db.InTransaction()) return id.ok() ? Unavailable("transaction rolled back") : id.status();
  if (!id.ok()) {
    LOG_WARN("store: body {} not indexed for search (a search will index it): {}", hash,
             id.status().ToString());
    PT_RETURN_IF_ERROR(db.Run("ROLLBACK TO text"));
  }
  PT_RETURN_IF_ERROR(db.Run("RELEASE text"));
  if (!id.ok()) return std::optional<int64_t>();
  return std::optional<int64_t>(*id);
}

}  // namespace postern::store
