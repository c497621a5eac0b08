// Fault injection around the agents: the broker is killed with SIGKILL in the middle of a fast
// stream of agent snapshots and restarted on the same state database (SQLite must be intact, hold
// exactly one whole acknowledged-or-later snapshot per server, and follow the next snapshots), and
// an agent that goes silent turns its server stale (new users go elsewhere, the user's suspended
// session there stays reachable) until it reports again. The "agents" are in-test HTTP posters.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "broker/store/SessionStore.h"
#include "common/Snapshot.h"
#include "tests/fixtures/LocalUsers.h"
#include "tests/fixtures/RawClient.h"
#include "tests/fixtures/Testbed.h"

namespace x2gojump::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::map<std::string, std::string> kTokens{{"b1", "fault-agent-token-b1-0123456789"},
                                                 {"b2", "fault-agent-token-b2-0123456789"}};

// A broker with its agent API on plain HTTP and short health intervals, in front of b1 and b2.
std::unique_ptr<Testbed> agent_testbed(std::uint16_t api_port) {
  return std::make_unique<Testbed>(TestbedOptions{
      .limits_extra = "placement_ttl_s = 0\n",
      .customize = [api_port](BrokerSettings& s) {
        for (auto& server : s.servers) server.agent_token = kTokens.at(server.name);
        s.extra_tables = "[agent_api]\nlisten = [\"127.0.0.1:" + std::to_string(api_port) +
                         "\"]\nallow_plain_http = true\n\n"
                         "[health]\nheartbeat_interval_s = 1\nstale_after_intervals = 2\n"
                         "probe_interval_s = 1\n";
      }});
}

// The snapshot with this sequence: (sequence % 17) sessions whose ids carry the sequence, so the
// rows found in the database tell which snapshot they came from.
Snapshot numbered_snapshot(const std::string& server, std::uint64_t sequence) {
  Snapshot s;
  s.server = server;
  s.sequence = sequence;
  s.generated_at = std::time(nullptr);
  s.load = {0.5, 0.4, 0.3, 2, 4000000, 3000000};
  for (std::uint64_t k = 0; k < sequence % 17; ++k) {
    s.sessions.push_back({"xjuser" + std::to_string(k) + "-" + std::to_string(sequence) + "-" +
                              std::to_string(k) + "_stRxterm_dp24",
                          "xjuser" + std::to_string(k), k % 2 ? 'R' : 'S', static_cast<int>(50 + k),
                          s.generated_at, s.generated_at});
  }
  return s;
}

int post(std::uint16_t port, const Snapshot& s) {
  std::string response = http_exchange(
      port, http_post_request("/v1/snapshot", kTokens.at(s.server), to_json(s)), seconds(10));
  return http_status(response);
}

// Rows read straight from the state database with SQLite (not through the broker's store code).
struct DbView {
  std::string integrity;
  std::map<std::string, std::uint64_t> last_sequence;
  std::map<std::string, std::vector<std::string>> session_ids;
};

