// The [admin] table of broker.toml.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "broker/config/Config.h"
#include "tests/unit/ConfigText.h"

namespace x2gojump {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A valid configuration followed by admin_table (empty: no [admin] at all); root_keys come first.
ConfigResult parse_with(const std::string& admin_table, const std::string& file = "/etc/x2gojump/broker.toml",
                        const std::string& root_keys = "") {
  return parse_broker_config(root_keys + test::kMinimalBrokerToml + admin_table, file);
}

using test::first_error;

TEST(AdminConfig, AbsentTableMeansNoAdminInterfaces) {
  auto result = parse_with("");
  ASSERT_TRUE(result.config) << first_error(result);
  EXPECT_THAT(result.config->admin.listen, IsEmpty());
  EXPECT_EQ(result.config->admin.control_socket, "");
  EXPECT_EQ(result.config->admin.audit_log, "stdout");
}

TEST(AdminConfig, EmptyTableGivesLoopbackDefaults) {
  auto result = parse_with("[admin]\n");
  ASSERT_TRUE(result.config) << first_error(result);
  const AdminConfig& admin = result.config->admin;
  ASSERT_EQ(admin.listen.size(), 1u);
  EXPECT_EQ(admin.listen[0].host, "127.0.0.1");
  EXPECT_EQ(admin.listen[0].port, 9122);
  EXPECT_EQ(admin.control_socket, "/run/x2gojump/control.sock");
  EXPECT_EQ(admin.control_socket_group, "");
  EXPECT_EQ(admin.audit_log, "stdout");
}

TEST(AdminConfig, EveryKeyIsRead) {
  auto result = parse_with(
      "[admin]\nlisten = [\"127.0.0.1:1\", \"[::1]:2\"]\ncontrol_socket = \"/tmp/x.sock\"\n"
      "control_socket_group = \"x2gojump-admin\"\naudit_log = \"/var/log/x2gojump/audit.log\"\n");
  ASSERT_TRUE(result.config) << first_error(result);
  const AdminConfig& admin = result.config->admin;
  ASSERT_EQ(admin.listen.size(), 2u);
  EXPECT_EQ(admin.listen[1].host, "::1");
  EXPECT_EQ(admin.listen[1].port, 2);
  EXPECT_EQ(admin.control_socket, "/tmp/x.sock");
  EXPECT_EQ(admin.control_socket_group, "x2gojump-admin");
  EXPECT_EQ(admin.audit_log, "/var/log/x2gojump/audit.log");
}

TEST(AdminConfig, EmptyValuesDisable) {
  auto result = parse_with("[admin]\nlisten = []\ncontrol_socket = \"\"\naudit_log = \"\"\n");
  ASSERT_TRUE(result.config) << first_error(result);
  EXPECT_THAT(result.config->admin.listen, IsEmpty());
  EXPECT_EQ(result.config->admin.control_socket, "");
  EXPECT_EQ(result.config->admin.audit_log, "");
}

TEST(AdminConfig, RelativePathsAreTakenFromTheConfigDirectory) {
  auto result = parse_with("[admin]\ncontrol_socket = \"run/c.sock\"\naudit_log = \"../log/a.log\"\n",
                           "/srv/xj/etc/broker.toml");
  ASSERT_TRUE(result.config) << first_error(result);
  EXPECT_EQ(result.config->admin.control_socket, "/srv/xj/etc/run/c.sock");
  EXPECT_EQ(result.config->admin.audit_log, "/srv/xj/log/a.log");
}

TEST(AdminConfig, Errors) {
  EXPECT_THAT(first_error(parse_with("[admin]\ncontrol_socket = \"/" + std::string(120, 'a') + "\"\n")),
              HasSubstr("admin.control_socket: path longer than 107 bytes"));
  EXPECT_THAT(first_error(parse_with("[admin]\ncontrol_socket_group = \"wheel:x\"\n")),
              HasSubstr("admin.control_socket_group: not a valid group name"));
  EXPECT_THAT(first_error(parse_with("[admin]\ncontrol_socket_group = \"-x\"\n")),
              HasSubstr("not a valid group name"));
  EXPECT_THAT(first_error(parse_with("[admin]\nlisten = [\"localhost:9122\"]\n")),
              HasSubstr("admin.listen[0]: not a numeric IPv4 address"));
  EXPECT_THAT(first_error(parse_with("[admin]\nlisten = \"127.0.0.1:1\"\n")), HasSubstr("admin.listen"));
  EXPECT_THAT(first_error(parse_with("[admin]\naudit = \"stdout\"\n")), HasSubstr("admin.audit"));
  EXPECT_THAT(first_error(parse_with("[admin]\naudit_log = 1\n")), HasSubstr("admin.audit_log"));
  EXPECT_THAT(first_error(parse_with("", "b.toml", "admin = 3\n")), HasSubstr("b.toml:1: admin: expected table"));
}

}  // namespace
}  // namespace x2gojump
