#include "agent/sessions/ListSessionsParser.h"

#include <array>

namespace x2gojump {
namespace {

constexpr std::size_t kFields = 16;
constexpr std::size_t kLegacyFields = 14;  // no telekinesis ports (x2goserver < 4.1)

enum Field : std::size_t {
  kSessionId = 1,
  kDisplay = 2,
  kServer = 3,
  kStatus = 4,
  kCreated = 5,
  kLastChange = 10,
  kUser = 11,
};

// Splits line at '|' into at most fields.size() parts; returns the number of parts the line has
// (which may be larger than the array).
std::size_t split_fields(std::string_view line, std::array<std::string_view, kFields>* fields) {
  std::size_t count = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t bar = line.find('|', start);
    std::string_view part = line.substr(start, bar == std::string_view::npos ? bar : bar - start);
    if (count < fields->size()) (*fields)[count] = part;
    ++count;
    if (bar == std::string_view::npos) return count;
    start = bar + 1;
  }
}

}  // namespace

SessionListing parse_list_sessions(std::string_view output, std::string_view server_name,
                                   TimeBase base) {
  ListingBuilder builder(base);
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t newline = output.find('\n', start);
    std::size_t end = newline == std::string_view::npos ? output.size() : newline;
    std::string_view line = output.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;

    std::string where = "line " + std::to_string(line_number);
    std::array<std::string_view, kFields> fields;
    std::size_t count = split_fields(line, &fields);
    if (count != kFields && count != kLegacyFields) {
      builder.reject(where, "expected 16 '|'-separated fields, got " + std::to_string(count));
      continue;
    }
    if (fields[kServer] != server_name) continue;
    // Finished sessions cannot be resumed; the broker must not route to them.
    if (fields[kStatus] == "F") continue;
    builder.add(SessionRow{fields[kSessionId], fields[kDisplay], fields[kUser], fields[kStatus],
                           fields[kCreated], fields[kLastChange]},
                where);
  }
  return builder.take();
}

}  // namespace x2gojump
