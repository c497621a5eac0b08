"""The loopback testbed: slapd, a backend sshd, an OpenSSH jump sshd, haproxy and the broker.

Everything lives in one private work directory and is started by this module; Testbed.stop()
ends exactly the processes it started, by PID (it is safe to call twice, and after a failed start).
"""
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time

from proctree import ServerTree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SLAPD_FIXTURE = os.path.join(REPO, "tests", "fixtures", "slapd-fixture.sh")
USER = "xjalice"
PASSWORD = "alice-secret"  # the LDAP fixture's password for xjalice (tests/fixtures/testdata.ldif)
LDAP_BASE = "dc=example,dc=org"
LDAP_BIND_DN = "cn=sshbroker,ou=services," + LDAP_BASE
LDAP_BIND_PASSWORD = "broker-secret"
# Shared with tests/fixtures/LocalUsers.cpp, so a parallel test run does not race on /etc/shadow.
USERS_LOCK = "/tmp/x2gojump-itest-users.lock"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_banner(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    """True once 127.0.0.1:port sends an SSH banner; False if proc exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def run(argv, **kwargs) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write(path: str, text: str, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def keygen(path: str) -> str:
    """Creates an ed25519 key pair; returns the public key as "ssh-ed25519 AAAA..."."""
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path])
    return " ".join(open(path + ".pub").read().split()[:2])


def ensure_local_user() -> None:
    """The backend checks the password against /etc/shadow, so the Unix account must match LDAP."""
    script = f"getent passwd {USER} >/dev/null || useradd -m -s /bin/bash {USER}; chpasswd"
    # The password goes through stdin, never argv.
    run(["flock", USERS_LOCK, "bash", "-c", script], input=f"{USER}:{PASSWORD}\n")


class Testbed:
    def __init__(self, work: str, broker_bin: str, broker_b=None):
        """broker_b: optional (binary, {env}) of a second broker, path "broker-b", for A/B runs."""
        self.work = work
        self.broker_bin = broker_bin
        self.broker_b = broker_b
        self.servers = {}  # name -> ServerTree
        self.ports = {}
        self.slapd_dir = os.path.join(work, "slapd")
        self.slapd_started = False
        self.client_key = os.path.join(work, "keys", "client_ed25519")
        self.password_file = os.path.join(work, "keys", "password")
        self.agent_token = secrets.token_hex(16)
        self.state_db = None

    # ---- start ----

    def start(self) -> None:
        ensure_local_user()
        os.makedirs(os.path.join(self.work, "keys"))
        os.makedirs(os.path.join(self.work, "authorized_keys"))
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
        # sshd reads AuthorizedKeysFile as the user: the path must be traversable by xjalice.
        os.chmod(self.work, 0o755)
        os.chmod(os.path.join(self.work, "authorized_keys"), 0o755)
        pub = keygen(self.client_key)
        write(os.path.join(self.work, "authorized_keys", USER), pub + "\n", 0o644)
        write(self.password_file, PASSWORD + "\n")
        self.start_slapd()
        backend_key = self.start_sshd("backend")
        self.start_sshd("jump")
        self.start_haproxy()
        self.start_broker("broker", self.broker_bin, {}, backend_key)
        if self.broker_b:
            self.start_broker("broker-b", self.broker_b[0], self.broker_b[1], backend_key)

    def start_slapd(self) -> None:
        env = dict(os.environ, FIXTURE_TLS="0", FIXTURE_DEBUG="none")
        self.slapd_started = True
        run([SLAPD_FIXTURE, "start", self.slapd_dir, "auto"], env=env)
        for line in open(os.path.join(self.slapd_dir, "env")):
            if line.startswith("export LDAP_URI="):
                self.ldap_uri = line.split("=", 1)[1].strip().strip("'")
        self.ports["ldap"] = int(self.ldap_uri.rsplit(":", 1)[1])

    def _start_server(self, name: str, argv, port: int, timeout: float, reap: bool, env=None) -> bool:
        log = open(os.path.join(self.work, name + ".log"), "ab")
        if reap:
            argv = [sys.executable, os.path.join(HERE, "reaper.py")] + argv
        # A session of its own: Ctrl-C in the terminal reaches only the harness, which then stops
        # the servers in order.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, env=dict(os.environ, **(env or {})))
        log.close()
        tree = ServerTree(name, proc)
        self.servers[name] = tree
        if wait_for_banner(port, proc, timeout):
            self.ports[name] = port
            # Idle = the server alone (and its reaper), once our banner probe's process is gone.
            expected = 2 if reap else 1
            deadline = time.monotonic() + 5
            while len(tree.pids()) > expected and time.monotonic() < deadline:
                time.sleep(0.02)
            tree.mark_idle()
            return True
        tree.stop()
        return False

    def start_sshd(self, name: str) -> str:
        d = os.path.join(self.work, name)
        os.makedirs(d)
        host_key = os.path.join(d, "ssh_host_ed25519_key")
        pub = keygen(host_key)
        for _ in range(5):  # the free port may be taken before sshd binds it
            port = free_port()
            config = os.path.join(d, "sshd_config")
            write(config, SSHD_CONFIG.format(port=port, host_key=host_key,
                                             keys_dir=os.path.join(self.work, "authorized_keys")))
            # Absolute paths: sshd re-executes itself for every connection.
            if self._start_server(name, ["/usr/sbin/sshd", "-D", "-e", "-f", config], port, 10, True):
                return pub
        raise RuntimeError(f"sshd {name} did not start; see {d}.log")

    def start_haproxy(self) -> None:
        for _ in range(5):
            port = free_port()
            config = os.path.join(self.work, "haproxy.cfg")
            write(config, HAPROXY_CONFIG.format(port=port, backend=self.ports["backend"]))
            if self._start_server("haproxy", ["haproxy", "-db", "-f", config], port, 10, False):
                return
        raise RuntimeError(f"haproxy did not start; see {self.work}/haproxy.log")

    def start_broker(self, name: str, binary: str, env: dict, backend_key: str) -> None:
        d = os.path.join(self.work, name)
        os.makedirs(d)
        host_key = os.path.join(d, "broker_ed25519")
        keygen(host_key)
        write(os.path.join(d, "ldap.pw"), LDAP_BIND_PASSWORD + "\n")
        write(os.path.join(d, "agent.token"), self.agent_token + "\n")
        if name == "broker":
            self.state_db = os.path.join(d, "state.db")
        for _ in range(3):
            port, api_port = free_port(), free_port()
            config = os.path.join(d, "broker.toml")
            write(config, BROKER_CONFIG.format(
                port=port, api_port=api_port, host_key=host_key, dir=d, ldap_uri=self.ldap_uri,
                base=LDAP_BASE, bind_dn=LDAP_BIND_DN, backend_port=self.ports["backend"],
                backend_key=backend_key))
            if self._start_server(name, [binary, "--config", config], port, 20, False, env):
                if name == "broker":
                    self.ports["agent_api"] = api_port
                return
        raise RuntimeError(f"{name} did not start; see {self.work}/{name}.log")

    # ---- stop ----

    def stop(self) -> None:
        # The broker first, so its backend connections close before the backend goes away.
        for name in ("broker", "broker-b", "haproxy", "jump", "backend"):
            if name in self.servers:
                self.servers.pop(name).stop()
        if self.slapd_started:
            self.slapd_started = False
            subprocess.run([SLAPD_FIXTURE, "stop", self.slapd_dir], stdout=subprocess.DEVNULL)


SSHD_CONFIG = """\
ListenAddress 127.0.0.1:{port}
HostKey {host_key}
PidFile none
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {keys_dir}/%u
StrictModes no
PermitRootLogin no
AllowTcpForwarding yes
X11Forwarding no
MaxStartups 1000
MaxSessions 100
MaxAuthTries 20
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel ERROR
"""

HAPROXY_CONFIG = """\
global
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
listen ssh
    bind 127.0.0.1:{port}
    server backend 127.0.0.1:{backend}
"""

BROKER_CONFIG = """\
[broker]
listen = ["127.0.0.1:{port}"]
host_keys = ["{host_key}"]
state_db = "{dir}/state.db"
threads = 2
log_level = "warn"

[ldap]
uris = ["{ldap_uri}"]
base_dn = "{base}"
user_base = "ou=people,{base}"
group_base = "ou=groups,{base}"
bind_dn = "{bind_dn}"
bind_password_file = "{dir}/ldap.pw"

[limits]
# Every benchmark client comes from 127.0.0.1, in batches of 20 logins: no per-source cap.
max_startups = "1000"
max_startups_per_source = 0

[agent_api]
listen = ["127.0.0.1:{api_port}"]
allow_plain_http = true

[health]
# The banner probe connects to the backend sshd, which forks for it: once an hour keeps that
# out of the backend's CPU accounting.
probe_interval_s = 3600

[[server]]
name = "backend"
address = "127.0.0.1"
port = {backend_port}
host_key = "{backend_key}"
agent_token_file = "{dir}/agent.token"
"""
