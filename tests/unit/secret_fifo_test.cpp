// A secret or CA file path that names a FIFO must be refused at once, not block start-up (or
// --check-config) until something writes to the FIFO.
#include <gmock/gmock.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <string>

#include "agent/config/AgentConfig.h"
#include "broker/config/SecretFile.h"

namespace x2gojump {
namespace {

using ::testing::HasSubstr;

class FifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("xj-fifo-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    fifo_ = (dir_ / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs f on another thread; fails the test instead of hanging if it blocks.
  template <typename F>
  auto within_seconds(F f) {
    auto result = std::async(std::launch::async, f);
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      // Unblock the reader so the test process can end.
      int fd = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      ADD_FAILURE() << "reading the FIFO blocked";
    }
    return result.get();
  }

  std::filesystem::path dir_;
  std::string fifo_;
};

TEST_F(FifoTest, SecretFileIsRefusedWithoutBlocking) {
  std::string secret;
  std::string error = within_seconds(
      [&] { return config_detail::read_secret_file(fifo_, &secret, /*owner_only=*/true); });
  EXPECT_THAT(error, HasSubstr("is not a regular file"));
  EXPECT_TRUE(secret.empty());
}

TEST_F(FifoTest, AgentCaFileDoesNotBlock) {
  std::string token = (dir_ / "token").string();
  FILE* out = std::fopen(token.c_str(), "w");
  std::fputs("0123456789abcdef0123456789abcdef\n", out);
  std::fclose(out);
  ::chmod(token.c_str(), 0600);
  std::string text = "[agent]\nserver_name = \"h\"\n[[broker]]\nurl = \"https://b:8443\"\ntoken_file = \"" +
                     token + "\"\nca_file = \"" + fifo_ + "\"\n";
  AgentDefaults defaults{"h", {}};
  // The CA file is only opened here (TLS reads it later), so a FIFO may pass; it must not hang.
  within_seconds([&] { return parse_agent_config(text, (dir_ / "agent.toml").string(), defaults); });
}

}  // namespace
}  // namespace x2gojump
