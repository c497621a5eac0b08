#include "agent/sessions/SessionSource.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "agent/sessions/ListSessionsParser.h"

namespace x2gojump {
namespace {

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string read_backend(const std::string& file) {
  std::ifstream in(file);
  if (!in) return "sqlite";
  std::ostringstream text;
  text << in.rdbuf();
  return parse_x2gosql_backend(text.str());
}

}  // namespace

std::string parse_x2gosql_backend(std::string_view text) {
  std::string backend = "sqlite";
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    line = trim(line.substr(0, line.find('#')));
    auto equals = line.find('=');
    if (equals == std::string_view::npos || trim(line.substr(0, equals)) != "backend") continue;
    backend = std::string(trim(line.substr(equals + 1)));
    std::transform(backend.begin(), backend.end(), backend.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return backend;
}

SessionSource::SessionSource(SessionSourceOptions options)
    : options_(std::move(options)),
      sqlite_backend_(read_backend(options_.x2gosql_file) == "sqlite") {}

SessionSource::~SessionSource() = default;

void SessionSource::note_source(std::string_view source, std::string_view reason) {
  if (current_source_ == source) return;
  current_source_ = source;
  if (reason.empty()) {
    spdlog::info("reading sessions from {}", source);
  } else {
    spdlog::warn("reading sessions from {}: {}", source, reason);
  }
}

bool SessionSource::list_from_db(SessionListing* out, std::string* error) {
  // An open connection keeps reading a file that was renamed over or deleted; reopen by path.
  struct stat info {};
  if (::stat(options_.session_db.c_str(), &info) != 0 || info.st_ino != reader_inode_) {
    reader_.reset();
  }
  if (!reader_) {
    reader_ = SessionDbReader::open(options_.session_db, error);
    reader_inode_ = reader_ ? info.st_ino : 0;
  }
  if (!reader_) return false;
  if (reader_->read(options_.server_name, options_.time_base, out, error)) return true;
  reader_.reset();  // a fresh connection next time, e.g. after the file was replaced
  return false;
}

bool SessionSource::list_from_command(SessionListing* out, std::string* error) {
  std::string output;
  *error = run_command(options_.listsessions_command, options_.command_limits, &output);
  if (!error->empty()) return false;
  *out = parse_list_sessions(output, options_.server_name, options_.time_base);
  return true;
}

bool SessionSource::list(SessionListing* out, std::string* error) {
  std::string db_error;
  if (sqlite_backend_) {
    if (list_from_db(out, &db_error)) {
      note_source("the session DB " + options_.session_db, "");
      return true;
    }
  } else {
    db_error = "the X2Go SQL backend is not sqlite";
  }
  std::string command_error;
  if (list_from_command(out, &command_error)) {
    note_source("the command " + options_.listsessions_command.front(), db_error);
    return true;
  }
  current_source_.clear();
  *error = db_error + "; fallback: " + command_error;
  return false;
}

}  // namespace x2gojump
