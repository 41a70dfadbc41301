// A network guard for one test case; the default one is back when it ends.
#pragma once

#include <memory>

#include "octohub/core/network_guard.h"

namespace octohub::testing {

class ScopedNetworkGuard {
 public:
  explicit ScopedNetworkGuard(const char* deny) { Deny(deny); }
  ~ScopedNetworkGuard() { InstallNetworkGuard(nullptr); }
  ScopedNetworkGuard(const ScopedNetworkGuard&) = delete;
  ScopedNetworkGuard& operator=(const ScopedNetworkGuard&) = delete;

  // Replaces the denied networks (a comma list of CIDRs).
  void Deny(const char* deny) {
    InstallNetworkGuard(std::make_shared<const NetworkGuard>(*NetworkGuard::Make(deny, "")));
  }
};

}  // namespace octohub::testing
