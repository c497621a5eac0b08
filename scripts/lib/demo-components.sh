# shellcheck shell=bash
# demo-components.sh - starts the pieces of the x2gojump demo: slapd with the test directory,
# local accounts, one sshd per X2Go host, and the broker. Sourced by scripts/demo after
# demo-common.sh; expects REPO, DEMO_DIR, BROKER_BIN and BROKER_PORT.
#
# Each start_* function leaves its process registered (see demo-common.sh) and ready, or fails
# with the tail of its log. A process is registered right after it is started, before waiting
# for it, so that a stop requested meanwhile finds it. Every process runs in its own session (setsid) so a Ctrl-C in the
# terminal reaches only scripts/demo, which then stops them in order.

LDAP_BASE="dc=example,dc=org"
LDAP_BIND_DN="cn=sshbroker,ou=services,$LDAP_BASE"
LDAP_BIND_PASSWORD="broker-secret"

# Demo users as in the header of tests/fixtures/testdata.ldif: "name<TAB>password<TAB>note".
DEMO_USERS=(
  $'xjalice\talice-secret\tgroups physics, staff'
  $'xjbob\tbob-secret\tgroup physics'
  $'xjcarol\tcarol pässword\tgroup students (UTF-8 and a space in the password)'
  $'xjdave\tdave-secret\tlocked in LDAP: the broker refuses him'
  $'xjeve\teve-secret\tno groups'
)

LDAP_PORT=""
declare -A HOST_PORT=() HOST_KEY=()

# start_slapd: slapd with the test directory on 127.0.0.1:3389 (or a free port), plain LDAP
# because it never leaves loopback.
start_slapd() {
  local want pid dir=$DEMO_DIR/slapd log=$DEMO_DIR/slapd-fixture.log
  want=$(port_or_free 3389)
  pid=$(FIXTURE_TLS=0 FIXTURE_DATA="$REPO/tests/fixtures/testdata.ldif" \
        setsid "$REPO/tests/fixtures/slapd-fixture.sh" start "$dir" "$want" 2>"$log" </dev/null) || {
    tail -n 20 "$log" >&2
    die "slapd did not start (log: $log)"
  }
  LDAP_PORT=$(sed -n "s/^export LDAP_PORT=//p" "$dir/env")
  register slapd "$pid" "$LDAP_PORT" "slapd -F $dir/slapd.d" "$dir/slapd.log"
  # The fixture proved slapd answers; this proves the broker's service account can bind.
  printf '%s' "$LDAP_BIND_PASSWORD" >"$DEMO_DIR/ldap-bind-password"
  LDAPNOINIT=1 ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_BIND_DN" \
      -y "$DEMO_DIR/ldap-bind-password" -o nettimeout=3 >/dev/null 2>&1 \
    || die "slapd runs but the service account $LDAP_BIND_DN cannot bind (log: $dir/slapd.log)"
}

