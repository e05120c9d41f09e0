// Queue IDs: 16 characters, time-ordered (so `queue list` and logs sort by
// arrival), unique without coordination. Example: "0KTG3Z5H1R2M7QXA".
// Thread-safe.
#pragma once

#include <string>

namespace postern::queue {

std::string NewQueueId();
// True for strings NewQueueId() could have produced.
bool IsQueueId(const std::string& id);

}  // namespace postern::queue
