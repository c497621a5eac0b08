#pragma once
// Parses the output of x2golistsessions / x2golistsessions_root. Pure: no I/O, never throws.
#include <string_view>

#include "agent/sessions/SessionRow.h"

namespace x2gojump {

// output holds one session per line, '|'-separated: agent_pid|session_id|display|server|status|
// init_time|cookie|client|gr_port|sound_port|last_time|user|age|fs_port|tekictrl|tekidata
// (16 fields; x2goserver before 4.1 prints the first 14). Keeps R and S rows whose server column
// equals server_name; skips F rows, other servers' rows and blank lines silently. Every other
// malformed line becomes a problem "line N: reason" (N counts from 1) and is left out.
SessionListing parse_list_sessions(std::string_view output, std::string_view server_name,
                                   TimeBase base);

}  // namespace x2gojump
