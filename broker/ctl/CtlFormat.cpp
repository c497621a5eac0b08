#include "broker/ctl/CtlFormat.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "broker/audit/TimeText.h"

namespace x2gojump {
namespace {

std::size_t display_width(const std::string& text) {
  // UTF-8 continuation bytes do not start a character.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

// printable() for every line of text, keeping the line breaks.
std::string printable_lines(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += printable(text.substr(start, end - start));
    if (end < text.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

std::string text_of(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string unix_time_text(std::int64_t seconds) {
  std::string text = rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::seconds(seconds)));
  return text.substr(0, 10) + " " + text.substr(11, 8);  // "2024-05-01 12:00:00"
}

}  // namespace

std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all{headers};
  for (const auto& row : rows) all.push_back(row);
  std::vector<std::size_t> widths(headers.size(), 0);
  for (auto& row : all) {
    row.resize(headers.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
      row[i] = printable(row[i]);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : all) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string format_servers(const nlohmann::json& servers) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : servers) {
    const auto& sessions = s.at("sessions");
    std::string users = std::to_string(s.at("users").get<int>());
    if (s.value("max_users", 0) > 0) users += "/" + std::to_string(s.at("max_users").get<int>());
    std::optional<std::int64_t> age;
    if (s.at("last_report_age_s").is_number()) age = s.at("last_report_age_s").get<std::int64_t>();
    const auto& key = s.at("host_key");
    std::string key_text = key.contains("fingerprint")
                               ? text_of(key.at("fingerprint")) + " (" + text_of(key.at("source")) + ")"
                               : "none";
    rows.push_back({text_of(s.at("name")), text_of(s.at("state")),
                    fmt::format("{:.2f}", s.at("load").get<double>()),
                    fmt::format("{} R, {} S", sessions.at("running").get<int>(),
                                sessions.at("suspended").get<int>()),
                    users, age ? age_text(age) + " ago" : "never", key_text});
  }
  return format_table({"SERVER", "STATE", "LOAD", "SESSIONS", "USERS", "LAST REPORT", "HOST KEY"}, rows);
}

std::string format_sessions(const nlohmann::json& sessions) {
  if (sessions.empty()) return "no sessions\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : sessions) {
    const std::string status = text_of(s.at("status"));
    rows.push_back({text_of(s.at("server")), text_of(s.at("user")), text_of(s.at("session_id")),
                    status == "S" ? "suspended" : status == "R" ? "running" : status,
                    std::to_string(s.at("display").get<int>()),
                    unix_time_text(s.at("last_change").get<std::int64_t>())});
  }
  return format_table({"SERVER", "USER", "SESSION", "STATUS", "DISPLAY", "LAST CHANGE (UTC)"}, rows);
}

std::string format_change(const nlohmann::json& answer) {
  return printable(text_of(answer.at("server")) + ": " + text_of(answer.at("message"))) + "\n";
}

namespace {

std::string indented(const std::string& lines, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    out += prefix + lines.substr(start, end - start) + "\n";
    start = end == std::string::npos ? lines.size() : end + 1;
  }
  return out;
}

std::string joined(const nlohmann::json& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : ", ") + text_of(value);
  return out.empty() ? "none" : out;
}

}  // namespace

std::string format_explain(const nlohmann::json& explain) {
  const std::string status = text_of(explain.at("status"));
  const std::string source = text_of(explain.at("source"));
  std::string out = text_of(explain.at("user")) + " from " + (source.empty() ? "an unknown address" : source) +
                    ": " + status;
  if (!text_of(explain.at("detail")).empty()) out += " (" + text_of(explain.at("detail")) + ")";
  out += "\n";
  if (!text_of(explain.at("user_dn")).empty()) out += "  dn: " + text_of(explain.at("user_dn")) + "\n";
  if (status == "unknown-user" || status == "directory-unavailable") return printable_lines(out);
  out += "  groups: " + joined(explain.at("groups")) + "\n";
  const auto& access = explain.at("access");
  out += "  access: " + (access.at("restricted").get<bool>() ? text_of(access.at("summary"))
                                                            : std::string("no [[pool]]: every server")) + "\n";
  if (status != "ok") return printable_lines(out);

  std::vector<std::vector<std::string>> sessions;
  for (const auto& s : explain.at("sessions")) {
    const std::string st = text_of(s.at("status"));
    sessions.push_back({text_of(s.at("server")), text_of(s.at("session_id")),
                        st == "S" ? "suspended" : st == "R" ? "running" : st,
                        unix_time_text(s.at("last_change").get<std::int64_t>()),
                        s.at("counted").get<bool>() ? "" : "ignored: outside the user's pools"});
  }
  out += sessions.empty() ? "  sessions: none\n"
                          : "  sessions:\n" + indented(format_table({"SERVER", "SESSION", "STATUS", "LAST CHANGE (UTC)", ""}, sessions), "    ");
  if (!explain.at("resume_only").empty()) out += "  resume only: " + joined(explain.at("resume_only")) + "\n";
  if (explain.at("placement").is_string()) out += "  placement: " + text_of(explain.at("placement")) + "\n";
  std::vector<std::vector<std::string>> candidates;
  for (const auto& c : explain.at("candidates")) {
    std::string state;
    for (const auto& server : explain.at("servers")) {
      if (server.at("name") == c.at("server")) state = text_of(server.at("state"));
    }
    candidates.push_back({std::to_string(candidates.size() + 1) + ".", text_of(c.at("server")), state,
                          text_of(c.at("reason"))});
  }
  out += candidates.empty() ? "  would try: no usable server\n"
                            : "  would try, best first:\n" + indented(format_table({"", "SERVER", "STATE", "REASON"}, candidates), "    ");
  return printable_lines(out);
}

}  // namespace x2gojump
