#pragma once
// The read-only HTML status page of the admin listener: servers with state, load, sessions and
// report age, and the recent audit events. Self-contained (inline CSS, no scripts, no external
// assets); reloads itself every refresh_seconds. Pure.
#include <string>
#include <string_view>

#include "broker/admin/StatusReport.h"

namespace x2gojump {

// A Content-Security-Policy that allows exactly what the page uses (inline styles).
inline constexpr std::string_view kStatusPageCsp =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

std::string render_status_page(const StatusReport& report, int refresh_seconds = 5);

// text with &, <, >, " and ' replaced by character references.
std::string html_escape(std::string_view text);

}  // namespace x2gojump
