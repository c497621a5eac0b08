#include "broker/agentapi/ReportedHostKeys.h"

#include <array>

namespace x2gojump {
namespace {

// libssh 0.10's default host key preference, best first.
constexpr std::array<std::string_view, 5> kPreference = {
    "ssh-ed25519", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp256", "ssh-rsa"};

std::size_t rank_of(std::string_view key) {
  std::string_view type = key.substr(0, key.find(' '));
  for (std::size_t i = 0; i < kPreference.size(); ++i) {
    if (kPreference[i] == type) return i;
  }
  return kPreference.size();
}

}  // namespace

std::string key_without_comment(std::string_view line) {
  constexpr std::string_view kBlanks = " \t";
  auto type_begin = line.find_first_not_of(kBlanks);
  if (type_begin == std::string_view::npos) return {};
  auto type_end = line.find_first_of(kBlanks, type_begin);
  std::string_view type = line.substr(type_begin, type_end - type_begin);
  if (type_end == std::string_view::npos) return std::string(type);
  auto data_begin = line.find_first_not_of(kBlanks, type_end);
  if (data_begin == std::string_view::npos) return std::string(type);
  auto data_end = line.find_first_of(kBlanks, data_begin);
  return std::string(type) + " " + std::string(line.substr(data_begin, data_end - data_begin));
}

std::optional<std::string> preferred_host_key(const std::vector<std::string>& keys) {
  const std::string* best = nullptr;
  std::size_t best_rank = kPreference.size();
  for (const std::string& key : keys) {
    std::size_t rank = rank_of(key_without_comment(key));
    if (rank < best_rank) {
      best = &key;
      best_rank = rank;
    }
  }
  if (best == nullptr) return std::nullopt;
  return key_without_comment(*best);
}

bool contains_host_key(const std::vector<std::string>& keys, std::string_view key) {
  const std::string wanted = key_without_comment(key);
  for (const std::string& candidate : keys) {
    if (key_without_comment(candidate) == wanted) return true;
  }
  return false;
}

}  // namespace x2gojump
