// Receiving pushed records (SPEC §3 "Push (webhooks)"): checking a request's signature as its
// sender made it, and storing what it carries through the same path as a harvested page.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "octohub/core/database.h"
#include "octohub/core/source_spec.h"
#include "octohub/core/status.h"

namespace octohub::ingest {

// Senders may sign a request at most this long before (or after, for clock skew) it arrives.
inline constexpr std::chrono::seconds kPushTolerance{300};

struct PushCheck {
  bool accepted = false;
  std::string reason;      // why not, for the sender (never the expected signature)
  std::string replay_key;  // for signed timestamps: what a replay of this request repeats
};

// Checks a pushed request against the source's push settings with the secret's value.
// headers: names in lower case. Compares in constant time.
//  - github: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>
//  - stripe: Stripe-Signature: t=<unix seconds>,v1=<hex HMAC of "t.body">[,v1=…], the
//    timestamp within kPushTolerance of now; the secret is used as written (whsec_… too)
//  - standard-webhooks: webhook-id, webhook-timestamp (within kPushTolerance) and
//    webhook-signature: v1,<base64 HMAC of "id.timestamp.body"> [v1,…]; a whsec_<base64>
//    secret is keyed with the bytes it encodes
//  - hmac-sha256: <header>: <hex HMAC-SHA256 of the body>, "sha256=" before it allowed
PushCheck CheckPushSignature(const PushSpec& push, std::string_view secret,
                             const std::map<std::string, std::string>& headers,
                             std::string_view body, std::chrono::system_clock::time_point now);

struct PushStored {
  std::int64_t records = 0;  // in the pushed body
};

// Stores pushed bodies. The request threads parse and check a body; one committer thread
// then writes whatever pushes are waiting in one transaction (records through the same
// writer as a harvested page: ids, hashes, change sequence, index and rules), so a burst of
// concurrent pushes costs a few commits, not one each. Store returns once its push is
// committed (or failed: then nothing of it is stored). Each minute's pushes of a source are
// one run (trigger "push") in the run history. Thread-safe.
class PushReceiver {
 public:
  explicit PushReceiver(const Database& db);
  ~PushReceiver();
  PushReceiver(const PushReceiver&) = delete;
  PushReceiver& operator=(const PushReceiver&) = delete;

  // The source's settings, read at most once a second per source; kNotFound when there is no
  // such source.
  Result<SourceSpec> Source(const std::string& name);

  // The records of a pushed body: one record (an object), or a page that the source's
  // `records` points into. kInvalidArgument when it is neither, and kInvalidArgument with a
  // field error (the id pointer, the reasons) when a record cannot be stored (no id, say):
  // then nothing of it is. kAlreadyExists when replay_key was taken before
  // (a replayed signed request); kUnavailable when PostgreSQL cannot take it now.
  Result<PushStored> Store(const SourceSpec& spec, std::string_view body,
                           const std::string& replay_key);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace octohub::ingest
