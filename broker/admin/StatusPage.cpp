#include "broker/admin/StatusPage.h"

#include <fmt/format.h>

#include <algorithm>

#include "broker/audit/AuditLog.h"

namespace x2gojump {
namespace {

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.5em 0 .4em}
p.meta{color:#666;margin:0}
table{border-collapse:collapse;background:#fff;min-width:60%}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.9em}
.state{display:inline-block;padding:0 .5em;border-radius:.6em;color:#fff;font-weight:600}
.up{background:#2e7d32}.stale{background:#b26a00}.down{background:#c62828}.draining{background:#1565c0}
.ev td{font-size:.92em}.failure{color:#c62828}
)";

std::string cell(std::string_view text, bool numeric = false) {
  return std::string(numeric ? "<td class=\"num\">" : "<td>") + html_escape(text) + "</td>";
}

// One audit event as its time, its kind and the rest as "key=value" pairs.
std::string event_row(const std::string& line) {
  nlohmann::ordered_json event = nlohmann::ordered_json::parse(line, nullptr, false);
  if (!event.is_object()) return "";
  std::string time, kind, details;
  bool failed = false;
  for (const auto& [key, value] : event.items()) {
    std::string text = value.is_string() ? value.get<std::string>()
                                         : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (key == "time") {
      time = text;
    } else if (key == "event") {
      kind = text;
    } else {
      if (key == "result" && text == "failure") failed = true;
      if (!details.empty()) details += "  ";
      details += key + "=" + text;
    }
  }
  return std::string(failed ? "<tr class=\"failure\">" : "<tr>") + cell(time) + cell(kind) +
         "<td><code>" + html_escape(details) + "</code></td></tr>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_status_page(const StatusReport& report, int refresh_seconds) {
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  html += fmt::format("<meta http-equiv=\"refresh\" content=\"{}\">\n", refresh_seconds);
  html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  html += "<title>x2gojump status</title>\n<style>" + std::string(kStyle) + "</style></head>\n<body>\n";
  html += "<h1>x2gojump</h1>\n";
  html += "<p class=\"meta\">version " + html_escape(report.version) + " &middot; up " +
          html_escape(age_text(report.now - report.started_at)) + " &middot; " +
          fmt::format("{} connections open ({} logging in)", report.connections_active,
                      report.connections_unauthenticated) +
          " &middot; as of " +
          html_escape(rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::seconds(report.now)))) +
          "</p>\n";

  html += fmt::format("<h2>Servers ({})</h2>\n<table id=\"servers\">\n", report.servers.size());
  html += "<tr><th>Server</th><th>Address</th><th>State</th><th>Load</th><th>Sessions (running / "
          "suspended)</th><th>Users</th><th>Last report</th><th>Host key</th></tr>\n";
  for (const ServerStatus& status : report.servers) {
    const ServerSummary& server = status.summary;
    const std::string state(to_string(server.health));
    html += "<tr>" + cell(server.name) + cell(server.address + ":" + std::to_string(server.port));
    html += "<td><span class=\"state " + html_escape(state) + "\">" + html_escape(state) + "</span></td>";
    html += cell(fmt::format("{:.2f}", server.load), true);
    html += cell(fmt::format("{} / {}", server.running_sessions, server.suspended_sessions), true);
    html += cell(status.max_users > 0 ? fmt::format("{} of {}", server.users, status.max_users)
                                      : std::to_string(server.users),
                 true);
    html += cell(age_text(status.last_report_age) + (status.last_report_age ? " ago" : ""), true);
    html += status.host_key_fingerprint.empty()
                ? cell("none")
                : "<td><code>" + html_escape(status.host_key_fingerprint) + "</code> (" +
                      html_escape(status.host_key_source) + ")</td>";
    html += "</tr>\n";
  }
  html += "</table>\n";

  html += "<h2>Recent events</h2>\n<table id=\"events\" class=\"ev\">\n";
  html += "<tr><th>Time (UTC)</th><th>Event</th><th>Details</th></tr>\n";
  // Newest first: the table is read from the top.
  for (auto it = report.recent_events.rbegin(); it != report.recent_events.rend(); ++it) {
    html += event_row(*it);
  }
  if (report.recent_events.empty()) html += "<tr><td colspan=\"3\">none yet</td></tr>\n";
  html += "</table>\n</body></html>\n";
  return html;
}

}  // namespace x2gojump
