#!/usr/bin/env bash
# Package smoke test (ctest label "packaging"; root on Debian 12):
#   1. builds x2gojump-broker and x2gojump-agent with packaging/build-debs (lintian included);
#      with --prebuilt from the binaries of an existing CMake build (ctest passes its own),
#   2. installs them with dpkg -i and checks users, directories, host key, conffiles, units
#      (systemd-analyze verify and security) and man pages,
#   3. applies the configuration edits docs/packaging.md documents to the installed example files
#      and runs the INSTALLED binaries (no systemd here) against a loopback farm: slapd
#      (tests/fixtures/slapd-fixture.sh), two sshd backends b1 and b2, the agent as b2 with a fake
#      X2Go session DB; the broker runs as its user (as systemd would start it), then as root
#      (it must drop to x2gojump); users log in through it with ssh, host key checked,
#   4. purges both packages and checks that nothing of them is left (the system users stay, as
#      Debian policy wants).
# Everything it starts is stopped by PID and everything it installs is purged, also on failure.
#
# Usage: tests/packaging/package_test.sh [--prebuilt CMAKE_BUILD_DIR | --debs DEB_DIR]
#   (no option: compile everything with dpkg-buildflags; --debs: test given .debs, skip step 1)
# Exit codes: 0 passed, 1 failed, 77 skipped (not root).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FIXTURES=$SRC/tests/fixtures
EDIT="python3 $HERE/toml_edit.py"
ETC=/etc/x2gojump

given_debs=""
build_args=()
case ${1:-} in
  --debs) given_debs=${2:?--debs DIR} ;;
  --prebuilt) build_args=(--prebuilt "${2:?--prebuilt CMAKE_BUILD_DIR}") ;;
esac

