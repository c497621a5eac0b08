// agent.toml parsing, broker URLs, token files and host key files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/HostKeys.h"
#include "agent/config/AgentConfig.h"
#include "agent/config/BrokerUrl.h"
#include "agent/config/TokenFile.h"

namespace x2gojump {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";
constexpr const char* kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOzcTu/G9dPqXNYEpOGQv7NtsUiUIHqkorz/qcHfDBi";

class AgentConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("xj-agent-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    token_ = write("token", std::string(kToken) + "\n", 0600);
    defaults_.server_name = "x2go-host-1";
    defaults_.host_key_files = {"/etc/ssh/ssh_host_ed25519_key.pub"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode = 0644) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::string config_file() const { return (dir_ / "agent.toml").string(); }

  // A valid config: one broker with the token file; extra text is appended.
  std::string minimal(const std::string& agent_lines = "", const std::string& broker_lines = "") {
    return "[agent]\n" + agent_lines + "\n[[broker]]\nurl = \"https://broker.example.org:8443\"\n" +
           "token_file = \"" + token_ + "\"\n" + broker_lines;
  }

  AgentConfigResult parse(const std::string& text) {
    return parse_agent_config(text, config_file(), defaults_);
  }

  std::vector<std::string> errors(const std::string& text) {
    std::vector<std::string> texts;
    for (const ConfigError& error : parse(text).errors) texts.push_back(error.to_string());
    return texts;
  }

  std::filesystem::path dir_;
  std::string token_;
  AgentDefaults defaults_;
};

TEST_F(AgentConfigTest, MinimalConfigTakesTheDefaults) {
  AgentConfigResult result = parse(minimal());
  ASSERT_THAT(result.errors, IsEmpty());
  const AgentConfig& config = *result.config;
  EXPECT_EQ(config.server_name, "x2go-host-1");
  EXPECT_EQ(config.session_db, "/var/lib/x2go/x2go_sessions");
  EXPECT_THAT(config.listsessions_command, ElementsAre("/usr/sbin/x2golistsessions_root"));
  EXPECT_EQ(config.heartbeat_interval, std::chrono::seconds(5));
  EXPECT_THAT(config.host_key_files, ElementsAre("/etc/ssh/ssh_host_ed25519_key.pub"));
  EXPECT_EQ(config.log_level, "info");
  ASSERT_THAT(config.brokers, SizeIs(1));
  EXPECT_EQ(config.brokers[0].url, "https://broker.example.org:8443");
  EXPECT_TRUE(config.brokers[0].endpoint.tls);
  EXPECT_EQ(config.brokers[0].endpoint.host, "broker.example.org");
  EXPECT_EQ(config.brokers[0].endpoint.port, 8443);
  EXPECT_EQ(config.brokers[0].token, kToken);
  EXPECT_EQ(config.brokers[0].ca_file, "");
}

TEST_F(AgentConfigTest, AgentSectionIsOptional) {
  std::string text = "[[broker]]\nurl = \"https://b\"\ntoken_file = \"token\"\n";
  AgentConfigResult result = parse(text);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config->server_name, "x2go-host-1");
  // Relative paths are relative to the config file's directory.
  EXPECT_EQ(result.config->brokers[0].token, kToken);
  EXPECT_EQ(result.config->brokers[0].endpoint.port, 443);
}

