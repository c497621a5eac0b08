// The snapshot wire format (docs/agent-protocol.md): serialisation, a strict validating parser and
// the load score. The parser is a SAX handler rather than a DOM walk so that memory stays bounded by
// the limits instead of by the body, nesting beyond the schema is refused at its first bracket, and
// duplicate keys (which a DOM silently merges) are seen.
#include "common/Snapshot.h"
#include "common/PublicKeyLine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <limits>
#include <unordered_set>
#include <utility>

namespace x2gojump {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 8 * 1024 * 1024;
constexpr std::uint64_t kMaxTime = std::uint64_t{1} << 40;  // year ~36812: room, but no overflow
constexpr std::size_t kMaxServerBytes = 64;
constexpr std::size_t kMaxUserBytes = 32;
constexpr std::size_t kMaxHostKeyBytes = 16 * 1024;
constexpr double kMaxLoadAverage = 10000;
constexpr double kMaxLoadScore = 1000;
// The schema nests 3 deep (snapshot > sessions > session). While skipping a rejected body to find
// its "version" (a newer agent's body may put new fields before it) a little more is tolerated.
constexpr std::size_t kMaxSkipDepth = 8;
constexpr std::size_t kMaxErrorBytes = 300;

// Error messages end up in HTTP bodies and logs: keep them printable ASCII and short whatever the
// body contained.
std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > max_bytes) out += "...";
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool is_valid_server(std::string_view s) {
  return !s.empty() && s.size() <= kMaxServerBytes && std::all_of(s.begin(), s.end(), is_name_char);
}

// The rule of broker/auth/LoginName.h, restated because common must not depend on the broker.
bool is_valid_user(std::string_view s) {
  return !s.empty() && s.size() <= kMaxUserBytes && s[0] != '-' && s[0] != '.' &&
         std::all_of(s.begin(), s.end(), is_name_char);
}

// X2Go stores session ids in '|'-separated lists and passes them as single shell words.
bool is_valid_session_id(std::string_view s, std::size_t max_bytes) {
  return !s.empty() && s.size() <= max_bytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '|'; });
}

// Agents send the canonical form "type base64[ comment]": one space after the type, and one space
// before a non-empty comment (which may itself contain spaces).
bool is_valid_host_key(std::string_view line) {
  if (line.size() > kMaxHostKeyBytes || line.find('\t') != std::string_view::npos) return false;
  const std::size_t type_end = line.find(' ');
  if (type_end == std::string_view::npos || line.substr(type_end + 1).starts_with(' ')) return false;
  const std::size_t blob_end = line.find(' ', type_end + 1);
  if (blob_end != std::string_view::npos && blob_end + 1 == line.size()) return false;
  return public_key_line_error(line).empty();
}

// One SAX event's value, whatever its JSON type.
struct Value {
  enum class Kind { kNull, kBool, kNegative, kUnsigned, kFloat, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  std::int64_t negative = 0;   // kNegative
  std::uint64_t unsigned_ = 0; // kUnsigned
  double number = 0;           // kNegative, kUnsigned, kFloat
  std::string* text = nullptr; // kString
};

enum class Frame { kTop, kLoad, kSessions, kSession, kHostKeys };

constexpr std::array<std::string_view, 7> kTopKeys = {
    "version", "server", "sequence", "generated_at", "load", "sessions", "host_keys"};
constexpr std::array<std::string_view, 6> kLoadKeys = {
    "load1", "load5", "load15", "cpus", "mem_total_kb", "mem_available_kb"};
constexpr std::array<std::string_view, 6> kSessionKeys = {
    "session_id", "user", "status", "display", "created", "last_change"};

enum TopKey { kVersion, kServer, kSequence, kGeneratedAt, kLoadKey, kSessionsKey, kHostKeysKey };
enum LoadKey { kLoad1, kLoad5, kLoad15, kCpus, kMemTotal, kMemAvailable };
enum SessionKey { kSessionId, kUser, kStatus, kDisplay, kCreated, kLastChange };

struct Level {
  Frame frame;
  std::uint32_t seen = 0;  // bit i: key i of the frame's key table was present
  int key = -1;            // the key whose value comes next
};

// Builds a Snapshot from SAX events, validating each value as it arrives. On the first error it
// records the reason and stops the parser, except before "version" was seen: then it skips the rest
// looking for "version", so that a newer agent is told "unsupported version" rather than about a
// field it added.
class SnapshotReader final : public nlohmann::json_sax<Json> {
 public:
  explicit SnapshotReader(const SnapshotLimits& limits) : limits_(limits) {}

