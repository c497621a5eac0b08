#pragma once
// What the broker's and the agent's configuration loaders share: reading the file and turning a
// TOML document into located errors.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "broker/config/Config.h"
#include "broker/config/TableReader.h"

namespace x2gojump::config_detail {

// Reads the whole file at path into *text; on failure returns "cannot read file: <reason>".
std::optional<ConfigError> read_config_file(const std::string& path, std::string* text);

// Parses text as TOML and hands the document and the file's directory to read. A syntax error, or
// any exception from read, becomes an error in errors; nothing is thrown.
void parse_toml(std::string_view text, std::string_view file_name, ErrorSink* errors,
                const std::function<void(const toml::table&, const std::filesystem::path&)>& read);

}  // namespace x2gojump::config_detail