T0=$SECONDS
say() { printf '[package_test %3ds] %s\n' $((SECONDS - T0)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }
check() { local what=$1; shift; if "$@"; then say "ok: $what"; else fail "$what"; fi; }

if [[ $(id -u) != 0 ]]; then echo "package_test: needs root (dpkg -i); skipped"; exit 77; fi
for p in x2gojump-broker x2gojump-agent; do
  if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
    fail "$p is already on this machine; this test installs and purges it, so remove it first"
  fi
done

W=$(mktemp -d /tmp/xj-pkgtest.XXXXXX)
chmod 755 "$W"  # the service users read the fake X2Go DB and the backends' keys below it
pids=()
installed=0
admin_files=()  # what the test adds to /etc/x2gojump as the admin

cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  "$FIXTURES/slapd-fixture.sh" stop "$W/ldap" >/dev/null 2>&1
  if ((installed)); then
    dpkg --purge x2gojump-agent x2gojump-broker >"$W/purge-on-exit.log" 2>&1
    rm -f "${admin_files[@]}"
    rm -rf "$ETC/agent-tokens"
    rmdir "$ETC" 2>/dev/null
  fi
  if ((rc != 0)); then
    for log in "$W"/*.log; do echo "---- $log (tail)"; tail -n 25 "$log"; done
  fi
  rm -rf "$W"
  say "finished with exit code $rc after $((SECONDS - T0)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 sends an SSH banner; fails early when PID $2 has exited.
wait_banner() {
  local port=$1 pid=$2 i
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    local banner
    banner=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -c 4 <&3" 2>/dev/null) || true
    if [[ $banner == SSH- ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Polls a shell condition for up to $1 seconds.
wait_for() {
  local seconds=$1 i; shift
  for i in $(seq $((seconds * 10))); do
    if eval "$*"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# --- 1. build -------------------------------------------------------------------------------------
if [[ -n $given_debs ]]; then
  debs=$given_debs
  say "using the packages in $debs"
else
  debs=$W/debs
  say "building the packages (packaging/build-debs ${build_args[*]}, with lintian)"
  if ! "$SRC/packaging/build-debs" "${build_args[@]}" "$debs" >"$W/build-debs.log" 2>&1; then
    cat "$W/build-debs.log"
    fail "build-debs"
  fi
  grep -E 'built in|lintian' "$W/build-debs.log" | sed 's/^/    /'
fi
broker_deb=$(ls "$debs"/x2gojump-broker_*.deb)
agent_deb=$(ls "$debs"/x2gojump-agent_*.deb)

# --- 2. install -----------------------------------------------------------------------------------
say "dpkg -i $(basename "$broker_deb") $(basename "$agent_deb")"
installed=1
if ! dpkg -i "$broker_deb" "$agent_deb" >"$W/dpkg-install.log" 2>&1; then
  say "dpkg -i left dependencies open; apt-get install -f"
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$W/dpkg-install.log" 2>&1 \
    || fail "dependencies of the packages cannot be installed"
fi
for p in x2gojump-broker x2gojump-agent; do
  check "$p is installed" test "$(dpkg-query -W -f='${db:Status-Status}' "$p")" = installed
done

stat_of() { stat -c '%U:%G %a' "$1"; }
check "system user x2gojump without a login shell" \
  test "$(getent passwd x2gojump | cut -d: -f7)" = /usr/sbin/nologin
check "system user x2gojump-agent" bash -c 'getent passwd x2gojump-agent >/dev/null'
if getent group x2gouser >/dev/null; then
  check "x2gojump-agent is in group x2gouser" bash -c 'id -nG x2gojump-agent | grep -qw x2gouser'
fi
check "/var/lib/x2gojump is x2gojump:x2gojump 750" \
  test "$(stat_of /var/lib/x2gojump)" = "x2gojump:x2gojump 750"
check "host key is x2gojump:x2gojump 600" \
  test "$(stat_of $ETC/ssh_host_ed25519_key)" = "x2gojump:x2gojump 600"
check "host key is ed25519" bash -c "ssh-keygen -l -f $ETC/ssh_host_ed25519_key.pub | grep -q ED25519"
conffiles() { dpkg-query -W -f='${Conffiles}' "$1" | awk '{print $1}' | tr '\n' ' '; }
check "broker.toml is the broker's conffile" test "$(conffiles x2gojump-broker)" = "$ETC/broker.toml "
check "agent.toml is the agent's conffile" test "$(conffiles x2gojump-agent)" = "$ETC/agent.toml "
check "the shipped broker.toml is valid as it is" \
  /usr/sbin/x2gojump-broker --check-config --config $ETC/broker.toml
# dpkg's listing, not man -w: container images may exclude /usr/share/man from installation.
man_pages=$(dpkg -L x2gojump-broker x2gojump-agent | grep -o '[^/]*\.[58]\.gz$' | sort | tr '\n' ' ')
check "man pages ($man_pages)" \
  test "$man_pages" = "x2gojump-agent.8.gz x2gojump-broker.8.gz x2gojump.toml.5.gz x2gojumpctl.8.gz "
check "x2gojumpctl is installed" test -x /usr/sbin/x2gojumpctl
for unit in x2gojump-broker x2gojump-agent; do
  check "$unit.service installed, not enabled" bash -c \
    "test -f /lib/systemd/system/$unit.service && ! ls /etc/systemd/system/*/$unit.service 2>/dev/null"
  # --man=no and our own check: images may leave /usr/share/man out, the package listing is what counts.
  check "systemd-analyze verify $unit.service" \
    systemd-analyze verify --man=no "/lib/systemd/system/$unit.service"
  for doc in $(sed -n 's/^Documentation=//p' "/lib/systemd/system/$unit.service"); do
    page=$(sed -E 's/^man:(.*)\((.)\)$/\1.\2.gz/' <<<"$doc")
    check "$unit.service documentation $doc is packaged" bash -c "[[ ' $man_pages' == *' $page '* ]]"
  done
  score=$(systemd-analyze security --offline=yes --no-pager "/lib/systemd/system/$unit.service" 2>&1 |
          sed -n 's/.*Overall exposure level for \(.*\): \(.*\)$/\1: \2/p')
  say "exposure $score"
done

# The host key belongs to the first installation: reinstalling (an upgrade) keeps it.
key_sum=$(sha256sum $ETC/ssh_host_ed25519_key)
dpkg -i "$broker_deb" >>"$W/dpkg-install.log" 2>&1 || fail "reinstalling the broker package"
check "reinstall keeps the host key" test "$(sha256sum $ETC/ssh_host_ed25519_key)" = "$key_sum"

# --- 3. the farm ----------------------------------------------------------------------------------
say "starting slapd, two sshd backends and the test users"
FIXTURE_TLS=0 "$FIXTURES/slapd-fixture.sh" start "$W/ldap" auto >/dev/null 2>"$W/slapd-fixture.log" \
  || fail "slapd fixture"
# shellcheck disable=SC1091
source "$W/ldap/env"

# The backends check the relayed password against local accounts (as tests/fixtures/LocalUsers).
(
  flock 9
  for u in xjalice:alice-secret xjbob:bob-secret; do
    getent passwd "${u%%:*}" >/dev/null || useradd -m -s /bin/bash "${u%%:*}"
    echo "$u" | chpasswd
  done
) 9>/tmp/x2gojump-itest-users.lock
mkdir -p /run/sshd
declare -A backend_port backend_key
for b in b1 b2; do
  mkdir -p "$W/$b"
  ssh-keygen -q -t ed25519 -N '' -C '' -f "$W/$b/ssh_host_ed25519_key"
  for attempt in 1 2 3; do
    port=$(free_port)
    cat >"$W/$b/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $W/$b/ssh_host_ed25519_key
PidFile none
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
StrictModes no
UseDNS no
SetEnv X2GOJUMP_BACKEND=$b
EOF
    /usr/sbin/sshd -D -e -f "$W/$b/sshd_config" 2>>"$W/sshd-$b.log" &
    pid=$!
    if wait_banner "$port" "$pid"; then pids+=("$pid"); break; fi
    kill "$pid" 2>/dev/null || true
    [[ $attempt == 3 ]] && fail "sshd $b did not start"
  done
  backend_port[$b]=$port
  backend_key[$b]=$(cut -d' ' -f1-2 "$W/$b/ssh_host_ed25519_key.pub")
done

# --- the documented edits (docs/packaging.md), as an admin makes them -----------------------------
say "configuring the installed broker.toml and agent.toml"
ssh_port=$(free_port)
api_port=$(free_port)
# Secrets: readable by the broker's group (read again on reload), never by others.
install -m 0640 -g x2gojump /dev/null $ETC/ldap-bind-password
echo broker-secret >$ETC/ldap-bind-password
mkdir -p -m 0750 $ETC/agent-tokens && chgrp x2gojump $ETC/agent-tokens
token=$(openssl rand -hex 32)
install -m 0640 -g x2gojump /dev/null $ETC/agent-tokens/b2
echo "$token" >$ETC/agent-tokens/b2
install -m 0600 -o x2gojump-agent -g x2gojump-agent /dev/null $ETC/agent-token
echo "$token" >$ETC/agent-token
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout $ETC/agent-api.key -out $ETC/agent-api.crt 2>/dev/null
chgrp x2gojump $ETC/agent-api.key && chmod 0640 $ETC/agent-api.key
cp $ETC/agent-api.crt $ETC/broker-ca.pem  # on a real X2Go host: copied from the broker
admin_files+=($ETC/ldap-bind-password $ETC/agent-token $ETC/agent-api.key $ETC/agent-api.crt
             $ETC/broker-ca.pem)

$EDIT $ETC/broker.toml \
  --set broker.listen "[\"127.0.0.1:$ssh_port\"]" \
  --set ldap.uris "[\"$LDAP_URI\"]" \
  --set ldap.base_dn '"dc=example,dc=org"' \
  --set ldap.bind_dn '"cn=sshbroker,ou=services,dc=example,dc=org"' \
  --set ldap.bind_password_file '"ldap-bind-password"' \
  --set agent_api.listen "[\"127.0.0.1:$api_port\"]" \
  --set agent_api.tls_cert '"agent-api.crt"' \
  --set agent_api.tls_key '"agent-api.key"' \
  --drop-array server \
  --append "[[server]]
name = \"b1\"
address = \"127.0.0.1\"
port = ${backend_port[b1]}
host_key = \"${backend_key[b1]}\"

[[server]]
name = \"b2\"
address = \"127.0.0.1\"
port = ${backend_port[b2]}
host_key = \"${backend_key[b2]}\"
agent_token_file = \"agent-tokens/b2\""
check "edited broker.toml is valid" /usr/sbin/x2gojump-broker --check-config --config $ETC/broker.toml

# The agent runs as b2, with a fake X2Go session DB: xjalice has a suspended session there.
# Like X2Go's own: root:x2gouser 0640 in a 0750 directory (or the agent's own, without x2goserver).
x2go_group=x2gouser; getent group x2gouser >/dev/null || x2go_group=x2gojump-agent
install -d -m 0750 -g "$x2go_group" "$W/x2go"
sqlite3 "$W/x2go/x2go_sessions" <<'EOF'
CREATE TABLE sessions(session_id varchar(500) primary key, display integer not null,
  uname varchar(100) not null, server varchar(100) not null, client inet,
  status char(1) not null default 'R', init_time timestamp not null default CURRENT_TIMESTAMP,
  last_time timestamp not null default CURRENT_TIMESTAMP, cookie char(33), agent_pid int,
  gr_port int, sound_port int, fs_port int, tekictrl_port int, tekidata_port int, unique(display));
INSERT INTO sessions (session_id, display, uname, server, status, init_time, last_time, cookie,
  agent_pid, client, gr_port) VALUES ('xjalice-50-1795640822_stDxfce_dp24', 50, 'xjalice', 'b2',
  'S', datetime('now','localtime'), datetime('now','localtime'), 'b50f3193df8606ef4cd6e4c83f16c4ee',
  4242, '10.200.1.1', 39424);
EOF
chgrp "$x2go_group" "$W/x2go/x2go_sessions" && chmod 0640 "$W/x2go/x2go_sessions"
$EDIT $ETC/agent.toml \
  --set agent.server_name '"b2"' \
  --set agent.session_db "\"$W/x2go/x2go_sessions\"" \
  --set agent.host_key_files "[\"$W/b2/ssh_host_ed25519_key.pub\"]" \
  --set broker.url "\"https://127.0.0.1:$api_port\""
check "edited agent.toml is valid" \
  setpriv --reuid=x2gojump-agent --regid=x2gojump-agent --init-groups \
  /usr/sbin/x2gojump-agent --check-config --config $ETC/agent.toml

# --- run the installed daemons --------------------------------------------------------------------
# As systemd would start them: the service user, its groups, no capabilities, no new privileges.
# exec: run in the background as `as_service ... &`, $! is then the daemon's own PID.
as_service() {
  local user=$1; shift
  exec setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all --bounding-set=-all \
    --no-new-privs "$@"
}

start_broker() {  # $1: "service" (as x2gojump) or "root"
  local log=$W/broker-$1.log
  if [[ $1 == service ]]; then
    as_service x2gojump /usr/sbin/x2gojump-broker --config $ETC/broker.toml >"$log" 2>&1 &
  else
    /usr/sbin/x2gojump-broker --config $ETC/broker.toml >"$log" 2>&1 &
  fi
  broker_pid=$!
  pids+=("$broker_pid")
  wait_banner "$ssh_port" "$broker_pid" || fail "the installed broker ($1) did not start"
}

stop_pid() {
  kill -TERM "$1"
  wait_for 10 "! kill -0 $1 2>/dev/null" || fail "PID $1 ignored SIGTERM"
}

echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1-2 $ETC/ssh_host_ed25519_key.pub)" >"$W/known_hosts"
login() {  # user password command -> stdout; the broker's key must be the packaged one
  SSHPASS=$2 sshpass -e ssh -F /dev/null -p "$ssh_port" -o UserKnownHostsFile="$W/known_hosts" \
    -o StrictHostKeyChecking=yes -o PreferredAuthentications=password -o PubkeyAuthentication=no \
    -o ConnectTimeout=20 "$1@127.0.0.1" "$3" 2>>"$W/ssh.log"
}

