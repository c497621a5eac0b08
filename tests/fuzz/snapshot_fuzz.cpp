// libFuzzer target for parse_snapshot: it must never crash, throw or hang, must set exactly one of
// snapshot and error, and whatever it accepts must survive to_json and parse again unchanged.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/Snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using x2gojump::parse_snapshot;
  x2gojump::SnapshotLimits limits;
  limits.max_sessions = 64;  // small limits so the fuzzer reaches them
  limits.max_string_bytes = 64;
  limits.max_host_keys = 2;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  x2gojump::SnapshotParse first = parse_snapshot(body, limits);
  if (first.snapshot.has_value() == !first.error.empty()) std::abort();
  if (!first.snapshot) return 0;
  std::string json = x2gojump::to_json(*first.snapshot);
  x2gojump::SnapshotParse second = parse_snapshot(json, limits);
  // to_json is canonical, so equal output means equal snapshots (doubles print round-trippably).
  if (!second.snapshot || x2gojump::to_json(*second.snapshot) != json) std::abort();
  (void)x2gojump::load_score(first.snapshot->load);
  return 0;
}
