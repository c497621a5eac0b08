#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/Snapshot.h"

namespace x2gojump {
namespace {

using Json = nlohmann::ordered_json;

// Real keys (ssh-keygen), so the blob's embedded type name matches the line's type.
const std::string kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINOjte5IEUcGDpokrzMTFL5S7ZHXLWc3UsOBCx81N8jM";
const std::string kRsa =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHTC+1pxKuUTICbCKYqiCN0PVhkIP/3xF0E7ZSGzvyZvEMVyhuML0WlmlamUWB"
    "peicKjzJ3A7B3orhrw/owmy9z6SfQmAvt1iKZwuBEf6Z3d+S76TEqfaqupK7EdZFUFYRwMLyIFiYmsIDIcTW8jIkJjM1sCu9"
    "cLZL9VM7c2B3Cw==";
const std::string kEcdsa256 =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCqtH95jITwjXtfpSimSwJ1ysLh"
    "sSzDsa/tR+K8rg/C2OTzU9kNjrUflitdHpADy2iVWJambIPJlMAgVCioZ0xY=";
const std::string kEcdsa384 =
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBEFr6R3HSm4bpTUWkEwfqiwFZvp"
    "951R2CD7vg0bdQotBJ2Frzi6KMkbZxO/sK7Fld756Sia0qtDyKVgVQtUkh62MtgQwAd0dA92FOcK3mDLhPJJaNUnVbX+KZlEwZ"
    "N97pA==";
const std::string kEcdsa521 =
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBADPVfuou7DkkZsZHqavFWB5PHg"
    "F6W5nB7BhGiEfl8WcZpogaeETqFVD7hG689w7bcjhim6QmXRVDqoMh3FtRBVfTwC7m/cQyZDK2mqrcPhUTPHMw9Kjt9dxriEj6C"
    "EKnRR8yHvIxhFD/2WBPjAv9VkPDbDv1n4HMrRmsSZlLm81/YJ6Ow==";
const std::vector<std::string> kAllKeys = {kEd25519, kRsa, kEcdsa256, kEcdsa384, kEcdsa521};

const std::uint64_t kMaxTime = std::uint64_t{1} << 40;
const std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// The documented example with two sessions and a key, in the documented key order.
Json valid_body() {
  return Json{
      {"version", 1},
      {"server", "x2go-host-1"},
      {"sequence", 42},
      {"generated_at", 1790000000},
      {"load",
       {{"load1", 0.5},
        {"load5", 0.4},
        {"load15", 0.3},
        {"cpus", 2},
        {"mem_total_kb", 24000000},
        {"mem_available_kb", 20000000}}},
      {"sessions", Json::array({{{"session_id", "xjalice-50-1790000000_stRxterm_dp24"},
                                 {"user", "xjalice"},
                                 {"status", "S"},
                                 {"display", 50},
                                 {"created", 1790000000},
                                 {"last_change", 1790000100}},
                                {{"session_id", "xjbob-51-1790000005_stRxterm_dp24"},
                                 {"user", "xjbob"},
                                 {"status", "R"},
                                 {"display", 51},
                                 {"created", 1790000005},
                                 {"last_change", 1790000005}}})},
      {"host_keys", Json::array({kEd25519 + " root@x2go-host-1"})},
  };
}

SnapshotParse parse(const std::string& body, const SnapshotLimits& limits = {}) {
  SnapshotParse result = parse_snapshot(body, limits);
  EXPECT_EQ(result.snapshot.has_value(), result.error.empty()) << result.error;
  for (char c : result.error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable error: " << result.error;
  return result;
}

std::string error_of(const std::string& body, const SnapshotLimits& limits = {}) {
  return parse(body, limits).error;
}

std::string with(const std::string& pointer, const Json& value) {
  Json body = valid_body();
  body[Json::json_pointer(pointer)] = value;
  return body.dump();
}

std::string without(const std::string& parent, const std::string& key) {
  Json body = valid_body();
  body[Json::json_pointer(parent)].erase(key);
  return body.dump();
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.server, b.server);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.generated_at, b.generated_at);
  EXPECT_EQ(a.load.load1, b.load.load1);
  EXPECT_EQ(a.load.load5, b.load.load5);
  EXPECT_EQ(a.load.load15, b.load.load15);
  EXPECT_EQ(a.load.cpus, b.load.cpus);
  EXPECT_EQ(a.load.mem_total_kb, b.load.mem_total_kb);
  EXPECT_EQ(a.load.mem_available_kb, b.load.mem_available_kb);
  ASSERT_EQ(a.sessions.size(), b.sessions.size());
  for (std::size_t i = 0; i < a.sessions.size(); ++i) {
    EXPECT_EQ(a.sessions[i].session_id, b.sessions[i].session_id);
    EXPECT_EQ(a.sessions[i].user, b.sessions[i].user);
    EXPECT_EQ(a.sessions[i].status, b.sessions[i].status);
    EXPECT_EQ(a.sessions[i].display, b.sessions[i].display);
    EXPECT_EQ(a.sessions[i].created, b.sessions[i].created);
    EXPECT_EQ(a.sessions[i].last_change, b.sessions[i].last_change);
  }
  EXPECT_EQ(a.host_keys, b.host_keys);
}

// ---- The valid example ----

TEST(ParseSnapshot, ReadsEveryFieldOfTheDocumentedExample) {
  SnapshotParse result = parse(valid_body().dump());
  ASSERT_TRUE(result.snapshot) << result.error;
  const Snapshot& s = *result.snapshot;
  EXPECT_EQ(s.server, "x2go-host-1");
  EXPECT_EQ(s.sequence, 42u);
  EXPECT_EQ(s.generated_at, 1790000000);
  EXPECT_EQ(s.load.load1, 0.5);
  EXPECT_EQ(s.load.load5, 0.4);
  EXPECT_EQ(s.load.load15, 0.3);
  EXPECT_EQ(s.load.cpus, 2);
  EXPECT_EQ(s.load.mem_total_kb, 24000000u);
  EXPECT_EQ(s.load.mem_available_kb, 20000000u);
  ASSERT_EQ(s.sessions.size(), 2u);
  EXPECT_EQ(s.sessions[0].session_id, "xjalice-50-1790000000_stRxterm_dp24");
  EXPECT_EQ(s.sessions[0].user, "xjalice");
  EXPECT_EQ(s.sessions[0].status, 'S');
  EXPECT_EQ(s.sessions[0].display, 50);
  EXPECT_EQ(s.sessions[0].created, 1790000000);
  EXPECT_EQ(s.sessions[0].last_change, 1790000100);
  EXPECT_EQ(s.sessions[1].status, 'R');
  EXPECT_EQ(s.sessions[1].user, "xjbob");
  EXPECT_EQ(s.host_keys, std::vector<std::string>{kEd25519 + " root@x2go-host-1"});
}

TEST(ParseSnapshot, KeyOrderAndWhitespaceDoNotMatter) {
  Json reversed;
  Json body = valid_body();
  std::vector<std::string> keys;
  for (auto& [k, v] : body.items()) keys.push_back(k);
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) reversed[*it] = body[*it];
  SnapshotParse a = parse(reversed.dump(4));
  ASSERT_TRUE(a.snapshot) << a.error;
  expect_same(*a.snapshot, *parse(body.dump()).snapshot);
  EXPECT_TRUE(parse(" \n\t" + body.dump() + "\r\n ").snapshot);
}