TEST_F(AgentConfigTest, ReadsEveryKey) {
  std::string ca = write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  std::string token2 = write("token2", "fedcba9876543210fedcba9876543210", 0400);
  std::string text = R"([agent]
server_name = "x2go-host-7"
session_db = "db/x2go_sessions"
listsessions_command = "/usr/bin/sudo  -n /usr/sbin/x2golistsessions_root"
heartbeat_interval_s = 2
host_key_files = ["/k1.pub", "keys/k2.pub"]
log_level = "debug"

[[broker]]
url = "https://[2001:db8::1]:9443/"
token_file = ")" + token_ +
                     R"("
ca_file = "ca.pem"

[[broker]]
url = "http://127.0.0.1:8080"
token_file = ")" + token2 +
                     R"("
allow_plain_http = true
)";
  AgentConfigResult result = parse(text);
  ASSERT_THAT(result.errors, IsEmpty());
  const AgentConfig& config = *result.config;
  EXPECT_EQ(config.server_name, "x2go-host-7");
  EXPECT_EQ(config.session_db, (dir_ / "db/x2go_sessions").string());
  EXPECT_THAT(config.listsessions_command,
              ElementsAre("/usr/bin/sudo", "-n", "/usr/sbin/x2golistsessions_root"));
  EXPECT_EQ(config.heartbeat_interval, std::chrono::seconds(2));
  EXPECT_THAT(config.host_key_files, ElementsAre("/k1.pub", (dir_ / "keys/k2.pub").string()));
  EXPECT_EQ(config.log_level, "debug");
  ASSERT_THAT(config.brokers, SizeIs(2));
  EXPECT_EQ(config.brokers[0].endpoint.host, "2001:db8::1");
  EXPECT_EQ(config.brokers[0].endpoint.authority(), "[2001:db8::1]:9443");
  EXPECT_EQ(config.brokers[0].ca_file, ca);
  EXPECT_FALSE(config.brokers[1].endpoint.tls);
  EXPECT_EQ(config.brokers[1].endpoint.authority(), "127.0.0.1:8080");
  EXPECT_EQ(config.brokers[1].token, "fedcba9876543210fedcba9876543210");
}

TEST_F(AgentConfigTest, EmptyHostKeyListMeansNone) {
  AgentConfigResult result = parse(minimal("host_key_files = []"));
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.config->host_key_files, IsEmpty());
}

TEST_F(AgentConfigTest, ErrorsCarryFileLineAndKey) {
  std::string file = config_file();
  EXPECT_THAT(
      errors(minimal("heartbeat_interval_s = 0")),
      ElementsAre(file + ":2: agent.heartbeat_interval_s: must be between 1 and 3600, got 0"));
  EXPECT_THAT(errors(minimal("bogus = 1")), ElementsAre(file + ":2: agent.bogus: unknown key"));
  EXPECT_THAT(errors(minimal("", "colour = \"red\"")),
              ElementsAre(file + ":6: broker[0].colour: unknown key"));
  EXPECT_THAT(errors(minimal() + "[extra]\n"), ElementsAre(file + ":6: extra: unknown key"));
}

TEST_F(AgentConfigTest, RejectsBadAgentValues) {
  struct Case {
    std::string line;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"heartbeat_interval_s = 3601", "agent.heartbeat_interval_s: must be between"},
           {"heartbeat_interval_s = \"5\"", "expected integer, got string"},
           {"heartbeat_interval_s = 5.5", "expected integer, got float"},
           {"log_level = \"verbose\"", "agent.log_level: must be one of"},
           {"server_name = \"\"", "agent.server_name: must be 1 to 64 characters"},
           {"server_name = \"host name\"", "agent.server_name: may only contain"},
           {"server_name = 7", "agent.server_name: expected string, got integer"},
           {"session_db = \"\"", "agent.session_db: must not be empty"},
           {"listsessions_command = \"\"", "agent.listsessions_command: must not be empty"},
           {"listsessions_command = \"  \"", "agent.listsessions_command: must not be empty"},
           {"listsessions_command = \"x2golistsessions_root\"", "must be an absolute path"},
           {"listsessions_command = [\"/usr/sbin/x2golistsessions_root\"]", "expected string"},
           {"host_key_files = [\"\"]", "agent.host_key_files[0]: must not be empty"},
           {"host_key_files = \"/etc/ssh/k.pub\"", "expected array of strings"},
           {"host_key_files = [1]", "agent.host_key_files[0]: expected string, got integer"},
       }) {
    EXPECT_THAT(errors(minimal(c.line)), ElementsAre(HasSubstr(c.error))) << c.line;
  }
}

TEST_F(AgentConfigTest, AnUnusableHostNameNeedsAnExplicitServerName) {
  defaults_.server_name = "my host";
  EXPECT_THAT(errors(minimal()),
              ElementsAre(config_file() + ":1: agent.server_name: the host name \"my host\" is "
                                          "not usable (may only contain letters, digits, '.', "
                                          "'_' and '-'); set server_name"));
  EXPECT_THAT(errors(minimal("server_name = \"x2go-1\"")), IsEmpty());
}