say "broker as user x2gojump, agent as user x2gojump-agent"
# RuntimeDirectory=x2gojump: systemd makes it for the service; by hand it is the admin's job.
install -d -o x2gojump -g x2gojump -m 0755 /run/x2gojump
start_broker service
as_service x2gojump-agent /usr/sbin/x2gojump-agent --config $ETC/agent.toml >"$W/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")

sessions_of_b2() {
  sqlite3 -readonly /var/lib/x2gojump/state.db "SELECT count(*) FROM sessions
    WHERE server = 'b2' AND username = 'xjalice' AND status = 'S'" 2>/dev/null
}
check "the agent's report reached the broker over TLS" wait_for 30 '[[ $(sessions_of_b2) == 1 ]]'
check "xjalice resumes on b2, where the agent reported her session" \
  test "$(login xjalice alice-secret 'echo $X2GOJUMP_BACKEND')" = b2
bob=$(login xjbob bob-secret 'echo $X2GOJUMP_BACKEND') || true
check "xjbob is placed on a backend ($bob)" test "$bob" = b1 -o "$bob" = b2
check "a wrong password is refused" bash -c "! SSHPASS=wrong sshpass -e ssh -F /dev/null -p $ssh_port \
  -o UserKnownHostsFile=$W/known_hosts -o StrictHostKeyChecking=yes -o PubkeyAuthentication=no \
  -o PreferredAuthentications=password xjalice@127.0.0.1 true 2>>$W/ssh.log"
