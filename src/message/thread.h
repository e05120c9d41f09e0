// RFC 5256 §3 threading (THREAD ORDEREDSUBJECT and REFERENCES) over keys
// already taken from the messages (message/thread_keys.h), and the IMAP form
// of the result (thread-list, RFC 5256 §5). Pure; iterative (a References
// chain thousands deep does not recurse) and bounded in work on hostile
// input. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::message {

// One message to thread. Messages are given in mailbox (sequence) order,
// which breaks ties between equal sent dates (RFC 5256 §2.2).
struct ThreadMessage {
  uint32_t number = 0;  // what the result shows: sequence number or UID, never 0
  // RFC 5256 §2.2 sent date in UTC seconds (the caller falls back to the
  // internal date when Date: is missing or unusable).
  int64_t sent_date = 0;
  std::string base_subject;       // BaseSubject() of the decoded Subject
  bool reply_or_forward = false;  // IsReplyOrForward() of the decoded Subject
  // Normalized msg-ids (ParseMessageIds): this message's own (empty if it
  // has no valid one), and its references: those of References, or else the
  // first valid one of In-Reply-To (RFC 5256 §3 REFERENCES).
  std::string message_id;
  std::vector<std::string> references;
};

// The threads found: a forest whose nodes are messages, or dummies (number
// 0) standing for a parent that is not among the messages. Every message
// given appears exactly once; siblings are in the order to show them.
struct ThreadForest {
  struct Node {
    uint32_t number = 0;  // 0: a dummy
    std::vector<size_t> children;
  };
  std::vector<Node> nodes;
  std::vector<size_t> roots;  // indices into `nodes`
};

// RFC 5256 §3 ORDEREDSUBJECT: messages grouped by base subject, each group a
// thread of its first message (by sent date) with the others as its
// children; threads ordered by the sent date of their first message.
ThreadForest ThreadByOrderedSubject(const std::vector<ThreadMessage>& messages);

// RFC 5256 §3 REFERENCES, steps (1) to (6). One deviation, on hostile input
// only: the loop checks of step (1) together walk at most a few million
// parent links, and past that a link that would need a check is not made (it
// could have closed a loop), so the work stays bounded.
ThreadForest ThreadByReferences(const std::vector<ThreadMessage>& messages);

// The THREAD response data after "THREAD": "(2)(3 6 (4 23)(44 7 96))",
// empty for no threads (RFC 5256 §5 thread-list).
std::string FormatThreads(const ThreadForest& forest);

}  // namespace postern::message