TEST(ParseSnapshot, EmptySessionsAndHostKeysAreValid) {
  Json body = valid_body();
  body["sessions"] = Json::array();
  body["host_keys"] = Json::array();
  SnapshotParse result = parse(body.dump());
  ASSERT_TRUE(result.snapshot) << result.error;
  EXPECT_TRUE(result.snapshot->sessions.empty());
  EXPECT_TRUE(result.snapshot->host_keys.empty());
}

TEST(ParseSnapshot, DecodesJsonEscapes) {
  // Written by hand: nlohmann would escape the backslash.
  std::string body = valid_body().dump();
  body.replace(body.find("\"x2go-host-1\""), 13, "\"x2go\\u002dhost-1\"");
  SnapshotParse result = parse(body);
  ASSERT_TRUE(result.snapshot) << result.error;
  EXPECT_EQ(result.snapshot->server, "x2go-host-1");
}

// ---- Field values: accepted boundaries ----

struct Accepted {
  std::string pointer;
  Json value;
};

TEST(ParseSnapshot, AcceptsEveryBoundaryValue) {
  const std::vector<Accepted> cases = {
      {"/server", "a"},
      {"/server", std::string(64, 'x')},
      {"/server", "-._09AZaz"},
      {"/sequence", 1},
      {"/sequence", kMaxU64},
      {"/generated_at", 0},
      {"/generated_at", kMaxTime},
      {"/load/load1", 0},
      {"/load/load1", 0.0},
      {"/load/load1", 10000},
      {"/load/load1", 10000.0},
      {"/load/load5", 1e-300},
      {"/load/load15", 3},
      {"/load/cpus", 1},
      {"/load/cpus", 4096},
      {"/load/mem_available_kb", 24000000},
      {"/load/mem_available_kb", 0},
      {"/sessions/0/session_id", "x"},
      {"/sessions/0/session_id", std::string(512, 'x')},
      {"/sessions/0/session_id", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{}~"},
      {"/sessions/0/user", "a"},
      {"/sessions/0/user", std::string(32, 'u')},
      {"/sessions/0/user", "_svc"},
      {"/sessions/0/user", "a-."},
      {"/sessions/0/user", "9lives"},
      {"/sessions/0/status", "R"},
      {"/sessions/0/status", "S"},
      {"/sessions/0/display", 0},
      {"/sessions/0/display", 65535},
      {"/sessions/0/created", 0},
      {"/sessions/0/created", kMaxTime},
      {"/sessions/0/last_change", 0},
      {"/sessions/0/last_change", kMaxTime},
  };
  for (const Accepted& c : cases) {
    SCOPED_TRACE(c.pointer + " = " + c.value.dump());
    SnapshotParse result = parse(with(c.pointer, c.value));
    ASSERT_TRUE(result.snapshot) << result.error;
    // Each accepted value must arrive unchanged: serialise back and compare the field.
    Json again = Json::parse(to_json(*result.snapshot));
    EXPECT_EQ(again[Json::json_pointer(c.pointer)], c.value);
  }
}

TEST(ParseSnapshot, AcceptsMemoryFiguresUpToUint64Max) {
  Json body = valid_body();
  body["load"]["mem_total_kb"] = kMaxU64;
  body["load"]["mem_available_kb"] = kMaxU64;
  SnapshotParse result = parse(body.dump());
  ASSERT_TRUE(result.snapshot) << result.error;
  EXPECT_EQ(result.snapshot->load.mem_total_kb, kMaxU64);
  body["load"]["mem_total_kb"] = 0;
  body["load"]["mem_available_kb"] = 0;
  EXPECT_TRUE(parse(body.dump()).snapshot);
}

TEST(ParseSnapshot, AcceptsEveryHostKeyTypeWithAndWithoutComment) {
  for (const std::string& key : kAllKeys) {
    for (const std::string& comment : {std::string(), std::string(" root@x2go-host-1"),
                                       std::string(" a comment with spaces"),
                                       std::string(" r\xc3\xb6\xc3\xb6t@h\xc3\xb6st")}) {
      SCOPED_TRACE(key + comment);
      SnapshotParse result = parse(with("/host_keys/0", key + comment));
      ASSERT_TRUE(result.snapshot) << result.error;
      EXPECT_EQ(result.snapshot->host_keys[0], key + comment);
    }
  }
}

TEST(ParseSnapshot, AcceptsHostKeyLineOfExactly16KiB) {
  std::string line = kEd25519 + " ";
  line += std::string(16 * 1024 - line.size(), 'c');
  EXPECT_TRUE(parse(with("/host_keys/0", line)).snapshot);
  EXPECT_NE(error_of(with("/host_keys/0", line + "c")).find("host_keys[0] must be an OpenSSH"),
            std::string::npos);
}

// ---- Field values: rejected ----

struct Rejected {
  std::string pointer;
  Json value;
  std::string error;  // a substring the error must contain
};

TEST(ParseSnapshot, RejectsEveryBadFieldValueNamingTheField) {
  const std::string kSequence = "sequence must be an integer in 1..18446744073709551615";
  const std::string kGenerated = "generated_at must be an integer in 0..1099511627776";
  const std::string kCpus = "load.cpus must be an integer in 1..4096";
  const std::string kDisplay = "sessions[0].display must be an integer in 0..65535";
  const std::string kStatus = "sessions[0].status must be \"R\" or \"S\"";
  const std::string kUser = "sessions[0].user must be 1..32 bytes";
  const std::string kId = "sessions[1].session_id must be 1..512 bytes";
  const std::string kKey = "host_keys[0] must be an OpenSSH public key line";
  std::vector<Rejected> cases = {
      {"/version", 2, "unsupported version 2"},
      {"/version", 0, "unsupported version 0"},
      {"/version", -1, "unsupported version -1"},
      {"/version", kMaxU64, "unsupported version 18446744073709551615"},
      {"/version", "1", "version must be an integer"},
      {"/version", 1.0, "version must be an integer"},
      {"/version", nullptr, "version must be an integer"},
      {"/version", true, "version must be an integer"},
      {"/version", Json::array({1}), "version must be an integer"},
      {"/version", Json::object(), "version must be an integer"},
      {"/server", "", "server must be 1..64 bytes of [A-Za-z0-9._-]"},
      {"/server", std::string(65, 'x'), "server must be 1..64 bytes"},
      {"/server", "x2go host", "server must be 1..64"},
      {"/server", "x2go/host", "server must be 1..64"},
      {"/server", "h\xc3\xb6st", "server must be 1..64"},
      {"/server", std::string("a\0b", 3), "server must be 1..64"},
      {"/server", "a\n", "server must be 1..64"},
      {"/server", 5, "server must be a string"},
      {"/server", nullptr, "server must be a string"},
      {"/server", Json::array({"x"}), "server must be a string"},
      {"/sequence", 0, kSequence},
      {"/sequence", -1, kSequence},
      {"/sequence", std::numeric_limits<std::int64_t>::min(), kSequence},
      {"/sequence", 1.5, kSequence},
      {"/sequence", 42.0, kSequence},
      {"/sequence", 1.8446744073709552e19, kSequence},
      {"/sequence", "42", kSequence},
      {"/sequence", nullptr, kSequence},
      {"/sequence", true, kSequence},
      {"/generated_at", -1, kGenerated},
      {"/generated_at", kMaxTime + 1, kGenerated},
      {"/generated_at", kMaxU64, kGenerated},
      {"/generated_at", 1.0, kGenerated},
      {"/generated_at", "1790000000", kGenerated},
      {"/load", Json::array(), "load must be an object"},
      {"/load", 1, "load must be an object"},
      {"/load", nullptr, "load must be an object"},
      {"/load/cpus", 0, kCpus},
      {"/load/cpus", 4097, kCpus},
      {"/load/cpus", -2, kCpus},
      {"/load/cpus", 2.0, kCpus},
      {"/load/cpus", "2", kCpus},
      {"/load/mem_total_kb", -1, "load.mem_total_kb must be an integer in 0..18446744073709551615"},
      {"/load/mem_total_kb", 1.5, "load.mem_total_kb must be an integer"},
      {"/load/mem_total_kb", "1", "load.mem_total_kb must be an integer"},
      {"/load/mem_available_kb", -1, "load.mem_available_kb must be an integer"},
      {"/load/mem_available_kb", 24000001, "load.mem_available_kb must not exceed load.mem_total_kb"},
      {"/sessions", Json::object(), "sessions must be an array"},
      {"/sessions", "x", "sessions must be an array"},
      {"/sessions", nullptr, "sessions must be an array"},
      {"/sessions/0", 1, "sessions[0] must be an object"},
      {"/sessions/0", Json::array(), "sessions[0] must be an object"},
      {"/sessions/1", nullptr, "sessions[1] must be an object"},
      {"/sessions/1", "xjalice-50", "sessions[1] must be an object"},
      {"/sessions/1/session_id", "", kId},
      {"/sessions/1/session_id", std::string(513, 'x'), kId},
      {"/sessions/1/session_id", "a|b", kId},
      {"/sessions/1/session_id", "a b", kId},
      {"/sessions/1/session_id", "a\tb", kId},
      {"/sessions/1/session_id", "ab\n", kId},
      {"/sessions/1/session_id", "a\x7f", kId},
      {"/sessions/1/session_id", std::string("a\0", 2), kId},
      {"/sessions/1/session_id", "s\xc3\xbc", kId},
      {"/sessions/1/session_id", 5, "sessions[1].session_id must be a string"},
      {"/sessions/1/session_id", nullptr, "sessions[1].session_id must be a string"},
      {"/sessions/0/user", "", kUser},
      {"/sessions/0/user", std::string(33, 'u'), kUser},
      {"/sessions/0/user", "-alice", kUser},
      {"/sessions/0/user", ".alice", kUser},
      {"/sessions/0/user", "al ice", kUser},
      {"/sessions/0/user", "al*ce", kUser},
      {"/sessions/0/user", ")(uid=*", kUser},
      {"/sessions/0/user", "alice@example.org", kUser},
      {"/sessions/0/user", "j\xc3\xbcrgen", kUser},
      {"/sessions/0/user", "../etc", kUser},
      {"/sessions/0/user", 1000, "sessions[0].user must be a string"},
      {"/sessions/0/status", "r", kStatus},
      {"/sessions/0/status", "s", kStatus},
      {"/sessions/0/status", "RS", kStatus},
      {"/sessions/0/status", "", kStatus},
      {"/sessions/0/status", "X", kStatus},
      {"/sessions/0/status", " R", kStatus},
      {"/sessions/0/status", 82, kStatus},
      {"/sessions/0/status", nullptr, kStatus},
      {"/sessions/0/status", true, kStatus},
      {"/sessions/0/display", -1, kDisplay},
      {"/sessions/0/display", 65536, kDisplay},
      {"/sessions/0/display", 50.0, kDisplay},
      {"/sessions/0/display", "50", kDisplay},
      {"/sessions/0/created", -1, "sessions[0].created must be an integer in 0..1099511627776"},
      {"/sessions/0/created", kMaxTime + 1, "sessions[0].created must be an integer"},
      {"/sessions/0/created", 1.0, "sessions[0].created must be an integer"},
      {"/sessions/1/last_change", -5, "sessions[1].last_change must be an integer in 0..1099511627776"},
      {"/sessions/1/last_change", kMaxTime + 1, "sessions[1].last_change must be an integer"},
      {"/host_keys", Json::object(), "host_keys must be an array"},
      {"/host_keys", kEd25519, "host_keys must be an array"},
      {"/host_keys/0", 5, "host_keys[0] must be a string"},
      {"/host_keys/0", nullptr, "host_keys[0] must be a string"},
      {"/host_keys/0", Json::array({kEd25519}), "host_keys[0] must be a string"},
      {"/host_keys/1", Json::object(), "host_keys[1] must be a string"},
      {"/host_keys/0", "", kKey},
      {"/host_keys/0", "ssh-ed25519", kKey},
      {"/host_keys/0", "ssh-ed25519 ", kKey},
      {"/host_keys/0", kEd25519 + " ", kKey},
      {"/host_keys/0", kEd25519 + " comment\n", kKey},
      {"/host_keys/0", kEd25519 + " com\tment", kKey},
      {"/host_keys/0", kEd25519 + " comment\x7f", kKey},
      {"/host_keys/0", kEd25519 + "\n", kKey},
      {"/host_keys/0", " " + kEd25519, kKey},
      {"/host_keys/0", "SSH-ED25519" + kEd25519.substr(11), kKey},
      {"/host_keys/0", "ssh-ed25519  " + kEd25519.substr(12), kKey},
      {"/host_keys/0", "ssh-ed25519\t" + kEd25519.substr(12), kKey},
      {"/host_keys/0", "ssh-dss" + kEd25519.substr(11), kKey},
      {"/host_keys/0", "ssh-ed448" + kEd25519.substr(11), kKey},
      {"/host_keys/0", "ssh-ed25519 AAAA", kKey},
      {"/host_keys/0", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", kKey},   // the type name, no key
      {"/host_keys/0", "ssh-ed25519 AAAAC3NzaC1lZDI1NTU=", kKey},   // a different name
      {"/host_keys/0", "ssh-rsa" + kEd25519.substr(11), kKey},      // blob says ssh-ed25519
      {"/host_keys/0", "ssh-ed25519" + kRsa.substr(7), kKey},       // blob says ssh-rsa
      {"/host_keys/0", "ecdsa-sha2-nistp384" + kEcdsa256.substr(19), kKey},
      {"/host_keys/0", kEd25519.substr(0, kEd25519.size() - 1), kKey},  // length not a multiple of 4
      {"/host_keys/0", kEd25519 + "=", kKey},
      {"/host_keys/0", kEd25519.substr(0, 40) + "*" + kEd25519.substr(41), kKey},
      {"/host_keys/0", kRsa.substr(0, kRsa.size() - 4) + "C=w=", kKey},   // '=' not only at the end
      {"/host_keys/0", kRsa.substr(0, kRsa.size() - 4) + "A===", kKey},
      {"/host_keys/0", "ssh-ed25519 ====", kKey},
  };
  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.pointer + " = " + c.value.dump(-1, ' ', true));
    std::string error = error_of(with(c.pointer, c.value));
    EXPECT_NE(error.find(c.error), std::string::npos) << "error was: " << error;
  }
}