check "the state DB belongs to x2gojump" test "$(stat -c %U /var/lib/x2gojump/state.db)" = x2gojump
check "x2gojumpctl reaches the broker on its default control socket" \
  bash -c "/usr/sbin/x2gojumpctl sessions --user xjalice | grep -q xjalice-50-1795640822_stDxfce_dp24"

kill -HUP "$agent_pid"
check "the agent reloads on SIGHUP" wait_for 20 "grep -q 'configuration reloaded' '$W/agent.log'"
check "the agent still runs after SIGHUP" kill -0 "$agent_pid"

say "broker started as root: it must drop to x2gojump"
stop_pid "$broker_pid"
start_broker root
uid=$(id -u x2gojump) gid=$(id -g x2gojump)
check "broker runs with uid $uid" \
  bash -c "grep -qP '^Uid:\t$uid\t$uid\t$uid\t$uid$' /proc/$broker_pid/status"
check "broker runs with gid $gid" \
  bash -c "grep -qP '^Gid:\t$gid\t$gid\t$gid\t$gid$' /proc/$broker_pid/status"
check "broker has no capabilities" bash -c "grep -qP '^CapEff:\t0+$' /proc/$broker_pid/status"
check "xjalice logs in through the root-started broker" \
  test "$(login xjalice alice-secret 'echo $X2GOJUMP_BACKEND')" = b2