DbView read_db(const std::string& path) {
  DbView view;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    view.integrity = std::string("cannot open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return view;
  }
  sqlite3_busy_timeout(db, 5000);
  auto each_row = [db](const char* sql, auto on_row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return false;
    while (sqlite3_step(st) == SQLITE_ROW) on_row(st);
    sqlite3_finalize(st);
    return true;
  };
  auto text = [](sqlite3_stmt* st, int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  each_row("PRAGMA integrity_check", [&](sqlite3_stmt* st) { view.integrity += text(st, 0); });
  each_row("SELECT name, last_sequence FROM servers WHERE last_sequence IS NOT NULL", [&](sqlite3_stmt* st) {
    view.last_sequence[text(st, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
  });
  each_row("SELECT server, session_id FROM sessions", [&](sqlite3_stmt* st) {
    view.session_ids[text(st, 0)].push_back(text(st, 1));
  });
  sqlite3_close(db);
  return view;
}

// The sequence embedded in a numbered_snapshot session id ("xjuserK-SEQ-K_...").
std::uint64_t sequence_of(const std::string& session_id) {
  auto first = session_id.find('-');
  auto second = session_id.find('-', first + 1);
  return std::stoull(session_id.substr(first + 1, second - first - 1));
}

TEST(AgentFault, BrokerKilledDuringSnapshotStreamRestartsOnIntactState) {
  const std::uint16_t api = free_port();
  auto tb = agent_testbed(api);
  const std::string hashed = tb->landing("xjalice", "127.0.0.2");  // also starts the broker
  ASSERT_TRUE(hashed == "b1" || hashed == "b2") << hashed;
  const std::string other = hashed == "b1" ? "b2" : "b1";

  // One poster per server, as fast as the broker takes them.
  const std::uint64_t base = 1'000'000;
  std::atomic<bool> stop{false};
  std::map<std::string, std::atomic<std::uint64_t>> acked, sent;
  std::atomic<int> accepted{0};
  std::vector<std::jthread> posters;
  for (const std::string server : {"b1", "b2"}) {
    acked[server] = 0;
    sent[server] = 0;
  }
  for (const std::string server : {"b1", "b2"}) {
    posters.emplace_back([&, server] {
      for (std::uint64_t seq = base; !stop; ++seq) {
        sent[server] = seq;
        int status = post(api, numbered_snapshot(server, seq));
        if (status == 200) {
          acked[server] = seq;
          ++accepted;
        }
      }
    });
  }
  // Kill in the middle of the stream, once both agents have had plenty of reports applied.
  bool streaming = wait_until([&] { return acked["b1"] > base + 150 && acked["b2"] > base + 150; },
                              seconds(60));
  ASSERT_TRUE(streaming) << "acked b1=" << acked["b1"] << " b2=" << acked["b2"] << "\n"
                         << tb->diagnostics();
  tb->broker().kill();
  stop = true;
  posters.clear();  // joins
  std::printf("[ figures  ] SIGKILL after %d applied snapshots (b1 up to %llu, b2 up to %llu)\n",
              accepted.load(), static_cast<unsigned long long>(acked["b1"] - base),
              static_cast<unsigned long long>(acked["b2"] - base));

  DbView after_kill = read_db(tb->broker().state_db());
  EXPECT_EQ(after_kill.integrity, "ok");
  for (const std::string server : {"b1", "b2"}) {
    SCOPED_TRACE(server);
    ASSERT_TRUE(after_kill.last_sequence.count(server));
    const std::uint64_t seq = after_kill.last_sequence[server];
    // Every acknowledged snapshot is durable; one sent but unanswered may or may not be.
    EXPECT_GE(seq, acked[server].load());
    EXPECT_LE(seq, sent[server].load());
    // Exactly that snapshot's sessions: never a mix of two, never a half-applied one.
    const auto& ids = after_kill.session_ids[server];
    EXPECT_EQ(ids.size(), seq % 17);
    for (const auto& id : ids) EXPECT_EQ(sequence_of(id), seq) << id;
  }

  // Restart on the same database; the stored sequences still reject replays.
  tb->broker().start();
  const std::uint64_t b1_seq = after_kill.last_sequence["b1"];
  EXPECT_EQ(post(api, numbered_snapshot("b1", b1_seq)), 409);
  // The next snapshots rebuild the state: xjalice gets a suspended session on the server her
  // address does not hash to, and routing follows it.
  const std::int64_t now = std::time(nullptr);
  for (const std::string server : {"b1", "b2"}) {
    // The next multiple of 17 above the stored sequence: a snapshot without sessions.
    Snapshot next = numbered_snapshot(server, (after_kill.last_sequence[server] / 17 + 1) * 17);
    if (server == other) {
      next.sessions = {{"xjalice-60-1790000000_stRxterm_dp24", "xjalice", 'S', 60, now, now}};
    }
    EXPECT_EQ(post(api, next), 200) << server;
  }
  DbView rebuilt = read_db(tb->broker().state_db());
  EXPECT_EQ(rebuilt.integrity, "ok");
  EXPECT_EQ(rebuilt.session_ids[other], std::vector<std::string>{"xjalice-60-1790000000_stRxterm_dp24"});
  EXPECT_TRUE(rebuilt.session_ids[hashed].empty());
  EXPECT_EQ(tb->landing("xjalice", "127.0.0.2"), other);
}

TEST(AgentFault, SilentAgentMakesServerStaleUntilItReportsAgain) {
  const std::uint16_t api = free_port();
  auto tb = agent_testbed(api);
  const std::string source = "127.0.0.2";
  const std::string watched = tb->landing("xjbob", source);  // where the hash sends this address
  ASSERT_TRUE(watched == "b1" || watched == "b2") << watched;
  const std::string other = watched == "b1" ? "b2" : "b1";
  SessionStore store(tb->broker().state_db());
  auto health_of = [&store](const std::string& name) {
    for (const auto& s : store.servers()) {
      if (s.name == name) return s.health;
    }
    return ServerHealth::Down;
  };

  // An agent on `watched` reporting xjalice's suspended session every 200 ms.
  std::uint64_t seq = 1;
  auto agent = [&](std::atomic<bool>& stop) {
    while (!stop) {
      Snapshot s = numbered_snapshot(watched, 0);
      s.sequence = seq++;
      const std::int64_t now = std::time(nullptr);
      s.sessions = {{"xjalice-61-1790000000_stRxterm_dp24", "xjalice", 'S', 61, now, now}};
      post(api, s);
      std::this_thread::sleep_for(milliseconds(200));  // the agent's heartbeat period, not a sync
    }
  };
  {
    std::atomic<bool> stop{false};
    std::jthread running([&] { agent(stop); });
    ASSERT_TRUE(wait_until([&] { return store.last_report(watched).has_value(); }, seconds(10)));
    EXPECT_EQ(health_of(watched), ServerHealth::Up);
    EXPECT_EQ(tb->landing("xjbob", source), watched);
    EXPECT_EQ(tb->landing("xjalice", source), watched);
    stop = true;
  }  // the agent is gone

  auto silent_since = Clock::now();
  ASSERT_TRUE(wait_until([&] { return health_of(watched) == ServerHealth::Stale; }, seconds(15)))
      << "server never went stale\n" << tb->diagnostics();
  std::printf("[ figures  ] stale %.1f s after the last heartbeat (heartbeat 1 s x 2)\n",
              std::chrono::duration<double>(Clock::now() - silent_since).count());
  EXPECT_EQ(health_of(other), ServerHealth::Up);
  // New users fall back to the healthy server; the suspended session is still offered.
  EXPECT_EQ(tb->landing("xjbob", source), other);
  EXPECT_EQ(tb->landing("xjalice", source), watched);

  // The agent comes back: the server is up again and takes its hashed users back.
  std::atomic<bool> stop{false};
  std::jthread restarted([&] { agent(stop); });
  ASSERT_TRUE(wait_until([&] { return health_of(watched) == ServerHealth::Up; }, seconds(15)))
      << tb->diagnostics();
  EXPECT_EQ(tb->landing("xjbob", source), watched);
  stop = true;
}

}  // namespace
}  // namespace x2gojump::test
