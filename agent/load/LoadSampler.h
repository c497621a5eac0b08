#pragma once
// The host's load as reported to the brokers: load averages, CPUs and memory, from /proc.
#include <string>
#include <string_view>

#include "common/Snapshot.h"

namespace x2gojump {

// Parses /proc/loadavg ("0.52 0.58 0.59 1/467 12345") into load1/5/15. Returns false, leaving
// *load unchanged, unless the first three fields are finite non-negative numbers.
bool parse_loadavg(std::string_view text, HostLoad* load);

// Parses /proc/meminfo for MemTotal and MemAvailable (in kB). Returns false, leaving *load
// unchanged, unless both are present and well-formed ("Name:   123 kB").
bool parse_meminfo(std::string_view text, HostLoad* load);

class LoadSampler {
 public:
  // proc_dir is where loadavg and meminfo are read; tests pass a directory of samples.
  explicit LoadSampler(std::string proc_dir = "/proc") : proc_dir_(std::move(proc_dir)) {}

  // Fills *load (CPUs from sysconf). Returns an empty string on success, else what failed.
  std::string sample(HostLoad* load) const;

 private:
  std::string proc_dir_;
};

}  // namespace x2gojump
