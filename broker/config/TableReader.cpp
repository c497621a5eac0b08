#include "broker/config/TableReader.h"

#include <cmath>

namespace x2gojump::config_detail {

void ErrorSink::add(int line, std::string key, std::string message) {
  errors_.push_back(ConfigError{file_, line, std::move(key), std::move(message)});
}

int line_of(const toml::node& node, int fallback) {
  auto line = static_cast<int>(node.source().begin.line);
  return line > 0 ? line : fallback;
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

TableReader::TableReader(const toml::table* table, std::string path, ErrorSink* errors,
                         int absent_line)
    : table_(table),
      path_(std::move(path)),
      errors_(errors),
      line_(table ? line_of(*table, absent_line) : absent_line) {}

std::string TableReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TableReader::error(int line, std::string_view key, std::string message) {
  errors_->add(line, path_of(key), std::move(message));
}

void TableReader::type_error(const toml::node& node, std::string_view key,
                             std::string_view expected) {
  error(line_of(node, line_), key,
        "expected " + std::string(expected) + ", got " + std::string(type_name(node)));
}

const toml::node* TableReader::node(std::string_view key, bool required) {
  known_.emplace(key);
  const toml::node* found = table_ ? table_->get(key) : nullptr;
  if (!found && required) error(line_, key, "missing required key");
  return found;
}

std::optional<Located<std::string>> TableReader::string(std::string_view key, bool required) {
  const toml::node* found = node(key, required);
  if (!found) return std::nullopt;
  if (!found->is_string()) {
    type_error(*found, key, "string");
    return std::nullopt;
  }
  return Located<std::string>{found->as_string()->get(), line_of(*found, line_)};
}

std::optional<Located<bool>> TableReader::boolean(std::string_view key) {
  const toml::node* found = node(key);
  if (!found) return std::nullopt;
  if (!found->is_boolean()) {
    type_error(*found, key, "boolean");
    return std::nullopt;
  }
  return Located<bool>{found->as_boolean()->get(), line_of(*found, line_)};
}

std::optional<Located<std::int64_t>> TableReader::integer(std::string_view key, std::int64_t min,
                                                          std::int64_t max) {
  const toml::node* found = node(key);
  if (!found) return std::nullopt;
  if (!found->is_integer()) {
    type_error(*found, key, "integer");
    return std::nullopt;
  }
  std::int64_t value = found->as_integer()->get();
  int line = line_of(*found, line_);
  if (value < min || value > max) {
    error(line, key,
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              std::to_string(value));
    return std::nullopt;
  }
  return Located<std::int64_t>{value, line};
}

std::optional<Located<double>> TableReader::number(std::string_view key) {
  const toml::node* found = node(key);
  if (!found) return std::nullopt;
  int line = line_of(*found, line_);
  double value;
  if (found->is_integer()) {
    value = static_cast<double>(found->as_integer()->get());
  } else if (found->is_floating_point()) {
    value = found->as_floating_point()->get();
  } else {
    type_error(*found, key, "number");
    return std::nullopt;
  }
  if (!std::isfinite(value)) {
    error(line, key, "must be a finite number");
    return std::nullopt;
  }
  return Located<double>{value, line};
}

std::optional<std::vector<Located<std::string>>> TableReader::strings(std::string_view key,
                                                                      bool required) {
  const toml::node* found = node(key, required);
  if (!found) return std::nullopt;
  if (!found->is_array()) {
    type_error(*found, key, "array of strings");
    return std::nullopt;
  }
  const toml::array& array = *found->as_array();
  int array_line = line_of(array, line_);
  std::vector<Located<std::string>> values;
  bool ok = true;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const toml::node& element = array[i];
    if (!element.is_string()) {
      type_error(element, std::string(key) + "[" + std::to_string(i) + "]", "string");
      ok = false;
      continue;
    }
    values.push_back({element.as_string()->get(), line_of(element, array_line)});
  }
  if (!ok) return std::nullopt;
  return values;
}

void TableReader::report_unknown_keys() {
  if (!table_) return;
  for (const auto& [key, value] : *table_) {
    if (known_.contains(key.str())) continue;
    int line = static_cast<int>(key.source().begin.line);
    error(line > 0 ? line : line_of(value, line_), key.str(), "unknown key");
  }
}

}  // namespace x2gojump::config_detail
