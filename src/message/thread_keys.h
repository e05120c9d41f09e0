// What threading and sorting (RFC 5256) need from header fields: message
// identifiers and the base subject. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

// The msg-ids ("<local@domain>", brackets kept) in a Message-ID, In-Reply-To
// or References value, in order; comments and junk between them skipped;
// ids that RFC 5256 §3 would reject (no '@', unbalanced) left out. Ids are
// normalized as §3 requires: quotes, whitespace and comments inside removed
// (<"a"@b> is <a@b>).
std::vector<std::string> ParseMessageIds(std::string_view raw_value);

// RFC 5256 §2.1 base subject of an already decoded (UTF-8) subject:
// "Re: [list] Fwd: Hello (fwd)" → "hello"-style canonical form (whitespace
// collapsed, subj-refwd/subj-blob/subj-trailer removed, [fwd: ...] unwrapped,
// case folded for comparison as the RFC's i;unicode-casemap wants it: RFC
// 5051 titlecase then NFKD, so ASCII letters come out upper case, "HELLO").
std::string BaseSubject(std::string_view decoded_subject);

// RFC 5051 i;unicode-casemap, the collation RFC 5256 §7 asks SORT and THREAD
// to use: each character's simple titlecase mapping, then NFKD. Two results
// compare by their octets (i;octet). ASCII letters come out upper case, so
// for ASCII this orders as i;ascii-casemap does.
std::string UnicodeCasemap(std::string_view text);

// True if the subject had a reply/forward prefix or trailer
// (ORDEREDSUBJECT and REFERENCES need to know, RFC 5256 §2.1 note).
bool IsReplyOrForward(std::string_view decoded_subject);

}  // namespace postern::message