TEST(ParseSnapshot, RejectsLoadAveragesOutsideZeroTo10000) {
  for (const char* field : {"load1", "load5", "load15"}) {
    const std::string expected = "load." + std::string(field) + " must be a number in 0..10000";
    for (const Json& value : {Json(-0.001), Json(-1), Json(10000.001), Json(10001), Json(1e300), Json("0.5"),
                              Json(nullptr), Json(true), Json::array(), Json::object()}) {
      SCOPED_TRACE(std::string(field) + " = " + value.dump());
      std::string error = error_of(with("/load/" + std::string(field), value));
      EXPECT_NE(error.find(expected), std::string::npos) << "error was: " << error;
    }
  }
}

TEST(ParseSnapshot, RejectsNumbersBeyondDoubleRangeAsInvalidJson) {
  std::string body = valid_body().dump();
  body.replace(body.find("0.5"), 3, "1e400");
  EXPECT_NE(error_of(body).find("invalid JSON"), std::string::npos);
}

// ---- Keys ----

TEST(ParseSnapshot, RejectsEachMissingKeyNamingIt) {
  for (const char* key : {"version", "server", "sequence", "generated_at", "load", "sessions", "host_keys"}) {
    EXPECT_EQ(error_of(without("", key)), "missing key \"" + std::string(key) + "\" in snapshot");
  }
  for (const char* key : {"load1", "load5", "load15", "cpus", "mem_total_kb", "mem_available_kb"}) {
    EXPECT_EQ(error_of(without("/load", key)), "missing key \"" + std::string(key) + "\" in load");
  }
  for (const char* key : {"session_id", "user", "status", "display", "created", "last_change"}) {
    EXPECT_EQ(error_of(without("/sessions/1", key)), "missing key \"" + std::string(key) + "\" in sessions[1]");
  }
}