TEST_F(AgentConfigTest, RequiresAtLeastOneBroker) {
  EXPECT_THAT(errors("[agent]\n"), ElementsAre(HasSubstr("broker: at least one [[broker]]")));
  EXPECT_THAT(errors("broker = []\n"), ElementsAre(HasSubstr("at least one [[broker]]")));
  EXPECT_THAT(errors("broker = \"https://b\"\n"),
              ElementsAre(HasSubstr("expected array of tables ([[broker]]), got string")));
  EXPECT_THAT(errors("[broker]\nurl = \"https://b\"\n"),
              ElementsAre(HasSubstr("expected array of tables ([[broker]]), got table")));
  EXPECT_THAT(errors("agent = 1\n[[broker]]\nurl = \"https://b\"\ntoken_file = \"token\"\n"),
              ElementsAre(HasSubstr("agent: expected table, got integer")));
}

TEST_F(AgentConfigTest, BrokerNeedsUrlAndTokenFile) {
  EXPECT_THAT(errors("[[broker]]\n"),
              ElementsAre(HasSubstr("broker[0].url: missing required key"),
                          HasSubstr("broker[0].token_file: missing required key")));
  EXPECT_THAT(errors("[[broker]]\nurl = \"https://b\"\ntoken_file = \"\"\n"),
              ElementsAre(HasSubstr("broker[0].token_file: must not be empty")));
}

TEST_F(AgentConfigTest, PlainHttpNeedsExplicitConsent) {
  std::string text = "[[broker]]\nurl = \"http://127.0.0.1:8080\"\ntoken_file = \"token\"\n";
  EXPECT_THAT(errors(text), ElementsAre(HasSubstr("broker[0].url: http:// requires "
                                                  "allow_plain_http = true")));
  EXPECT_THAT(errors(text + "allow_plain_http = false\n"),
              ElementsAre(HasSubstr("requires allow_plain_http")));
  EXPECT_THAT(errors(text + "allow_plain_http = true\n"), IsEmpty());
  EXPECT_THAT(errors(text + "allow_plain_http = \"yes\"\n"),
              ElementsAre(HasSubstr("allow_plain_http: expected boolean, got string"),
                          HasSubstr("requires allow_plain_http")));
  write("ca.pem", "x");
  EXPECT_THAT(errors(text + "allow_plain_http = true\nca_file = \"ca.pem\"\n"),
              ElementsAre(HasSubstr("broker[0].ca_file: only used with https:// URLs")));
}

TEST_F(AgentConfigTest, CaFileMustBeReadable) {
  EXPECT_THAT(errors(minimal("", "ca_file = \"missing.pem\"")),
              ElementsAre(HasSubstr("broker[0].ca_file: cannot read " +
                                    (dir_ / "missing.pem").string() + ": No such file")));
}

TEST_F(AgentConfigTest, RejectsDuplicateBrokers) {
  std::string broker = "[[broker]]\nurl = \"https://b:443\"\ntoken_file = \"token\"\n";
  std::string same = "[[broker]]\nurl = \"https://b/\"\ntoken_file = \"token\"\n";
  EXPECT_THAT(errors(broker + same),
              ElementsAre(config_file() + ":5: broker[1].url: same broker as broker[0]"));
  std::string other_port = "[[broker]]\nurl = \"https://b:8443\"\ntoken_file = \"token\"\n";
  EXPECT_THAT(errors(broker + other_port), IsEmpty());
}