  bool complete() const { return complete_ && error_.empty(); }
  const std::string& error() const { return error_; }
  Snapshot take() { return std::move(snapshot_); }

  bool null() override { return value({}); }
  bool boolean(bool) override { return value({Value::Kind::kBool}); }
  bool number_integer(number_integer_t v) override {
    // The parser reports only negative integers here, but the type allows any.
    if (v >= 0) return number_unsigned(static_cast<number_unsigned_t>(v));
    Value negative{Value::Kind::kNegative};
    negative.negative = v;
    negative.number = static_cast<double>(v);
    return value(negative);
  }
  bool number_unsigned(number_unsigned_t v) override {
    Value number{Value::Kind::kUnsigned};
    number.unsigned_ = v;
    number.number = static_cast<double>(v);
    return value(number);
  }
  bool number_float(number_float_t v, const string_t&) override {
    Value number{Value::Kind::kFloat};
    number.number = v;
    return value(number);
  }
  bool string(string_t& v) override {
    Value text{Value::Kind::kString};
    text.text = &v;
    return value(text);
  }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override {
    ++depth_;
    return value({Value::Kind::kObject});
  }
  bool start_array(std::size_t) override {
    ++depth_;
    return value({Value::Kind::kArray});
  }
  bool end_object() override {
    --depth_;
    return skipping_ ? true : end_object_level();
  }
  bool end_array() override {
    --depth_;
    if (!skipping_) levels_.pop_back();
    return true;
  }
  bool key(string_t& name) override {
    if (skipping_) {
      version_next_ = depth_ == 1 && name == kTopKeys[kVersion];
      return true;
    }
    return key_in_level(name);
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (error_.empty()) {
      std::string_view what = e.what();
      std::size_t tag_end = what.find("] ");  // drop "[json.exception.parse_error.101] "
      if (tag_end != std::string_view::npos) what.remove_prefix(tag_end + 2);
      error_ = "invalid JSON: " + printable(what, kMaxErrorBytes);
    }
    return false;
  }

 private:
  bool fail(std::string reason) {
    if (error_.empty()) error_ = std::move(reason);
    if (version_seen_ || levels_.empty()) return false;
    skipping_ = true;
    version_next_ = false;
    return depth_ <= kMaxSkipDepth;
  }

  bool value(const Value& v) {
    if (skipping_) return skip_value(v);
    if (levels_.empty()) {
      if (v.kind != Value::Kind::kObject || complete_) return fail("body must be a JSON object");
      levels_.push_back({Frame::kTop});
      return true;
    }
    Level& level = levels_.back();
    switch (level.frame) {
      case Frame::kTop: return top_value(level.key, v);
      case Frame::kLoad: return load_value(level.key, v);
      case Frame::kSessions: return session_element(v);
      case Frame::kSession: return session_value(level.key, v);
      case Frame::kHostKeys: return host_key_element(v);
    }
    return fail("internal error");
  }

  bool skip_value(const Value& v) {
    if (depth_ > kMaxSkipDepth) return false;
    if (!version_next_) return true;
    if (v.kind == Value::Kind::kUnsigned && v.unsigned_ != Snapshot::kVersion) {
      error_ = "unsupported version " + std::to_string(v.unsigned_);
    } else if (v.kind == Value::Kind::kNegative) {
      error_ = "unsupported version " + std::to_string(v.negative);
    }
    return false;
  }