TEST(ParseSnapshot, RejectsUnknownKeysNamingThem) {
  EXPECT_EQ(error_of(with("/extra", 1)), "unknown key \"extra\" in snapshot");
  EXPECT_EQ(error_of(with("/Version", 1)), "unknown key \"Version\" in snapshot");
  EXPECT_EQ(error_of(with("/load/load2", 1)), "unknown key \"load2\" in load");
  EXPECT_EQ(error_of(with("/sessions/1/pid", 1)), "unknown key \"pid\" in sessions[1]");
  EXPECT_EQ(error_of(with("/sessions/0/x", Json::object({{"a", {1, 2}}}))), "unknown key \"x\" in sessions[0]");
  EXPECT_EQ(error_of(with("/", 1)), "unknown key \"\" in snapshot");
}

TEST(ParseSnapshot, UnknownKeyInErrorIsMadePrintableAndShort) {
  std::string error = error_of(with("/sessions/0/a\x01\xc3\xbc" + std::string(100, 'k'), 1));
  EXPECT_EQ(error.rfind("unknown key \"a???kkk", 0), 0u) << error;
  EXPECT_LT(error.size(), 120u);
}

TEST(ParseSnapshot, RejectsDuplicateKeysAtEveryLevel) {
  std::string body = valid_body().dump();
  std::string top = body;
  top.insert(1, "\"server\":\"other\",");
  EXPECT_EQ(error_of(top), "duplicate key \"server\" in snapshot");
  std::string load = body;
  load.insert(load.find("\"load\":{") + 8, "\"cpus\":64,");
  EXPECT_EQ(error_of(load), "duplicate key \"cpus\" in load");
  std::string session = body;
  session.insert(session.find("{\"session_id\"") + 1, "\"user\":\"mallory\",");
  EXPECT_EQ(error_of(session), "duplicate key \"user\" in sessions[0]");
  std::string version = body;
  version.insert(version.size() - 1, ",\"version\":1");
  EXPECT_EQ(error_of(version), "duplicate key \"version\" in snapshot");
}

