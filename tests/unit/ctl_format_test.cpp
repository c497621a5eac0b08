// x2gojumpctl's tables and where it looks for the control socket.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "broker/ctl/CtlFormat.h"
#include "broker/ctl/SocketPath.h"
#include "tests/unit/ScratchDir.h"

namespace x2gojump {
namespace {

using ::testing::HasSubstr;

TEST(CtlFormat, TableColumnsAlign) {
  EXPECT_EQ(format_table({"A", "LONG HEADER", "C"}, {{"xyz", "1", ""}, {"ä", "22", "3"}}),
            "A    LONG HEADER  C\n"
            "xyz  1\n"
            "ä    22           3\n");
}

TEST(CtlFormat, ControlCharactersNeverReachTheTerminal) {
  std::string out = format_table({"X"}, {{"a\x1b[31mb\n"}});
  EXPECT_EQ(out, "X\na?[31mb?\n");
}

TEST(CtlFormat, Servers) {
  auto servers = nlohmann::json::parse(R"([
    {"name":"b1","state":"up","load":0.25,"sessions":{"running":2,"suspended":1},"users":2,
     "max_users":10,"last_report_age_s":4,
     "host_key":{"source":"learned","type":"ssh-ed25519","fingerprint":"SHA256:abc"}},
    {"name":"b2","state":"draining","load":0,"sessions":{"running":0,"suspended":0},"users":0,
     "max_users":0,"last_report_age_s":null,"host_key":{"source":"none"}}])");
  EXPECT_EQ(format_servers(servers),
            "SERVER  STATE     LOAD  SESSIONS  USERS  LAST REPORT  HOST KEY\n"
            "b1      up        0.25  2 R, 1 S  2/10   4s ago       SHA256:abc (learned)\n"
            "b2      draining  0.00  0 R, 0 S  0      never        none\n");
}

TEST(CtlFormat, Sessions) {
  EXPECT_EQ(format_sessions(nlohmann::json::array()), "no sessions\n");
  auto sessions = nlohmann::json::parse(R"([{"server":"b1","user":"alice","session_id":"alice-50-1",
    "status":"S","display":50,"created":1,"last_change":1700000000}])");
  EXPECT_EQ(format_sessions(sessions),
            "SERVER  USER   SESSION     STATUS     DISPLAY  LAST CHANGE (UTC)\n"
            "b1      alice  alice-50-1  suspended  50       2023-11-14 22:13:20\n");
}

TEST(CtlFormat, Change) {
  EXPECT_EQ(format_change({{"server", "b1"}, {"changed", true}, {"message", "draining"}}), "b1: draining\n");
}

class SocketPathTest : public ::testing::Test {
 protected:
  std::string config(const std::string& text) {
    std::ofstream(dir_.file("broker.toml")) << text;
    return dir_.file("broker.toml");
  }
  std::string error_of(const std::string& path) {
    try {
      control_socket_path(path);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  ScratchDir dir_;
};

TEST_F(SocketPathTest, FromTheAdminTable) {
  EXPECT_EQ(control_socket_path(config("[admin]\ncontrol_socket = \"/tmp/a.sock\"\n[ldap]\nx = 1\n")),
            "/tmp/a.sock");
  EXPECT_EQ(control_socket_path(config("[admin]\n")), "/run/x2gojump/control.sock");
  EXPECT_EQ(control_socket_path(config("[admin]\ncontrol_socket = \"run/c.sock\"\n")),
            dir_.file("run/c.sock"));
}

TEST_F(SocketPathTest, MissingFileMeansTheDefault) {
  EXPECT_EQ(control_socket_path(dir_.file("none.toml")), "/run/x2gojump/control.sock");
}

TEST_F(SocketPathTest, ClearErrors) {
  EXPECT_THAT(error_of(config("[broker]\n")), HasSubstr("has no [admin] table"));
  EXPECT_THAT(error_of(config("[admin]\ncontrol_socket = \"\"\n")), HasSubstr("disabled"));
  EXPECT_THAT(error_of(config("[admin\n")), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace x2gojump

namespace x2gojump {
namespace {

nlohmann::json explanation(const std::string& status) {
  return nlohmann::json::parse(R"({"user":"alice","source":"10.0.0.7","status":")" + status + R"(",
    "detail":"","user_dn":"uid=alice,dc=x","groups":["physics","staff"],
    "access":{"restricted":true,"allowed":true,"summary":"physics: allowed by allow_groups physics",
              "servers":["b1","b2"],"resume_outside_pool":false,"pools":[]},
    "sessions":[{"server":"b1","session_id":"alice-50-1","status":"S","last_change":1700000000,"counted":true},
                {"server":"b9","session_id":"alice-51-1","status":"R","last_change":1700000000,"counted":false}],
    "servers":[{"name":"b1","state":"up","load":0,"full":false,"deprioritised":false},
               {"name":"b2","state":"stale","load":0,"full":false,"deprioritised":false}],
    "resume_only":[],"placement":null,
    "candidates":[{"server":"b1","reason":"session-suspended","address":"a","port":22},
                  {"server":"b2","reason":"fallback-source-ip","address":"b","port":22}]})");
}

TEST(CtlFormat, ExplainRanksTheCandidates) {
  EXPECT_EQ(format_explain(explanation("ok")),
            "alice from 10.0.0.7: ok\n"
            "  dn: uid=alice,dc=x\n"
            "  groups: physics, staff\n"
            "  access: physics: allowed by allow_groups physics\n"
            "  sessions:\n"
            "    SERVER  SESSION     STATUS     LAST CHANGE (UTC)\n"
            "    b1      alice-50-1  suspended  2023-11-14 22:13:20\n"
            "    b9      alice-51-1  running    2023-11-14 22:13:20  ignored: outside the user's pools\n"
            "  would try, best first:\n"
            "        SERVER  STATE  REASON\n"
            "    1.  b1      up     session-suspended\n"
            "    2.  b2      stale  fallback-source-ip\n");
}

TEST(CtlFormat, ExplainRefusals) {
  auto refused = explanation("not-authorized");
  refused["detail"] = "no pool allows alice";
  EXPECT_EQ(format_explain(refused),
            "alice from 10.0.0.7: not-authorized (no pool allows alice)\n"
            "  dn: uid=alice,dc=x\n"
            "  groups: physics, staff\n"
            "  access: physics: allowed by allow_groups physics\n");
  auto unknown = explanation("unknown-user");
  unknown["user_dn"] = "";
  unknown["source"] = "";
  EXPECT_EQ(format_explain(unknown), "alice from an unknown address: unknown-user\n");
}

}  // namespace
}  // namespace x2gojump