  // Names the value the current key (or array element) refers to, for error messages.
  std::string path() const {
    const Level& level = levels_.back();
    switch (level.frame) {
      case Frame::kTop: return std::string(kTopKeys[level.key]);
      case Frame::kLoad: return "load." + std::string(kLoadKeys[level.key]);
      case Frame::kSessions: return "sessions[" + std::to_string(snapshot_.sessions.size()) + "]";
      case Frame::kSession:
        return "sessions[" + std::to_string(snapshot_.sessions.size() - 1) + "]." +
               std::string(kSessionKeys[level.key]);
      case Frame::kHostKeys: return "host_keys[" + std::to_string(snapshot_.host_keys.size()) + "]";
    }
    return {};
  }

  // Where the current object is, for key errors: "snapshot", "load", "sessions[3]".
  std::string object_name() const {
    switch (levels_.back().frame) {
      case Frame::kLoad: return "load";
      case Frame::kSession: return "sessions[" + std::to_string(snapshot_.sessions.size() - 1) + "]";
      default: return "snapshot";
    }
  }

  template <std::size_t N>
  static int key_index(const std::array<std::string_view, N>& keys, std::string_view name) {
    auto it = std::find(keys.begin(), keys.end(), name);
    return it == keys.end() ? -1 : static_cast<int>(it - keys.begin());
  }

  bool key_in_level(std::string_view name) {
    Level& level = levels_.back();
    int index = level.frame == Frame::kTop    ? key_index(kTopKeys, name)
                : level.frame == Frame::kLoad ? key_index(kLoadKeys, name)
                                              : key_index(kSessionKeys, name);
    std::string quoted = "\"" + printable(name, 64) + "\"";
    if (index < 0) return fail("unknown key " + quoted + " in " + object_name());
    if (level.seen & (1u << index)) return fail("duplicate key " + quoted + " in " + object_name());
    level.seen |= 1u << index;
    level.key = index;
    return true;
  }

  template <std::size_t N>
  bool check_all_keys(const std::array<std::string_view, N>& keys) {
    for (std::size_t i = 0; i < N; ++i) {
      if (!(levels_.back().seen & (1u << i))) {
        return fail("missing key \"" + std::string(keys[i]) + "\" in " + object_name());
      }
    }
    return true;
  }

  bool end_object_level() {
    switch (levels_.back().frame) {
      case Frame::kTop:
        if (!check_all_keys(kTopKeys)) return false;
        complete_ = true;
        break;
      case Frame::kLoad:
        if (!check_all_keys(kLoadKeys)) return false;
        if (snapshot_.load.mem_available_kb > snapshot_.load.mem_total_kb) {
          return fail("load.mem_available_kb must not exceed load.mem_total_kb");
        }
        break;
      case Frame::kSession:
        if (!check_all_keys(kSessionKeys)) return false;
        if (!session_ids_.insert(snapshot_.sessions.back().session_id).second) {
          return fail("duplicate session_id \"" + printable(snapshot_.sessions.back().session_id, 64) +
                      "\"");
        }
        break;
      default: break;
    }
    levels_.pop_back();
    return true;
  }