// ---- Version first ----

TEST(ParseSnapshot, ReportsUnsupportedVersionWhereverItAppears) {
  EXPECT_EQ(error_of(R"({"version":2})"), "unsupported version 2");
  EXPECT_EQ(error_of(R"({"color":"blue","version":2,"server":"x"})"), "unsupported version 2");
  EXPECT_EQ(error_of(R"({"server":"","sequence":-5,"version":3})"), "unsupported version 3");
  EXPECT_EQ(error_of(R"({"extra":{"a":[1,{"version":9},[[2]]]},"version":7})"), "unsupported version 7");
  Json body = valid_body();
  body.erase("version");
  body["load"]["gpu"] = 1;
  body["version"] = 2;
  EXPECT_EQ(error_of(body.dump()), "unsupported version 2");
}

TEST(ParseSnapshot, KeepsTheFirstErrorWhenVersionIsOneOrUnusable) {
  EXPECT_EQ(error_of(R"({"extra":1,"version":1})"), "unknown key \"extra\" in snapshot");
  EXPECT_EQ(error_of(R"({"extra":1,"version":"2"})"), "unknown key \"extra\" in snapshot");
  EXPECT_EQ(error_of(R"({"extra":1})"), "unknown key \"extra\" in snapshot");
  EXPECT_EQ(error_of(R"({"server":5,"version":1.0})"), "server must be a string");
  // Only the top-level "version" counts.
  EXPECT_EQ(error_of(R"({"extra":{"version":2}})"), "unknown key \"extra\" in snapshot");
}

TEST(ParseSnapshot, StopsSkippingBeyondDepthEightBeforeFindingVersion) {
  std::string deep = R"({"extra":)" + std::string(20, '[') + std::string(20, ']') + R"(,"version":2})";
  EXPECT_EQ(error_of(deep), "unknown key \"extra\" in snapshot");
  std::string shallow = R"({"extra":)" + std::string(7, '[') + std::string(7, ']') + R"(,"version":2})";
  EXPECT_EQ(error_of(shallow), "unsupported version 2");
}

// ---- Whole-body shape ----

TEST(ParseSnapshot, RejectsBodiesThatAreNotAnObject) {
  for (const char* body : {"[]", "[{}]", "1", "\"x\"", "null", "true", "{}x"}) {
    SCOPED_TRACE(body);
    EXPECT_FALSE(parse(body).snapshot);
  }
  EXPECT_EQ(error_of("[]"), "body must be a JSON object");
  EXPECT_EQ(error_of("42"), "body must be a JSON object");
  EXPECT_EQ(error_of("{}"), "missing key \"version\" in snapshot");
  EXPECT_EQ(error_of(R"({"version":1})"), "missing key \"server\" in snapshot");
  EXPECT_EQ(error_of("").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of(" \n ").rfind("invalid JSON: ", 0), 0u);
}

