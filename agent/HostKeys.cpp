#include "agent/HostKeys.h"

#include <fstream>

#include "common/PublicKeyLine.h"
#include "common/Snapshot.h"

namespace x2gojump {
namespace {

// Public key files are one line; anything longer than this is not one.
constexpr std::size_t kMaxKeyLine = 16 * 1024;

std::string first_key_line(std::ifstream& in) {
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > kMaxKeyLine) return {};
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.front() != '#') return line;
  }
  return {};
}

// "type base64", the first two blank-separated words.
std::string without_comment(const std::string& line) {
  auto first_end = line.find(' ');
  if (first_end == std::string::npos) return line;
  auto second_start = line.find_first_not_of(' ', first_end);
  if (second_start == std::string::npos) return line.substr(0, first_end);
  auto second_end = line.find(' ', second_start);
  return line.substr(0, first_end) + " " + line.substr(second_start, second_end - second_start);
}

}  // namespace

std::vector<std::string> read_host_keys(const std::vector<std::string>& files,
                                        std::vector<std::string>* problems) {
  std::vector<std::string> keys;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) {
      problems->push_back("cannot read host key " + file);
      continue;
    }
    std::string key = without_comment(first_key_line(in));
    if (auto error = public_key_line_error(key); !error.empty()) {
      problems->push_back("host key " + file + ": " + error);
      continue;
    }
    if (keys.size() >= SnapshotLimits{}.max_host_keys) {
      problems->push_back("host key " + file + ": more than " +
                          std::to_string(SnapshotLimits{}.max_host_keys) + " keys, left out");
      continue;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace x2gojump