TEST_F(AgentConfigTest, TokenFileRules) {
  auto token_error = [&](const std::string& content, mode_t mode) {
    std::string path = write("t", content, mode);
    return errors(minimal() + "\n[[broker]]\nurl = \"https://c\"\ntoken_file = \"t\"\n");
  };
  EXPECT_THAT(token_error(kToken, 0600), IsEmpty());
  EXPECT_THAT(token_error(kToken, 0400), IsEmpty());
  EXPECT_THAT(token_error(kToken, 0640),
              ElementsAre(HasSubstr("must not be accessible by group or others (mode 0640")));
  EXPECT_THAT(token_error(kToken, 0604), ElementsAre(HasSubstr("(mode 0604")));
  EXPECT_THAT(token_error(kToken, 0610), ElementsAre(HasSubstr("(mode 0610")));
  EXPECT_THAT(token_error("0123456789abcde\n", 0600),
              ElementsAre(HasSubstr("token must be at least 16 bytes")));
  EXPECT_THAT(token_error("", 0600), ElementsAre(HasSubstr("t is empty")));
  EXPECT_THAT(token_error("0123456789 abcdef0123", 0600),
              ElementsAre(HasSubstr("printable ASCII without spaces")));
  EXPECT_THAT(token_error("0123456789abcdef\n\n", 0600), ElementsAre(HasSubstr("printable")));
  EXPECT_THAT(token_error("0123456789abcdéf0123", 0600), ElementsAre(HasSubstr("printable")));
  EXPECT_THAT(token_error(std::string(4097, 'a'), 0600), ElementsAre(HasSubstr("too large")));
  std::filesystem::create_directory(dir_ / "tdir");
  ::chmod((dir_ / "tdir").c_str(), 0700);
  EXPECT_THAT(errors(minimal() + "\n[[broker]]\nurl = \"https://c\"\ntoken_file = \"tdir\"\n"),
              ElementsAre(HasSubstr("is not a regular file")));
  EXPECT_THAT(errors(minimal() + "\n[[broker]]\nurl = \"https://c\"\ntoken_file = \"nope\"\n"),
              ElementsAre(HasSubstr("cannot read " + (dir_ / "nope").string())));
}

TEST_F(AgentConfigTest, TokenFileMessagesNeverContainTheToken) {
  write("t", "secret-token-value with space", 0600);
  for (const std::string& error :
       errors(minimal() + "\n[[broker]]\nurl = \"https://c\"\ntoken_file = \"t\"\n")) {
    EXPECT_THAT(error, ::testing::Not(HasSubstr("secret")));
  }
}

TEST(TokenFile, StripsOneLineEnding) {
  std::string path = ::testing::TempDir() + "/xj-token-" + std::to_string(::getpid());
  for (const auto& [content, expected] :
       std::vector<std::pair<std::string, std::string>>{{std::string(kToken), kToken},
                                                        {std::string(kToken) + "\n", kToken},
                                                        {std::string(kToken) + "\r\n", kToken}}) {
    std::ofstream(path) << content;
    ::chmod(path.c_str(), 0600);
    std::string token;
    EXPECT_EQ(read_token_file(path, &token), "");
    EXPECT_EQ(token, expected);
  }
  std::filesystem::remove(path);
}

TEST_F(AgentConfigTest, SyntaxErrorsAndUnreadableFiles) {
  auto result = parse("[agent\n");
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].line, 1);
  EXPECT_FALSE(result.config);
  auto missing = load_agent_config((dir_ / "none.toml").string());
  ASSERT_THAT(missing.errors, SizeIs(1));
  EXPECT_THAT(missing.errors[0].to_string(), HasSubstr("none.toml: cannot read file"));
}

TEST_F(AgentConfigTest, LoadReadsTheFile) {
  write("agent.toml", minimal("server_name = \"h1\""));
  AgentConfigResult result = load_agent_config(config_file());
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config->server_name, "h1");
}

TEST_F(AgentConfigTest, CollectsAllErrorsOfOneFile) {
  std::string text =
      "[agent]\nheartbeat_interval_s = 0\nlog_level = \"loud\"\n"
      "[[broker]]\nurl = \"ftp://b\"\ntoken_file = \"nope\"\n";
  EXPECT_THAT(errors(text), SizeIs(4));
}