TEST(ParseSnapshot, RejectsMalformedJson) {
  const std::string body = valid_body().dump();
  const std::vector<std::string> malformed = {
      body + "x",
      body + "{}",
      body + ",",
      body + body,
      "/* agent */" + body,
      body.substr(0, body.size() - 1),
      body.substr(0, body.size() / 2),
      "{'version':1}",
      R"({"version":1,})",
      R"({"version":01})",
      R"({"version":NaN})",
      R"({"version":Infinity})",
      std::string("{\"version\":1\0}", 14),
      "\xef\xbb\xbf\xef\xbb\xbf" + body,
  };
  for (const std::string& m : malformed) {
    SCOPED_TRACE(m);
    std::string error = error_of(m);
    EXPECT_FALSE(error.empty());
  }
  EXPECT_EQ(error_of(body + "x").rfind("invalid JSON: ", 0), 0u);
}

TEST(ParseSnapshot, RejectsInvalidUtf8AnywhereInTheBody) {
  const std::string body = valid_body().dump();
  const std::vector<std::string> bad_bytes = {
      "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3", "\x80", "\xfe"};
  for (const std::string& bad : bad_bytes) {
    for (const std::string& anchor : {std::string("xjalice-50"), std::string("root@"), std::string("x2go-host-1")}) {
      std::string m = body;
      m.insert(m.find(anchor) + 2, bad);
      SCOPED_TRACE(anchor);
      EXPECT_EQ(error_of(m).rfind("invalid JSON: ", 0), 0u);
    }
    std::string key = body;
    key.insert(key.find("\"cpus\"") + 2, bad);
    EXPECT_EQ(error_of(key).rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(error_of(bad + body).rfind("invalid JSON: ", 0), 0u);
  }
}

TEST(ParseSnapshot, RejectsLoneSurrogateEscapes) {
  std::string body = valid_body().dump();
  body.replace(body.find("xjalice-50"), 1, "\\ud800");
  EXPECT_EQ(error_of(body).rfind("invalid JSON: ", 0), 0u);
}

TEST(ParseSnapshot, RejectsEscapedControlCharactersInIdentifiers) {
  std::string body = valid_body().dump();
  body.replace(body.find("xjbob-51"), 1, "\\u0000");
  EXPECT_NE(error_of(body).find("sessions[1].session_id"), std::string::npos);
  body = valid_body().dump();
  body.replace(body.find("\"xjalice\""), 9, "\"xj\\nalice\"");
  EXPECT_NE(error_of(body).find("sessions[0].user"), std::string::npos);
}

TEST(ParseSnapshot, RefusesDeepNestingCheaply) {
  const std::size_t depth = 4'000'000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of(std::string(depth, '[')), "body must be a JSON object");
  EXPECT_EQ(error_of(R"({"version":1,"load":)" + std::string(depth, '[')), "load must be an object");
  EXPECT_EQ(error_of(R"({"version":1,"sessions":[)" + std::string(depth, '[')), "sessions[0] must be an object");
  EXPECT_EQ(error_of(R"({"version":1,"sessions":[{"user":)" + std::string(depth, '{')),
            "sessions[0].user must be a string");
  EXPECT_EQ(error_of(R"({"x":)" + std::string(depth, '[')), "unknown key \"x\" in snapshot");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_EQ(error_of(R"({"x":)" + objects), "unknown key \"x\" in snapshot");
  // Each is refused at the first bracket beyond what the schema (or skipping) allows.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ParseSnapshot, RefusesBodiesOver8MiBWithoutParsing) {
  std::string body = valid_body().dump();
  body += std::string(8 * 1024 * 1024 - body.size(), ' ');
  EXPECT_TRUE(parse(body).snapshot);
  body += ' ';
  EXPECT_EQ(error_of(body), "body too large (max 8388608 bytes)");
  EXPECT_EQ(error_of(std::string(8 * 1024 * 1024 + 1, '[')), "body too large (max 8388608 bytes)");
}

// ---- Limits and cross-field rules ----

TEST(ParseSnapshot, EnforcesSessionCountLimit) {
  SnapshotLimits limits;
  limits.max_sessions = 2;
  EXPECT_TRUE(parse(valid_body().dump(), limits).snapshot);
  limits.max_sessions = 1;
  EXPECT_EQ(error_of(valid_body().dump(), limits), "too many sessions (max 1)");
  limits.max_sessions = 0;
  EXPECT_EQ(error_of(valid_body().dump(), limits), "too many sessions (max 0)");
}

TEST(ParseSnapshot, DefaultLimitAllows10000Sessions) {
  Json body = valid_body();
  Json sessions = Json::array();
  for (int i = 0; i < 10001; ++i) {
    sessions.push_back({{"session_id", "s" + std::to_string(i)}, {"user", "u"}, {"status", "R"},
                        {"display", i % 65536}, {"created", 0}, {"last_change", 0}});
  }
  body["sessions"] = sessions;
  EXPECT_EQ(error_of(body.dump()), "too many sessions (max 10000)");
  body["sessions"].erase(10000);
  SnapshotParse result = parse(body.dump());
  ASSERT_TRUE(result.snapshot) << result.error;
  EXPECT_EQ(result.snapshot->sessions.size(), 10000u);
}

TEST(ParseSnapshot, EnforcesHostKeyCountLimit) {
  Json body = valid_body();
  body["host_keys"] = Json::array();
  for (int i = 0; i < 8; ++i) body["host_keys"].push_back(kAllKeys[i % kAllKeys.size()]);
  EXPECT_TRUE(parse(body.dump()).snapshot);
  body["host_keys"].push_back(kEd25519);
  EXPECT_EQ(error_of(body.dump()), "too many host_keys (max 8)");
  SnapshotLimits limits;
  limits.max_host_keys = 0;
  EXPECT_EQ(error_of(valid_body().dump(), limits), "too many host_keys (max 0)");
}