# ensure_local_users: the backends check the relayed password against /etc/shadow, so every
# LDAP user also needs a local account with the same password. Idempotent.
ensure_local_users() {
  local line name pw created=() input=""
  for line in "${DEMO_USERS[@]}"; do
    IFS=$'\t' read -r name pw _ <<<"$line"
    if ! getent passwd "$name" >/dev/null; then
      useradd -m -s /bin/bash "$name" || die "useradd $name failed"
      created+=("$name")
    fi
    input+="$name:$pw"$'\n'
  done
  # Same lock as tests/fixtures/LocalUsers.cpp: parallel chpasswd runs race on /etc/shadow's lock.
  # The passwords go through stdin, never argv.
  flock /tmp/x2gojump-itest-users.lock chpasswd <<<"${input%$'\n'}" || die "chpasswd failed"
  if ((${#created[@]})); then
    say "created local Unix accounts ${created[*]} (the backends check passwords locally)"
  else
    say "local Unix accounts xj* present; passwords reset to the demo passwords"
  fi
}

# start_host NAME PREFERRED_PORT: one X2Go host. For now only its sshd, which announces itself to
# the session in X2GOJUMP_BACKEND; x2goserver and the agent will join here.
start_host() {
  start_sshd "$1" "$2"
}

start_sshd() {
  local name=$1 port dir=$DEMO_DIR/$1 pid attempt rc
  mkdir -p "$dir" /run/sshd  # /run/sshd: sshd's privilege-separation chroot
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh_host_ed25519_key" </dev/null
  local pub; read -r -a pub <"$dir/ssh_host_ed25519_key.pub"
  HOST_KEY[$name]="${pub[0]} ${pub[1]}"
  port=$(port_or_free "$2")
  # A free port can be taken between the check and sshd's bind; then try another one.
  for attempt in 1 2 3; do
    write_sshd_config "$name" "$dir" "$port" >"$dir/sshd_config"
    # sshd re-executes itself for each connection, so the binary and config need absolute paths.
    setsid /usr/sbin/sshd -D -e -f "$dir/sshd_config" </dev/null >>"$dir/sshd.log" 2>&1 &
    pid=$!
    disown "$pid"  # bash still reaps it, but stays quiet when it dies; the watcher reports that
    register "$name" "$pid" "$port" "sshd -D -e -f $dir/sshd_config" "$dir/sshd.log"
    rc=0; wait_ssh "$port" "$pid" || rc=$?
    if ((rc == 0)); then
      HOST_PORT[$name]=$port
      return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    unregister "$pid"
    if ((attempt == 3)) || ! grep -q 'Address already in use' "$dir/sshd.log"; then break; fi
    port=$(pick_port)
  done
  tail -n 20 "$dir/sshd.log" >&2
  die "sshd for $name did not start (log: $dir/sshd.log)"
}

write_sshd_config() {
  local name=$1 dir=$2 port=$3
  cat <<EOF
# $name, written by scripts/demo
ListenAddress 127.0.0.1:$port
HostKey $dir/ssh_host_ed25519_key
PidFile none
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
AllowTcpForwarding yes
AllowAgentForwarding yes
X11Forwarding no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
SetEnv X2GOJUMP_BACKEND=$name
LogLevel INFO
EOF
}

# toml_string VALUE -> VALUE as a TOML basic string.
toml_string() {
  local v=${1//\\/\\\\}
  printf '"%s"' "${v//\"/\\\"}"
}

# write_broker_config HOST... -> broker.toml on stdout, every host pinned by its host key.
write_broker_config() {
  local name
  cat <<EOF
# x2gojump demo broker, written by scripts/demo (see packaging/broker.toml for every key).
[broker]
listen = ["127.0.0.1:$BROKER_PORT"]
host_keys = [$(toml_string "$DEMO_DIR/broker/ssh_host_ed25519_key")]
state_db = $(toml_string "$DEMO_DIR/broker/state.db")
threads = 2
log_level = "info"
# Different users land on different hosts, and each user keeps landing on the same one.
fallback = "user"
accept_new_backend_host_keys = false

[ldap]
uris = ["ldap://127.0.0.1:$LDAP_PORT"]
base_dn = "$LDAP_BASE"
user_base = "ou=people,$LDAP_BASE"
group_base = "ou=groups,$LDAP_BASE"
bind_dn = "$LDAP_BIND_DN"
bind_password_file = $(toml_string "$DEMO_DIR/ldap-bind-password")
connect_timeout_ms = 1000
operation_timeout_ms = 3000
EOF
  for name in "$@"; do
    cat <<EOF

[[server]]
name = "$name"
address = "127.0.0.1"
port = ${HOST_PORT[$name]}
host_key = "${HOST_KEY[$name]}"
EOF
  done
}

# start_broker HOST...: the broker on 127.0.0.1:$BROKER_PORT in front of the given hosts.
start_broker() {
  local dir=$DEMO_DIR/broker config=$DEMO_DIR/broker.toml pid rc=0
  local log=$dir/broker.log
  mkdir -p "$dir"
  ssh-keygen -q -t ed25519 -N '' -C x2gojump-demo -f "$dir/ssh_host_ed25519_key" </dev/null
  write_broker_config "$@" >"$config"
  "$BROKER_BIN" --config "$config" --check-config >"$dir/check.log" 2>&1 || {
    cat "$dir/check.log" >&2
    die "the generated $config is invalid"
  }
  port_free "$BROKER_PORT" || broker_port_busy
  setsid "$BROKER_BIN" --config "$config" </dev/null >>"$log" 2>&1 &
  pid=$!
  disown "$pid"
  register broker "$pid" "$BROKER_PORT" "--config $config" "$log"
  wait_ssh "$BROKER_PORT" "$pid" || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then kill -TERM "$pid" 2>/dev/null || true; fi
    unregister "$pid"
    tail -n 20 "$log" >&2
    port_free "$BROKER_PORT" || broker_port_busy
    die "x2gojump-broker did not start (log: $log)"
  fi
  # A known_hosts file for the demo, so ssh verifies the broker without touching ~/.ssh.
  local pub; read -r -a pub <"$dir/ssh_host_ed25519_key.pub"
  printf '[127.0.0.1]:%s %s %s\n' "$BROKER_PORT" "${pub[0]}" "${pub[1]}" >"$DEMO_DIR/known_hosts"
}

broker_port_busy() {
  warn "port $BROKER_PORT is already in use:"
  port_listeners "$BROKER_PORT" | sed 's/^/  /' >&2
  die "stop whatever listens there, or pick another port with X2GOJUMP_DEMO_PORT=N"
}
