// Which outbound connections to open, and which queued message each open
// connection sends next. Pure bookkeeping (no I/O, no clock), so the limits
// are unit-tested directly:
// - at most `max_connections` connections at once, and at most
//   `max_per_destination` to one destination (a recipient domain, or the
//   smarthost);
// - a connection sends up to `messages_per_connection` messages (RSET
//   between them) before it closes, so many messages to one busy domain cost
//   few TCP and TLS handshakes;
// - destinations take turns: a new connection goes to the destination that
//   has waited longest, so one huge mailing cannot starve the others.
// A job is one queue entry's recipients at one destination, named by a key
// the caller chooses (unique while it is known here).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace postern::queue {

struct ConnectionLimits {
  int max_connections = 100;
  int max_per_destination = 10;
  int messages_per_connection = 100;
};

class ConnectionSchedule {
 public:
  explicit ConnectionSchedule(ConnectionLimits limits) : limits_(limits) {}

  // Queues a job for `destination`. False (nothing changes) when a job with
  // this key is already waiting or being sent.
  bool Add(const std::string& destination, const std::string& key);
  bool Known(const std::string& key) const { return known_.count(key) != 0; }

  // Destinations to open one new connection to each (a destination may
  // appear several times), already counted as open. A destination gets a
  // connection when it has more waiting jobs than connections still on their
  // way (connected ones take jobs as they go).
  std::vector<std::string> Open();

  // The next job for a connection to `destination` that has sent `sent`
  // messages: none when nothing waits or the connection has sent its share
  // (the caller then closes it and calls Close).
  std::optional<std::string> Next(const std::string& destination, int sent);
  // Puts a job taken with Next back at the head of its destination's queue
  // (its connection broke before sending it).
  void Return(const std::string& destination, const std::string& key);
  // Every job still waiting for `destination`, removed from the queue: for a
  // connection that found the destination unreachable, so the rest fail or
  // wait with it instead of each trying again.
  std::vector<std::string> TakeAll(const std::string& destination);
  // The job is finished (sent, deferred or failed): its key may come again.
  void Finish(const std::string& key);
  // A connection to `destination` has closed (whether it ever took a job).
  void Close(const std::string& destination);

  int open_connections() const { return open_total_; }
  int open_connections(const std::string& destination) const;
  size_t waiting() const { return waiting_total_; }
  size_t known() const { return known_.size(); }

 private:
  struct Destination {
    std::deque<std::string> waiting;  // job keys, oldest first
    int open = 0;                     // connections open (or opening)
    int starting = 0;                 // of those, not yet asked for a first job
    uint64_t turn = 0;                // when it last got a connection (round robin)
  };

  ConnectionLimits limits_;
  std::map<std::string, Destination> destinations_;
  std::set<std::string> known_;  // waiting or being sent
  size_t waiting_total_ = 0;
  int open_total_ = 0;
  uint64_t turns_ = 0;
};

}  // namespace postern::queue
