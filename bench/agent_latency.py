"""Figure 7: agent change -> broker table latency.

A real x2gojump-agent watches a session DB in X2Go's SQLite format (the `sessions` table of
Debian 12's x2goserver) and reports to the testbed broker's agent API (plain HTTP on loopback).
The harness changes one row (suspend <-> resume, as x2gosuspend-session/x2goresume-session do),
commits, and polls the broker's state DB (read-only) every millisecond until the row shows the
new status. Latency = commit to first poll that sees it.
"""
import os
import sqlite3
import subprocess
import time

from testbed import USER, write

# `sqlite3 /var/lib/x2go/x2go_sessions .schema sessions` of Debian 12's x2goserver.
X2GO_SCHEMA = (
    "CREATE TABLE sessions(session_id varchar(500) primary key, display integer not null,"
    " uname varchar(100) not null, server varchar(100) not null, client inet,"
    " status char(1) not null default 'R',"
    " init_time timestamp not null default CURRENT_TIMESTAMP,"
    " last_time timestamp not null default CURRENT_TIMESTAMP, cookie char(33), agent_pid int,"
    " gr_port int, sound_port int, fs_port int, tekictrl_port int, tekidata_port int,"
    " unique(display))")
SESSION_ID = f"{USER}-50-1790000000_stRxterm_dp24"


class AgentRig:
    def __init__(self, tb, agent_bin: str):
        self.tb = tb
        self.dir = os.path.join(tb.work, "agent")
        os.makedirs(self.dir)
        self.x2go_db = os.path.join(self.dir, "x2go_sessions")
        db = sqlite3.connect(self.x2go_db)
        db.execute(X2GO_SCHEMA)
        db.execute("INSERT INTO sessions (session_id, display, uname, server, status, cookie, agent_pid,"
                   " client, gr_port) VALUES (?, 50, ?, 'backend', 'R', 'b50f3193df8606ef4cd6e4c83f16c4ee',"
                   " 4242, '127.0.0.1', 39424)", (SESSION_ID, USER))
        db.commit()
        db.close()
        write(os.path.join(self.dir, "token"), tb.agent_token + "\n")
        config = os.path.join(self.dir, "agent.toml")
        write(config, AGENT_CONFIG.format(db=self.x2go_db, port=tb.ports["agent_api"], dir=self.dir),
              0o644)
        self.log = open(os.path.join(tb.work, "agent.log"), "ab")
        self.proc = subprocess.Popen([agent_bin, "--config", config], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, start_new_session=True)

    def broker_status(self, state: sqlite3.Connection):
        row = state.execute("SELECT status FROM sessions WHERE session_id = ?", (SESSION_ID,)).fetchone()
        return row[0] if row else None

    def measure(self, n: int, log=print):
        """n latencies in ms; the first report (agent start-up) is waited for, not measured."""
        uri = "file:" + self.tb.state_db + "?mode=ro"
        state = sqlite3.connect(uri, uri=True, isolation_level=None)
        x2go = sqlite3.connect(self.x2go_db, isolation_level=None)
        try:
            self._wait(state, "R", 30)
            samples = []
            status = "R"
            for i in range(n):
                status = "S" if status == "R" else "R"
                t0 = time.perf_counter()
                x2go.execute("UPDATE sessions SET status = ?, last_time = datetime('now', 'localtime')"
                             " WHERE session_id = ?", (status, SESSION_ID))
                self._wait(state, status, 10)
                samples.append((time.perf_counter() - t0) * 1e3)
                # Changes further apart than the agent's debounce window, as real logins are.
                time.sleep(0.2)
                if (i + 1) % 20 == 0:
                    log(f"  {i + 1}/{n} changes")
            return samples
        finally:
            state.close()
            x2go.close()

    def _wait(self, state, status: str, timeout: float):
        deadline = time.monotonic() + timeout
        while self.broker_status(state) != status:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the broker's table did not show status {status} within {timeout} s;"
                                   f" see {self.tb.work}/agent.log and broker.log")
            if self.proc.poll() is not None:
                raise RuntimeError(f"the agent exited; see {self.tb.work}/agent.log")
            time.sleep(0.001)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


AGENT_CONFIG = """\
[agent]
server_name = "backend"
session_db = "{db}"
listsessions_command = "/bin/false"
heartbeat_interval_s = 5
host_key_files = []
log_level = "warn"

[[broker]]
url = "http://127.0.0.1:{port}"
token_file = "{dir}/token"
allow_plain_http = true
"""
