// SPDX-License-Identifier: MIT
// The independent reference for input digests in tests: coreutils' sha256sum of a file.
#pragma once

#include <cstdio>
#include <string>

namespace nfm::testing {

// Lowercase hex SHA-256 of the file at `path` by sha256sum(1); a text that is no digest when
// the tool fails (so a comparison with it fails).
inline std::string Sha256sumOf(const std::string& path) {
  FILE* p = popen(("sha256sum '" + path + "'").c_str(), "r");
  char buf[128] = {};
  if (!p) return "sha256sum failed";
  const bool ok = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return ok ? std::string(buf, 64) : "sha256sum failed";
}

}  // namespace nfm::testing