TEST(ParseSnapshot, SessionIdLengthFollowsMaxStringBytes) {
  SnapshotLimits limits;
  limits.max_string_bytes = 8;
  Json body = valid_body();
  body["sessions"][0]["session_id"] = "12345678";
  body["sessions"][1]["session_id"] = "!";
  EXPECT_TRUE(parse(body.dump(), limits).snapshot);
  EXPECT_EQ(error_of(with("/sessions/0/session_id", "123456789"), limits).rfind("sessions[0].session_id must be 1..8 bytes", 0),
            0u);
}

TEST(ParseSnapshot, RejectsDuplicateSessionIds) {
  std::string error = error_of(with("/sessions/1/session_id", "xjalice-50-1790000000_stRxterm_dp24"));
  EXPECT_EQ(error, "duplicate session_id \"xjalice-50-1790000000_stRxterm_dp24\"");
  // Ids differing only in case are distinct X2Go sessions.
  EXPECT_TRUE(parse(with("/sessions/1/session_id", "XJALICE-50-1790000000_stRxterm_dp24")).snapshot);
}

TEST(ParseSnapshot, MemoryAvailableMayEqualButNotExceedTotal) {
  Json body = valid_body();
  body["load"]["mem_total_kb"] = 0;
  body["load"]["mem_available_kb"] = 1;
  EXPECT_EQ(error_of(body.dump()), "load.mem_available_kb must not exceed load.mem_total_kb");
  body["load"]["mem_available_kb"] = 0;
  EXPECT_TRUE(parse(body.dump()).snapshot);
}

TEST(ParseSnapshot, NeverThrowsOnMutatedBodies) {
  const std::string body = valid_body().dump();
  static constexpr char kAlphabet[] = "{}[]\",:0123456789-.eE+ \\utfnarlsRS\x00\xff\xc3";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);  // keeps the NUL
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string m = body;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      std::size_t at = rng() % m.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: m[at] = c; break;
        case 1: m.insert(at, 1, c); break;
        default: m.erase(at, 1); break;
      }
    }
    SnapshotParse result;
    ASSERT_NO_THROW(result = parse_snapshot(m));
    ASSERT_EQ(result.snapshot.has_value(), result.error.empty());
    if (result.snapshot) {
      ++accepted;
      SnapshotParse again = parse_snapshot(to_json(*result.snapshot));
      ASSERT_TRUE(again.snapshot) << again.error << " for " << m;
      expect_same(*result.snapshot, *again.snapshot);
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (digits in values) stay valid, exercising the round trip
}

// ---- to_json ----

Snapshot example_snapshot() {
  Snapshot s;
  s.server = "x2go-host-1";
  s.sequence = 42;
  s.generated_at = 1790000000;
  s.load = {0.5, 0.4, 0.3, 2, 24000000, 20000000};
  s.sessions.push_back({"xjalice-50-1790000000_stRxterm_dp24", "xjalice", 'S', 50, 1790000000, 1790000100});
  s.host_keys.push_back(kEd25519 + " comment");
  return s;
}

TEST(ToJson, ProducesExactlyTheDocumentedFormat) {
  EXPECT_EQ(to_json(example_snapshot()),
            R"({"version":1,"server":"x2go-host-1","sequence":42,"generated_at":1790000000,)"
            R"("load":{"load1":0.5,"load5":0.4,"load15":0.3,"cpus":2,"mem_total_kb":24000000,)"
            R"("mem_available_kb":20000000},"sessions":[{"session_id":"xjalice-50-1790000000_stRxterm_dp24",)"
            R"("user":"xjalice","status":"S","display":50,"created":1790000000,"last_change":1790000100}],)"
            R"("host_keys":[")" +
                kEd25519 + R"( comment"]})");
}

TEST(ToJson, EmptyListsAreEmptyArrays) {
  Snapshot s = example_snapshot();
  s.sessions.clear();
  s.host_keys.clear();
  std::string json = to_json(s);
  EXPECT_NE(json.find(R"("sessions":[],"host_keys":[]})"), std::string::npos) << json;
}

TEST(ToJson, DoesNotThrowOnInvalidDataAndTheResultIsRejected) {
  Snapshot s = example_snapshot();
  s.server = "\xff";
  std::string json;
  ASSERT_NO_THROW(json = to_json(s));
  EXPECT_EQ(error_of(json), "server must be 1..64 bytes of [A-Za-z0-9._-]");
  s = example_snapshot();
  s.load.load1 = std::nan("");
  EXPECT_EQ(error_of(to_json(s)), "load.load1 must be a number in 0..10000");
  s = example_snapshot();
  s.load.load5 = std::numeric_limits<double>::infinity();
  EXPECT_EQ(error_of(to_json(s)), "load.load5 must be a number in 0..10000");
  s = example_snapshot();
  s.sessions[0].status = 'X';
  EXPECT_EQ(error_of(to_json(s)), "sessions[0].status must be \"R\" or \"S\"");
  s = example_snapshot();
  s.sessions[0].created = -1;
  EXPECT_NE(error_of(to_json(s)).find("sessions[0].created"), std::string::npos);
}

