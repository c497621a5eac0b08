#pragma once
// x2gojumpctl's human-readable output: aligned tables and short messages made from the broker's
// JSON answers (ControlProtocol.h). Pure.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace x2gojump {

// Columns padded to their widest cell (counted in UTF-8 characters), two spaces apart, no
// trailing blanks. Control characters in cells are shown as '?', so a name a client chose
// cannot drive the terminal.
std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// `servers`: SERVER STATE LOAD SESSIONS USERS LAST REPORT HOST KEY.
std::string format_servers(const nlohmann::json& servers);
// `sessions`: SERVER USER SESSION STATUS DISPLAY LAST CHANGE (UTC); "no sessions" when empty.
std::string format_sessions(const nlohmann::json& sessions);
// `drain`, `undrain`, `trust-hostkey`: "SERVER: message".
std::string format_change(const nlohmann::json& answer);
// `explain`: the ACL decision, then the candidates best first.
std::string format_explain(const nlohmann::json& explain);

}  // namespace x2gojump
