#include "agent/load/LoadSampler.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>

namespace x2gojump {
namespace {

std::string_view next_word(std::string_view* text) {
  auto start = text->find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    *text = {};
    return {};
  }
  auto end = text->find_first_of(" \t\n", start);
  if (end == std::string_view::npos) end = text->size();
  std::string_view word = text->substr(start, end - start);
  text->remove_prefix(end);
  return word;
}

std::optional<double> to_load(std::string_view word) {
  double value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (word.empty() || ec != std::errc() || end != word.data() + word.size() ||
      !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return value;
}

// The value of a "Name:   123 kB" line.
std::optional<std::uint64_t> to_kb(std::string_view rest) {
  std::string_view number = next_word(&rest);
  std::string_view unit = next_word(&rest);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || unit != "kB" ||
      !next_word(&rest).empty()) {
    return std::nullopt;
  }
  return value;
}

std::string read_text(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return {};
}

}  // namespace

bool parse_loadavg(std::string_view text, HostLoad* load) {
  auto load1 = to_load(next_word(&text));
  auto load5 = to_load(next_word(&text));
  auto load15 = to_load(next_word(&text));
  if (!load1 || !load5 || !load15) return false;
  load->load1 = *load1;
  load->load5 = *load5;
  load->load15 = *load15;
  return true;
}

bool parse_meminfo(std::string_view text, HostLoad* load) {
  std::optional<std::uint64_t> total, available;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    if (name == "MemTotal") {
      total = to_kb(line.substr(colon + 1));
      if (!total) return false;
    } else if (name == "MemAvailable") {
      available = to_kb(line.substr(colon + 1));
      if (!available) return false;
    }
  }
  if (!total || !available) return false;
  load->mem_total_kb = *total;
  load->mem_available_kb = *available;
  return true;
}

std::string LoadSampler::sample(HostLoad* load) const {
  std::string text;
  std::string path = proc_dir_ + "/loadavg";
  if (auto error = read_text(path, &text); !error.empty()) return error;
  if (!parse_loadavg(text, load)) return "cannot parse " + path;
  path = proc_dir_ + "/meminfo";
  if (auto error = read_text(path, &text); !error.empty()) return error;
  if (!parse_meminfo(text, load)) return "cannot parse " + path;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  load->cpus = cpus > 0 ? static_cast<int>(cpus) : 1;
  return {};
}

}  // namespace x2gojump
