// The real Backend: recipients resolved through the directory in the store,
// messages written as a blob plus a queue entry (group-committed) before the
// session may answer 250. Blocking store calls run on the blocking pool.
// Thread-safe.
#pragma once

#include <functional>

#include "directory/resolver.h"
#include "smtpserver/backend.h"
#include "store/store.h"

namespace postern::smtpserver {

struct StoreBackendOptions {
  std::string hostname;             // for the bare <Postmaster>
  std::string recipient_delimiter;  // sub-addressing
  int64_t first_retry = 60;         // a new entry's next_attempt if the fast path fails
};

class StoreBackend final : public Backend {
 public:
  // `on_queued` receives every committed entry (for immediate delivery).
  StoreBackend(store::Store& store, asio::thread_pool& blocking, StoreBackendOptions options,
               std::function<void(store::QueueEntry)> on_queued);

  asio::awaitable<RecipientCheck> CheckRecipient(std::string address, bool postmaster,
                                                 uint64_t declared_size) override;
  asio::awaitable<Status> Accept(Envelope envelope, std::string content) override;

  // The verdict for one resolved address (pure; exposed for tests).
  static RecipientCheck Judge(const std::string& address,
                              const Result<directory::Resolution>& resolution,
                              uint64_t declared_size);

 private:
  RecipientCheck CheckBlocking(const std::string& address, bool postmaster, uint64_t declared_size);
  store::Store& store_;
  asio::thread_pool& blocking_;
  StoreBackendOptions options_;
  std::function<void(store::QueueEntry)> on_queued_;
};

}  // namespace postern::smtpserver
