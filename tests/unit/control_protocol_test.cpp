// The control socket protocol between x2gojumpctl and the broker.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/admin/ControlProtocol.h"

namespace x2gojump {
namespace {

using ::testing::HasSubstr;

ControlRequest parsed(std::string_view line) {
  ParsedControlRequest result = parse_control_request(line);
  if (!result.request) ADD_FAILURE() << line << ": " << result.error;
  return result.request.value_or(ControlRequest{});
}

std::string error_of(std::string_view line) {
  ParsedControlRequest result = parse_control_request(line);
  EXPECT_FALSE(result.request) << line;
  return result.error;
}

TEST(ControlProtocol, EveryCommandParses) {
  EXPECT_EQ(parsed(R"({"command":"servers"})"), (ControlRequest{ControlCommand::Servers}));
  EXPECT_EQ(parsed(R"({"command":"sessions"})"), (ControlRequest{ControlCommand::Sessions}));
  EXPECT_EQ(parsed(R"({"command":"sessions","user":"alice","server":"b1"})"),
            (ControlRequest{ControlCommand::Sessions, "alice", "b1", ""}));
  EXPECT_EQ(parsed(R"({"command":"explain","user":"alice"})"),
            (ControlRequest{ControlCommand::Explain, "alice", "", ""}));
  EXPECT_EQ(parsed(R"({"from":"10.0.0.1","command":"explain","user":"alice"})"),
            (ControlRequest{ControlCommand::Explain, "alice", "", "10.0.0.1"}));
  EXPECT_EQ(parsed(R"({"command":"drain","server":"b1"})"), (ControlRequest{ControlCommand::Drain, "", "b1", ""}));
  EXPECT_EQ(parsed(R"({"command":"undrain","server":"b1"})"), (ControlRequest{ControlCommand::Undrain, "", "b1", ""}));
  EXPECT_EQ(parsed(R"({"command":"trust-hostkey","server":"b1"})"),
            (ControlRequest{ControlCommand::TrustHostKey, "", "b1", ""}));
}

TEST(ControlProtocol, MalformedRequests) {
  EXPECT_THAT(error_of(""), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of("servers"), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of("[1]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of(R"({"command":"servers"} x)"), HasSubstr("not a JSON object"));
  EXPECT_THAT(error_of("{}"), HasSubstr("\"command\" (a string) is required"));
  EXPECT_THAT(error_of(R"({"command":1})"), HasSubstr("\"command\" (a string) is required"));
  EXPECT_THAT(error_of(R"({"command":"reboot"})"), HasSubstr("unknown command \"reboot\""));
  EXPECT_THAT(error_of(R"({"command":"Servers"})"), HasSubstr("unknown command"));
}

TEST(ControlProtocol, KeysAreCheckedPerCommand) {
  EXPECT_THAT(error_of(R"({"command":"servers","server":"b1"})"), HasSubstr("\"servers\" takes no \"server\""));
  EXPECT_THAT(error_of(R"({"command":"drain","user":"a","server":"b1"})"), HasSubstr("takes no \"user\""));
  EXPECT_THAT(error_of(R"({"command":"sessions","from":"::1"})"), HasSubstr("takes no \"from\""));
  EXPECT_THAT(error_of(R"({"command":"explain"})"), HasSubstr("\"explain\" needs a \"user\""));
  EXPECT_THAT(error_of(R"({"command":"explain","user":""})"), HasSubstr("needs a \"user\""));
  EXPECT_THAT(error_of(R"({"command":"drain"})"), HasSubstr("\"drain\" needs a \"server\""));
  EXPECT_THAT(error_of(R"({"command":"trust-hostkey","server":""})"), HasSubstr("needs a \"server\""));
  EXPECT_THAT(error_of(R"({"command":"drain","server":5})"), HasSubstr("\"server\" must be a string"));
  EXPECT_THAT(error_of(R"({"command":"drain","server":null})"), HasSubstr("must be a string"));
}

TEST(ControlProtocol, ValuesAreBounded) {
  EXPECT_THAT(error_of(R"({"command":"drain","server":"b\u001b[31m"})"), HasSubstr("control character"));
  EXPECT_THAT(error_of(R"({"command":"drain","server":"b\nc"})"), HasSubstr("control character"));
  const std::string long_name(257, 'x');
  EXPECT_THAT(error_of(R"({"command":"drain","server":")" + long_name + "\"}"), HasSubstr("too long"));
  EXPECT_EQ(parsed(R"({"command":"drain","server":")" + std::string(256, 'x') + "\"}").server.size(), 256u);
  // Quoted names in errors never carry control characters to the terminal.
  EXPECT_THAT(error_of(R"({"command":"\u001b]0;x"})"), HasSubstr("unknown command \"?]0;x\""));
}

TEST(ControlProtocol, RequestLinesRoundTrip) {
  for (const ControlRequest& request :
       {ControlRequest{ControlCommand::Servers}, ControlRequest{ControlCommand::Sessions, "bob", "", ""},
        ControlRequest{ControlCommand::Explain, "alice", "", "2001:db8::1"},
        ControlRequest{ControlCommand::TrustHostKey, "", "b-2.example", ""},
        ControlRequest{ControlCommand::Drain, "", "b\"1\\", ""}}) {
    const std::string line = control_request_line(request);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(parsed(line), request) << line;
  }
  EXPECT_EQ(control_request_line({ControlCommand::Explain, "u", "", "1.2.3.4"}),
            R"({"command":"explain","user":"u","from":"1.2.3.4"})");
}

TEST(ControlProtocol, ResponseLines) {
  EXPECT_EQ(control_ok_line(nlohmann::json::object()), R"({"ok":true})");
  auto ok = nlohmann::json::parse(control_ok_line({{"changed", true}, {"server", "b1"}}));
  EXPECT_EQ(ok["ok"], true);
  EXPECT_EQ(ok["changed"], true);
  auto error = nlohmann::json::parse(control_error_line("unknown server \"x\"\n"));
  EXPECT_EQ(error["ok"], false);
  EXPECT_EQ(error["error"], "unknown server \"x\"\n");
  EXPECT_EQ(control_error_line("x").find('\n'), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(control_error_line(std::string("bad \xff utf8"))));
}

}  // namespace
}  // namespace x2gojump
