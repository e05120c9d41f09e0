// The real Backend: recipients resolved through the directory in the store;
// a message is accepted in one group-committed transaction that stores its
// body (inline when small, else in a blob file fsynced first), its queue
// entry, and its delivery into the local recipients' INBOX, before the
// session may answer 250. Blocking store calls run on the blocking pool.
// Thread-safe.
#pragma once

#include <functional>

#include "delivery/queue_runner.h"
#include "directory/resolver.h"
#include "dkim/key_directory.h"
#include "sasl/credentials.h"
#include "smtpserver/backend.h"
#include "store/store.h"

namespace postern::smtpserver {

struct StoreBackendOptions {
  std::string hostname;             // for the bare <Postmaster>
  std::string recipient_delimiter;  // sub-addressing
  int64_t first_retry = 60;         // next_attempt of recipients left in the queue
};

class StoreBackend final : public Backend {
 public:
  // Local recipients are delivered in the transaction that accepts the
  // message, planned and reported by `runner` (which keeps what is left).
  StoreBackend(store::Store& store, asio::thread_pool& blocking, delivery::QueueRunner& runner,
               StoreBackendOptions options);

  asio::awaitable<RecipientCheck> CheckRecipient(std::string address, bool postmaster,
                                                 uint64_t declared_size) override;
  asio::awaitable<Status> Accept(Envelope envelope, std::string content) override;
  asio::awaitable<AuthOutcome> Authenticate(std::string mechanism,
                                            std::optional<std::string> initial_response,
                                            sasl::Ask ask) override;
  asio::awaitable<Result<bool>> MaySendAs(std::string account, std::string sender) override;
  asio::awaitable<RecipientCheck> CheckRelayRecipient(std::string address,
                                                      uint64_t declared_size) override;
  asio::awaitable<std::string> DkimSignatures(std::string author_domain,
                                              std::string_view message) override;

  // Submission: the DKIM keys that sign mail from our domains (none: mail
  // goes unsigned).
  void UseDkimKeys(dkim::KeyDirectory& keys) { dkim_keys_ = &keys; }

  // Called with each accepted entry that has remote recipients (as
  // committed, recipient ids set) and its message.
  using RemoteQueued =
      std::function<void(store::QueueEntry, std::shared_ptr<const std::string> content)>;
  void OnRemoteQueued(RemoteQueued queued) { on_remote_queued_ = std::move(queued); }

  // Submission: the credentials AUTH checks (none: AUTH is refused).
  void UseCredentials(sasl::Credentials& credentials) { credentials_ = &credentials; }

  // How many SMTP sessions are open. A session alone may commit its message
  // on its own I/O thread when the store's writer is idle (it blocks nobody
  // else); without a counter, every commit goes through the writer thread.
  void CountSessionsWith(std::function<size_t()> active_sessions) {
    active_sessions_ = std::move(active_sessions);
  }

  // The verdict for one resolved address (pure; exposed for tests).
  // `relay`: an authenticated user's recipient, so a domain not ours is a
  // remote destination rather than a refusal.
  static RecipientCheck Judge(const std::string& address,
                              const Result<directory::Resolution>& resolution,
                              uint64_t declared_size, bool relay = false);

 private:
  RecipientCheck CheckBlocking(const std::string& address, bool postmaster, uint64_t declared_size,
                               bool relay);
  directory::ResolverOptions ResolverOptionsHere() const;
  asio::awaitable<RecipientCheck> Check(std::string address, bool postmaster,
                                        uint64_t declared_size, bool relay);
  store::Store& store_;
  asio::thread_pool& blocking_;
  delivery::QueueRunner& runner_;
  StoreBackendOptions options_;
  std::function<size_t()> active_sessions_;
  RemoteQueued on_remote_queued_;
  sasl::Credentials* credentials_ = nullptr;
  dkim::KeyDirectory* dkim_keys_ = nullptr;
};

}  // namespace postern::smtpserver