  bool unsigned_in(const Value& v, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
    if (v.kind != Value::Kind::kUnsigned || v.unsigned_ < lo || v.unsigned_ > hi) {
      return fail(path() + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out = v.unsigned_;
    return true;
  }

  template <typename T>
  bool integer_in(const Value& v, std::uint64_t lo, std::uint64_t hi, T& out) {
    std::uint64_t u = 0;
    if (!unsigned_in(v, lo, hi, u)) return false;
    out = static_cast<T>(u);
    return true;
  }

  bool string_value(const Value& v, std::string& out) {
    if (v.kind != Value::Kind::kString) return fail(path() + " must be a string");
    out = std::move(*v.text);
    return true;
  }

  bool top_value(int key, const Value& v) {
    switch (key) {
      case kVersion:
        version_seen_ = true;
        if (v.kind == Value::Kind::kNegative) return fail("unsupported version " + std::to_string(v.negative));
        if (v.kind != Value::Kind::kUnsigned) return fail("version must be an integer");
        if (v.unsigned_ != Snapshot::kVersion) return fail("unsupported version " + std::to_string(v.unsigned_));
        return true;
      case kServer:
        if (!string_value(v, snapshot_.server)) return false;
        if (!is_valid_server(snapshot_.server)) return fail("server must be 1..64 bytes of [A-Za-z0-9._-]");
        return true;
      case kSequence:
        return unsigned_in(v, 1, std::numeric_limits<std::uint64_t>::max(), snapshot_.sequence);
      case kGeneratedAt: return integer_in(v, 0, kMaxTime, snapshot_.generated_at);
      case kLoadKey: return open(v, Value::Kind::kObject, Frame::kLoad, "an object");
      case kSessionsKey: return open(v, Value::Kind::kArray, Frame::kSessions, "an array");
      case kHostKeysKey: return open(v, Value::Kind::kArray, Frame::kHostKeys, "an array");
    }
    return fail("internal error");
  }

  bool open(const Value& v, Value::Kind kind, Frame frame, const char* what) {
    if (v.kind != kind) return fail(path() + " must be " + what);
    levels_.push_back({frame});
    return true;
  }

  bool load_value(int key, const Value& v) {
    HostLoad& load = snapshot_.load;
    switch (key) {
      case kLoad1: return load_average(v, load.load1);
      case kLoad5: return load_average(v, load.load5);
      case kLoad15: return load_average(v, load.load15);
      case kCpus: return integer_in(v, 1, 4096, load.cpus);
      case kMemTotal:
        return unsigned_in(v, 0, std::numeric_limits<std::uint64_t>::max(), load.mem_total_kb);
      case kMemAvailable:
        return unsigned_in(v, 0, std::numeric_limits<std::uint64_t>::max(), load.mem_available_kb);
    }
    return fail("internal error");
  }

  bool load_average(const Value& v, double& out) {
    bool is_number = v.kind == Value::Kind::kUnsigned || v.kind == Value::Kind::kNegative ||
                     v.kind == Value::Kind::kFloat;
    if (!is_number || !std::isfinite(v.number) || v.number < 0 || v.number > kMaxLoadAverage) {
      return fail(path() + " must be a number in 0..10000");
    }
    out = v.number;
    return true;
  }

  bool session_element(const Value& v) {
    if (v.kind != Value::Kind::kObject) return fail(path() + " must be an object");
    if (snapshot_.sessions.size() >= limits_.max_sessions) {
      return fail("too many sessions (max " + std::to_string(limits_.max_sessions) + ")");
    }
    snapshot_.sessions.emplace_back();
    levels_.push_back({Frame::kSession});
    return true;
  }

  bool session_value(int key, const Value& v) {
    SnapshotSession& session = snapshot_.sessions.back();
    switch (key) {
      case kSessionId:
        if (!string_value(v, session.session_id)) return false;
        if (!is_valid_session_id(session.session_id, limits_.max_string_bytes)) {
          return fail(path() + " must be 1.." + std::to_string(limits_.max_string_bytes) +
                      " bytes of printable ASCII without '|' or spaces");
        }
        return true;
      case kUser:
        if (!string_value(v, session.user)) return false;
        if (!is_valid_user(session.user)) {
          return fail(path() + " must be 1..32 bytes of [A-Za-z0-9._-], not starting with '-' or '.'");
        }
        return true;
      case kStatus:
        if (v.kind != Value::Kind::kString || (*v.text != "R" && *v.text != "S")) {
          return fail(path() + " must be \"R\" or \"S\"");
        }
        session.status = (*v.text)[0];
        return true;
      case kDisplay: return integer_in(v, 0, 65535, session.display);
      case kCreated: return integer_in(v, 0, kMaxTime, session.created);
      case kLastChange: return integer_in(v, 0, kMaxTime, session.last_change);
    }
    return fail("internal error");
  }

  bool host_key_element(const Value& v) {
    if (v.kind != Value::Kind::kString) return fail(path() + " must be a string");
    if (snapshot_.host_keys.size() >= limits_.max_host_keys) {
      return fail("too many host_keys (max " + std::to_string(limits_.max_host_keys) + ")");
    }
    if (!is_valid_host_key(*v.text)) {
      return fail(path() + " must be an OpenSSH public key line \"type base64[ comment]\" of at most "
                           "16384 bytes (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521)");
    }
    snapshot_.host_keys.push_back(std::move(*v.text));
    return true;
  }

  const SnapshotLimits& limits_;
  Snapshot snapshot_;
  std::vector<Level> levels_;
  std::unordered_set<std::string> session_ids_;
  std::string error_;
  std::size_t depth_ = 0;  // the parser's nesting depth, kept also while skipping
  bool version_seen_ = false;
  bool complete_ = false;
  bool skipping_ = false;
  bool version_next_ = false;  // skipping, and the next value is the top-level "version"
};

}  // namespace

std::string to_json(const Snapshot& snapshot) {
  // ordered_json: the documented key order, which also makes the output deterministic.
  nlohmann::ordered_json load;
  load["load1"] = snapshot.load.load1;
  load["load5"] = snapshot.load.load5;
  load["load15"] = snapshot.load.load15;
  load["cpus"] = snapshot.load.cpus;
  load["mem_total_kb"] = snapshot.load.mem_total_kb;
  load["mem_available_kb"] = snapshot.load.mem_available_kb;

  nlohmann::ordered_json sessions = nlohmann::ordered_json::array();
  for (const SnapshotSession& s : snapshot.sessions) {
    nlohmann::ordered_json session;
    session["session_id"] = s.session_id;
    session["user"] = s.user;
    session["status"] = std::string(1, s.status);
    session["display"] = s.display;
    session["created"] = s.created;
    session["last_change"] = s.last_change;
    sessions.push_back(std::move(session));
  }

  nlohmann::ordered_json body;
  body["version"] = Snapshot::kVersion;
  body["server"] = snapshot.server;
  body["sequence"] = snapshot.sequence;
  body["generated_at"] = snapshot.generated_at;
  body["load"] = std::move(load);
  body["sessions"] = std::move(sessions);
  body["host_keys"] = snapshot.host_keys;
  // replace: invalid UTF-8 in a hand-built Snapshot must not throw here; the broker rejects it.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

SnapshotParse parse_snapshot(std::string_view body, const SnapshotLimits& limits) {
  SnapshotParse result;
  if (body.size() > kMaxBodyBytes) {
    result.error = "body too large (max " + std::to_string(kMaxBodyBytes) + " bytes)";
    return result;
  }
  try {
    SnapshotReader reader(limits);
    Json::sax_parse(body.begin(), body.end(), &reader);
    if (reader.complete()) {
      result.snapshot = reader.take();
    } else {
      result.error = reader.error().empty() ? "body must be a JSON object" : reader.error();
    }
  } catch (const std::bad_alloc&) {
    result.error = "out of memory";
  } catch (const std::exception& e) {
    result.error = "invalid body: " + printable(e.what(), kMaxErrorBytes);
  } catch (...) {
    result.error = "invalid body";
  }
  return result;
}

// max(load1 / cpus, 1 - mem_available_kb / mem_total_kb), clamped to [0, 1000]: whichever of CPU
// and memory is scarcer decides, as either one running out makes a new X2Go session sluggish.
double load_score(const HostLoad& load) {
  double cpu_term = load.load1 / std::max(load.cpus, 1);
  double memory_term = load.mem_total_kb == 0 ? 0.0
                       : 1.0 - static_cast<double>(load.mem_available_kb) /
                                   static_cast<double>(load.mem_total_kb);
  double score = std::max(cpu_term, memory_term);
  // A NaN (only possible in a hand-built HostLoad) must rank last, not compare as "not worse".
  if (std::isnan(score)) return kMaxLoadScore;
  return std::clamp(score, 0.0, kMaxLoadScore);
}

}  // namespace x2gojump
