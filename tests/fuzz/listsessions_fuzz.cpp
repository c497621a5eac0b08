// libFuzzer target for parse_list_sessions (x2golistsessions output, agent side). It must never
// crash or throw, every line it drops must be counted as a problem or silently skippable, and every
// session it keeps must be one the broker accepts: a snapshot made of them survives parse_snapshot.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/sessions/ListSessionsParser.h"
#include "common/Snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace x2gojump;
  std::string_view output(reinterpret_cast<const char*>(data), size);
  SessionListing listing = parse_list_sessions(output, "vm", TimeBase::Utc);

  std::size_t lines = 0;
  for (char c : output) lines += c == '\n';
  if (listing.sessions.size() + listing.problems.size() > lines + 1) std::abort();
  for (const std::string& problem : listing.problems) {
    if (!problem.starts_with("line ")) std::abort();
  }

  Snapshot snapshot;
  snapshot.server = "vm";
  snapshot.sequence = 1;
  snapshot.generated_at = 1790000000;
  snapshot.sessions = listing.sessions;
  SnapshotParse parsed = parse_snapshot(to_json(snapshot));
  if (!parsed.snapshot || parsed.snapshot->sessions.size() != listing.sessions.size()) std::abort();
  return 0;
}