TEST(BrokerUrl, ParsesValidForms) {
  struct Case {
    std::string text;
    bool tls;
    std::string host;
    int port;
  };
  for (const Case& c : std::vector<Case>{
           {"https://broker", true, "broker", 443},
           {"https://broker/", true, "broker", 443},
           {"https://broker.example.org:8443", true, "broker.example.org", 8443},
           {"http://127.0.0.1:8080", false, "127.0.0.1", 8080},
           {"http://localhost", false, "localhost", 80},
           {"https://[::1]:1", true, "::1", 1},
           {"https://[::1]", true, "::1", 443},
           {"https://[2001:db8::1]:65535/", true, "2001:db8::1", 65535},
       }) {
    BrokerUrl url;
    EXPECT_EQ(parse_broker_url(c.text, &url), "") << c.text;
    EXPECT_EQ(url.tls, c.tls) << c.text;
    EXPECT_EQ(url.host, c.host) << c.text;
    EXPECT_EQ(url.port, c.port) << c.text;
  }
}

TEST(BrokerUrl, RejectsEverythingElse) {
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"", "must start with https:// or http://"},
           {"broker:443", "must start with"},
           {"HTTPS://broker", "must start with"},
           {"ftp://broker", "must start with"},
           {"https:/broker", "must start with"},
           {"https://", "missing host"},
           {"https://:443", "missing host"},
           {"https://broker/v1/snapshot", "must not have a path"},
           {"https://broker//", "must not have a path"},
           {"https://broker?x=1", "must not have a path, query"},
           {"https://broker#f", "fragment"},
           {"https://user:pw@broker", "user info"},
           {"https://broker:", "port must be"},
           {"https://broker:0", "port must be"},
           {"https://broker:65536", "port must be"},
           {"https://broker:-1", "port must be"},
           {"https://broker:+1", "port must be"},
           {"https://broker:44a", "port must be"},
           {"https://broker: 443", "port must be"},
           {"https://::1", "IPv6 addresses must be in brackets"},
           {"https://[::1", "unterminated"},
           {"https://[::1]x", "unexpected text after ']'"},
           {"https://[not-v6]:443", "not a valid IPv6"},
           {"https://[10.0.0.1]", "not a valid IPv6"},
           {"https://bro ker", "host: not an IP address or valid host name"},
           {"https://-broker", "host:"},
           {"https://10.0.0.256", "host:"},
           {"https://br_oker", "host:"},
       }) {
    BrokerUrl url;
    EXPECT_THAT(parse_broker_url(c.text, &url), HasSubstr(c.error)) << c.text;
  }
}

TEST_F(AgentConfigTest, ReadsHostKeysWithoutComments) {
  std::string good = write("ed.pub", std::string(kEd25519) + " root@x2go-host-1\n");
  std::string commented = write("c.pub", "# a comment\n\n" + std::string(kEd25519) + "\n");
  std::string bad = write("bad.pub", "ssh-ed25519 not-base64!\n");
  std::string empty = write("empty.pub", "");
  std::vector<std::string> problems;
  auto keys =
      read_host_keys({good, commented, bad, empty, (dir_ / "missing.pub").string()}, &problems);
  EXPECT_THAT(keys, ElementsAre(kEd25519, kEd25519));
  ASSERT_THAT(problems, SizeIs(3));
  EXPECT_THAT(problems[0], HasSubstr("bad.pub"));
  EXPECT_THAT(problems[1], HasSubstr("empty.pub"));
  EXPECT_THAT(problems[2], HasSubstr("cannot read host key"));
}

TEST_F(AgentConfigTest, HostKeysAreCapped) {
  std::string key = write("ed.pub", std::string(kEd25519) + "\n");
  std::vector<std::string> problems;
  auto keys = read_host_keys(std::vector<std::string>(9, key), &problems);
  EXPECT_THAT(keys, SizeIs(8));
  EXPECT_THAT(problems, ElementsAre(HasSubstr("more than 8 keys")));
}

TEST(AgentDefaults, UseTheHostNameAndExistingHostKeys) {
  AgentDefaults defaults = system_agent_defaults();
  EXPECT_FALSE(defaults.server_name.empty());
  for (const std::string& file : defaults.host_key_files) {
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_THAT(file, ::testing::EndsWith("_key.pub"));
  }
}

}  // namespace
}  // namespace x2gojump