stop_pid "$broker_pid"
stop_pid "$agent_pid"

# --- 4. purge -------------------------------------------------------------------------------------
say "dpkg --purge x2gojump-agent x2gojump-broker"
dpkg --purge x2gojump-agent x2gojump-broker >"$W/dpkg-purge.log" 2>&1 || fail "dpkg --purge"
installed=0
for p in x2gojump-broker x2gojump-agent; do
  check "$p is gone from dpkg's database" \
    bash -c "! dpkg-query -W -f='\${db:Status-Status}' $p 2>/dev/null | grep -qv '^not-installed$'"
done
# What stays in /etc/x2gojump is exactly what the admin (this test) put there.
left=$(cd $ETC && find . -mindepth 1 | sort | tr '\n' ' ')
check "only the admin's own files stay in $ETC ($left)" test "$left" = "./agent-api.crt \
./agent-api.key ./agent-token ./agent-tokens ./agent-tokens/b2 ./broker-ca.pem ./ldap-bind-password "
rm -rf "$ETC"
# Where packages, maintainer scripts, dpkg and deb-systemd-helper put things (man-db's page cache
# /var/cache/man is not the package's: mandb drops stale pages itself).
leftovers=$(find /etc /usr/sbin /usr/bin /usr/lib/systemd /usr/share/man /usr/share/doc \
  /usr/share/lintian /var/lib /var/log /run \( -name x2gojump -o -name 'x2gojump-broker*' -o \
  -name 'x2gojump-agent*' -o -name 'x2gojump.toml*' -o -name 'x2gojumpctl*' -o -name 'x2gojump_*' \) \
  -print 2>/dev/null || true)
check "nothing of the packages is left (${leftovers:-none})" test -z "$leftovers"
check "the system users stay (Debian policy)" bash -c 'getent passwd x2gojump x2gojump-agent >/dev/null'
say "PASS"
