#include "queue/connection_schedule.h"

#include <algorithm>

namespace postern::queue {

bool ConnectionSchedule::Add(const std::string& destination, const std::string& key) {
  if (!known_.insert(key).second) return false;
  destinations_[destination].waiting.push_back(key);
  ++waiting_total_;
  return true;
}

std::vector<std::string> ConnectionSchedule::Open() {
  std::vector<std::string> out;
  while (open_total_ < limits_.max_connections) {
    // The destination that needs a connection and has gone longest without one.
    Destination* best = nullptr;
    const std::string* best_name = nullptr;
    for (auto& [name, d] : destinations_) {
      if (d.open >= limits_.max_per_destination) continue;
      if (static_cast<int>(d.waiting.size()) <= d.starting) continue;
      if (!best || d.turn < best->turn) {
        best = &d;
        best_name = &name;
      }
    }
    if (!best) break;
    ++best->open;
    ++best->starting;
    best->turn = ++turns_;
    ++open_total_;
    out.push_back(*best_name);
  }
  return out;
}

std::optional<std::string> ConnectionSchedule::Next(const std::string& destination, int sent) {
  auto it = destinations_.find(destination);
  if (it == destinations_.end()) return std::nullopt;
  Destination& d = it->second;
  if (sent == 0 && d.starting > 0) --d.starting;
  if (sent >= limits_.messages_per_connection || d.waiting.empty()) return std::nullopt;
  std::string key = std::move(d.waiting.front());
  d.waiting.pop_front();
  --waiting_total_;
  return key;
}

void ConnectionSchedule::Return(const std::string& destination, const std::string& key) {
  destinations_[destination].waiting.push_front(key);
  ++waiting_total_;
}

std::vector<std::string> ConnectionSchedule::TakeAll(const std::string& destination) {
  auto it = destinations_.find(destination);
  if (it == destinations_.end()) return {};
  std::vector<std::string> out(std::make_move_iterator(it->second.waiting.begin()),
                               std::make_move_iterator(it->second.waiting.end()));
  it->second.waiting.clear();
  waiting_total_ -= out.size();
  return out;
}

void ConnectionSchedule::Finish(const std::string& key) { known_.erase(key); }

void ConnectionSchedule::Close(const std::string& destination) {
  auto it = destinations_.find(destination);
  if (it == destinations_.end()) return;
  Destination& d = it->second;
  if (d.open > 0) {
    --d.open;
    --open_total_;
  }
  // A connection that closes before asking for a job (it failed to connect)
  // is no longer on its way.
  if (d.starting > d.open) d.starting = d.open;
  if (d.open == 0 && d.waiting.empty()) destinations_.erase(it);
}

int ConnectionSchedule::open_connections(const std::string& destination) const {
  auto it = destinations_.find(destination);
  return it == destinations_.end() ? 0 : it->second.open;
}

}  // namespace postern::queue
