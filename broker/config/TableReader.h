#pragma once
// Typed, error-collecting access to one TOML table. Internal to xj_config.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "broker/config/Config.h"

namespace x2gojump::config_detail {

// Collects every error of one parse, all tagged with the same file name.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}
  void add(int line, std::string key, std::string message);
  std::vector<ConfigError> take() { return std::move(errors_); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

template <typename T>
struct Located {
  T value;
  int line = 0;
};

// The line toml++ recorded for a node, or fallback when it has none.
int line_of(const toml::node& node, int fallback);

// "string", "integer", "float", ... as written in error messages.
std::string_view type_name(const toml::node& node);

// Reads keys from one table. Every accessor marks its key as known, reports a wrong type or a
// missing required key, and returns nullopt in that case; report_unknown_keys() then reports the
// keys nobody asked for. A null table reads as an empty one whose missing keys are reported at
// absent_line.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string path, ErrorSink* errors, int absent_line = 1);

  int line() const { return line_; }
  // The dotted key path used in errors: "ldap.uris", "server[1].port".
  std::string path_of(std::string_view key) const;
  void error(int line, std::string_view key, std::string message);

  // The raw node, or null when absent (reported if required).
  const toml::node* node(std::string_view key, bool required = false);
  std::optional<Located<std::string>> string(std::string_view key, bool required = false);
  std::optional<Located<bool>> boolean(std::string_view key);
  // Also reports values outside [min, max].
  std::optional<Located<std::int64_t>> integer(std::string_view key, std::int64_t min,
                                               std::int64_t max);
  // Accepts an integer or a float; rejects NaN and infinities.
  std::optional<Located<double>> number(std::string_view key);
  // An array whose elements are all strings; element errors name "key[i]".
  std::optional<std::vector<Located<std::string>>> strings(std::string_view key,
                                                          bool required = false);

  void report_unknown_keys();

 private:
  void type_error(const toml::node& node, std::string_view key, std::string_view expected);

  const toml::table* table_;
  std::string path_;
  ErrorSink* errors_;
  int line_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace x2gojump::config_detail
