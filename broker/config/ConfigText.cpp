#include "broker/config/ConfigText.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace x2gojump::config_detail {

std::optional<ConfigError> read_config_file(const std::string& path, std::string* text) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int error = fd < 0 ? errno : 0;
  while (fd >= 0) {
    char buffer[8192];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    text->append(buffer, static_cast<std::size_t>(n));
  }
  if (fd >= 0) ::close(fd);
  if (error == 0) return std::nullopt;
  return ConfigError{path, 0, "", std::string("cannot read file: ") + std::strerror(error)};
}

void parse_toml(std::string_view text, std::string_view file_name, ErrorSink* errors,
                const std::function<void(const toml::table&, const std::filesystem::path&)>& read) {
  try {
    toml::table document = toml::parse(text, file_name);
    read(document, std::filesystem::path(file_name).parent_path());
  } catch (const toml::parse_error& error) {
    errors->add(static_cast<int>(error.source().begin.line), "", std::string(error.description()));
  } catch (const std::exception& error) {
    // Only allocation or filesystem failures get here; the caller still gets an error, not a throw.
    errors->add(0, "", error.what());
  }
}

}  // namespace x2gojump::config_detail
