#include "common/Log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace x2gojump {

void init_logging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("x2gojump");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace x2gojump