// A random snapshot within every documented range, with edge values mixed in often.
Snapshot random_snapshot(std::mt19937_64& rng) {
  auto pick = [&](std::uint64_t lo, std::uint64_t hi) {
    switch (rng() % 4) {
      case 0: return lo;
      case 1: return hi;
      default: return lo + (hi == kMaxU64 && lo == 0 ? rng() : rng() % (hi - lo + 1));
    }
  };
  auto text = [&](std::string_view alphabet, std::size_t min, std::size_t max) {
    std::string s(pick(min, max), ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  const std::string name = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
  std::string printable;
  for (char c = 0x21; c < 0x7f; ++c) {
    if (c != '|') printable += c;
  }
  auto load_average = [&]() -> double {
    switch (rng() % 4) {
      case 0: return 0;
      case 1: return 10000;
      case 2: return static_cast<double>(rng() % 1000) / 100;
      default: return std::uniform_real_distribution<double>(0, 10000)(rng);
    }
  };

  Snapshot s;
  s.server = text(name, 1, 64);
  s.sequence = pick(1, kMaxU64);
  s.generated_at = static_cast<std::int64_t>(pick(0, kMaxTime));
  s.load.load1 = load_average();
  s.load.load5 = load_average();
  s.load.load15 = load_average();
  s.load.cpus = static_cast<int>(pick(1, 4096));
  s.load.mem_total_kb = pick(0, kMaxU64);
  s.load.mem_available_kb = pick(0, s.load.mem_total_kb);
  std::size_t sessions = rng() % 20;
  for (std::size_t i = 0; i < sessions; ++i) {
    SnapshotSession session;
    session.session_id = text(printable, 1, 500) + "#" + std::to_string(i);  // unique
    session.user = text(name.substr(0, 62) + "_", 1, 1) + text(name, 0, 31);
    session.status = rng() % 2 ? 'R' : 'S';
    session.display = static_cast<int>(pick(0, 65535));
    session.created = static_cast<std::int64_t>(pick(0, kMaxTime));
    session.last_change = static_cast<std::int64_t>(pick(0, kMaxTime));
    s.sessions.push_back(session);
  }
  std::size_t keys = rng() % 9;
  for (std::size_t i = 0; i < keys; ++i) {
    std::string key = kAllKeys[rng() % kAllKeys.size()];
    if (rng() % 2) key += " " + text(printable + " ", 1, 40);
    s.host_keys.push_back(key);
  }
  return s;
}

TEST(ToJson, RoundTripsManyRandomSnapshots) {
  std::mt19937_64 rng(20260101);
  for (int i = 0; i < 500; ++i) {
    Snapshot original = random_snapshot(rng);
    std::string json = to_json(original);
    SnapshotParse result = parse(json);
    ASSERT_TRUE(result.snapshot) << result.error << "\n" << json;
    expect_same(original, *result.snapshot);
    EXPECT_EQ(to_json(*result.snapshot), json);
  }
}

TEST(ToJson, RoundTripsTheExampleAndExtremes) {
  Snapshot s = example_snapshot();
  expect_same(s, *parse(to_json(s)).snapshot);
  s.sequence = kMaxU64;
  s.generated_at = static_cast<std::int64_t>(kMaxTime);
  s.load = {10000, 0, 1e-300, 4096, kMaxU64, kMaxU64};
  s.sessions[0].display = 65535;
  s.sessions[0].user = std::string(32, 'z');
  s.sessions[0].session_id = std::string(512, '~');
  expect_same(s, *parse(to_json(s)).snapshot);
}

// ---- load_score ----

HostLoad host_load(double load1, int cpus, std::uint64_t total, std::uint64_t available) {
  HostLoad load;
  load.load1 = load1;
  load.cpus = cpus;
  load.mem_total_kb = total;
  load.mem_available_kb = available;
  return load;
}

TEST(LoadScore, IsLoadPerCpuWhenMemoryIsPlentiful) {
  EXPECT_DOUBLE_EQ(load_score(host_load(1.0, 2, 1000, 1000)), 0.5);
  EXPECT_DOUBLE_EQ(load_score(host_load(6.0, 4, 1000, 900)), 1.5);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.0, 8, 1000, 1000)), 0.0);
}

TEST(LoadScore, IsUsedMemoryFractionWhenThatIsHigher) {
  EXPECT_DOUBLE_EQ(load_score(host_load(0.0, 2, 100, 25)), 0.75);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.5, 1, 100, 0)), 1.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.2, 1, 24000000, 20000000)), 0.2);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.1, 1, 24000000, 18000000)), 0.25);
}

TEST(LoadScore, MemoryTermIsZeroWithoutMemoryFigures) {
  EXPECT_DOUBLE_EQ(load_score(host_load(0.0, 1, 0, 0)), 0.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.3, 1, 0, 0)), 0.3);
  EXPECT_DOUBLE_EQ(load_score(host_load(0.3, 1, 0, 500)), 0.3);
}

TEST(LoadScore, IsClampedTo0Through1000) {
  EXPECT_DOUBLE_EQ(load_score(host_load(10000, 1, 0, 0)), 1000.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(1000, 1, 0, 0)), 1000.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(999, 1, 0, 0)), 999.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(-5, 1, 100, 200)), 0.0);  // hand-built nonsense
  EXPECT_DOUBLE_EQ(load_score(host_load(std::numeric_limits<double>::infinity(), 1, 0, 0)), 1000.0);
}

TEST(LoadScore, UnparseableHandBuiltValuesRankLast) {
  EXPECT_DOUBLE_EQ(load_score(host_load(std::nan(""), 4, 100, 50)), 1000.0);
  EXPECT_DOUBLE_EQ(load_score(host_load(2.0, 0, 0, 0)), 2.0);   // cpus < 1 counts as 1
  EXPECT_DOUBLE_EQ(load_score(host_load(2.0, -3, 0, 0)), 2.0);
}

TEST(LoadScore, GrowsWithLoadAndWithMemoryUse) {
  double previous = -1;
  for (double load1 = 0; load1 <= 16; load1 += 0.5) {
    double score = load_score(host_load(load1, 4, 1000, 1000));
    EXPECT_GT(score, previous);
    previous = score;
  }
  previous = -1;
  for (std::uint64_t available = 1000; available + 50 > 50; available -= 50) {
    double score = load_score(host_load(0, 4, 1000, available));
    EXPECT_GT(score, previous);
    previous = score;
  }
}

}  // namespace
}  // namespace x2gojump
