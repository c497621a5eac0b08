# shellcheck shell=bash
# demo-components.sh - starts the pieces of the x2gojump demo farm: slapd with the demo directory,
# the demo's local accounts, two fake X2Go hosts (scripts/lib/fakehost.sh: own namespaces,
# x2goserver session DB, sshd, agent) and the broker. Sourced by scripts/demo after
# demo-common.sh; expects REPO, DEMO_DIR, BROKER_BIN, AGENT_BIN and BROKER_PORT.
#
# Each start_* function leaves its processes registered (see demo-common.sh) and ready, or fails
# with the tail of its log. Every process runs in its own session (setsid), so a Ctrl-C in the
# terminal reaches only scripts/demo, which then stops them in order.

FAKEHOST=$REPO/scripts/lib/fakehost.sh
FARM_PREFIX=xjdemo  # fakehost.sh instance prefix: netns xjdemo-h1, veths xjdemo-1r/-1n
LDAP_BASE="dc=example,dc=org"
LDAP_BIND_DN="cn=sshbroker,ou=services,$LDAP_BASE"
LDAP_BIND_PASSWORD="broker-secret"
DEMO_GECOS="x2gojump demo user"  # marks the local accounts the demo made (and may delete)

# Demo users: "name<TAB>password<TAB>groups (comma-separated)".
DEMO_USERS=(
  $'alice\talice-secret\tphysics,staff'
  $'bob\tbob-secret\tphysics'
  $'carol\tcarol-secret\tstudents'
)
# Who may use which host ([[pool]] tables of the broker config).
DEMO_POOLS=(
  $'research\tx2go-host-1,x2go-host-2\tphysics,staff'
  $'teaching\tx2go-host-2\tstudents'
)

LDAP_PORT=""
AGENT_API_PORT=""
declare -A HOST_DIR=() HOST_ADDRESS=() HOST_GATEWAY=()

demo_user_names() {
  local line
  for line in "${DEMO_USERS[@]}"; do printf '%s\n' "${line%%$'\t'*}"; done
}

# demo_ldif -> the demo directory: base, people, posix groups, the broker's service account.
demo_ldif() {
  local line name pw groups group uid=20001 gid=6001 hash
  local -A members=()
  printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: x2gojump demo\n\n' "$LDAP_BASE"
  for name in people groups services; do
    printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$name" "$LDAP_BASE" "$name"
  done
  hash=$(slappasswd -h '{SSHA}' -T <(printf '%s' "$LDAP_BIND_PASSWORD"))
  printf 'dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: sshbroker\nuserPassword: %s\n\n' \
    "$LDAP_BIND_DN" "$hash"
  for line in "${DEMO_USERS[@]}"; do
    IFS=$'\t' read -r name pw groups <<<"$line"
    hash=$(slappasswd -h '{SSHA}' -T <(printf '%s' "$pw"))
    cat <<EOF
dn: uid=$name,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $name
cn: ${name^}
sn: ${name^}
uidNumber: $uid
gidNumber: $uid
homeDirectory: /home/$name
loginShell: /bin/bash
userPassword: $hash

EOF
    uid=$((uid + 1))
    for group in ${groups//,/ }; do members[$group]+="memberUid: $name"$'\n'; done
  done
  for group in physics staff students; do
    printf 'dn: cn=%s,ou=groups,%s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %s\n%s\n' \
      "$group" "$LDAP_BASE" "$group" "$gid" "${members[$group]:-}"
    gid=$((gid + 1))
  done
}

# start_slapd: slapd with the demo directory on 127.0.0.1:3389 (or a free port), plain LDAP
# because it never leaves loopback.
start_slapd() {
  local want pid dir=$DEMO_DIR/slapd log=$DEMO_DIR/slapd-fixture.log
  want=$(port_or_free 3389)
  demo_ldif >"$DEMO_DIR/demo.ldif"
  pid=$(FIXTURE_TLS=0 FIXTURE_PPOLICY=0 FIXTURE_DATA="$DEMO_DIR/demo.ldif" \
        setsid "$REPO/tests/fixtures/slapd-fixture.sh" start "$dir" "$want" 2>"$log" </dev/null) || {
    tail -n 20 "$log" >&2
    die "slapd did not start (log: $log)"
  }
  LDAP_PORT=$(sed -n "s/^export LDAP_PORT=//p" "$dir/env")
  register slapd "$pid" "127.0.0.1:$LDAP_PORT" "slapd -F $dir/slapd.d" "$dir/slapd.log"
  # The fixture proved slapd answers; this proves the broker's service account can bind.
  printf '%s' "$LDAP_BIND_PASSWORD" >"$DEMO_DIR/ldap-bind-password"
  LDAPNOINIT=1 ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_BIND_DN" \
      -y "$DEMO_DIR/ldap-bind-password" -o nettimeout=3 >/dev/null 2>&1 \
    || die "slapd runs but the service account $LDAP_BIND_DN cannot bind (log: $dir/slapd.log)"
}

# ensure_local_users: the hosts' sshd checks the relayed password against /etc/shadow, so every
# LDAP user also needs a local account with the same password. Accounts the demo creates carry
# DEMO_GECOS and are listed in DEMO_DIR/created-users, so that teardown removes exactly those;
# an account of the same name that the demo did not make is never touched.
ensure_local_users() {
  local line name pw created=() input=""
  for line in "${DEMO_USERS[@]}"; do
    IFS=$'\t' read -r name pw _ <<<"$line"
    if getent passwd "$name" >/dev/null; then
      [[ $(getent passwd "$name" | cut -d: -f5) == "$DEMO_GECOS" ]] \
        || die "a local account '$name' exists that the demo did not create; the demo will not change its password"
    else
      flock /tmp/x2gojump-itest-users.lock \
        useradd -M -d "/home/$name" -s /bin/bash -c "$DEMO_GECOS" "$name" || die "useradd $name failed"
      created+=("$name")
      printf '%s\n' "$name" >>"$DEMO_DIR/created-users"
    fi
    input+="$name:$pw"$'\n'
  done
  # Same lock as tests/fixtures/LocalUsers.cpp: parallel chpasswd runs race on /etc/shadow's lock.
  # The passwords go through stdin, never argv.
  flock /tmp/x2gojump-itest-users.lock chpasswd <<<"${input%$'\n'}" || die "chpasswd failed"
  ((${#created[@]} == 0)) || say "created local accounts ${created[*]} (removed again by scripts/demo down)"
}

# remove_local_users: deletes the accounts this demo created (see ensure_local_users).
remove_local_users() {
  local name
  [[ -f $DEMO_DIR/created-users ]] || return 0
  while read -r name; do
    [[ $(getent passwd "$name" | cut -d: -f5) == "$DEMO_GECOS" ]] || continue
    flock /tmp/x2gojump-itest-users.lock userdel "$name" 2>/dev/null \
      || warn "could not remove the local account $name"
  done <"$DEMO_DIR/created-users"
  rm -f "$DEMO_DIR/created-users"
}

# start_host K: fake X2Go host x2go-host-K with its sshd and, as on a real X2Go server,
# x2gocleansessions (it marks a session S when its client went away). The agent starts later.
start_host() {
  local k=$1 name=x2go-host-$1 dir=$DEMO_DIR/hosts/h$1 out user
  local -a args=(start "$dir" --prefix "$FARM_PREFIX" --index "$k" --name "$name" --cleansessions)
  for user in $(demo_user_names); do args+=(--user "$user"); done
  mkdir -p "$DEMO_DIR/hosts"
  out=$("$FAKEHOST" "${args[@]}" 2>"$DEMO_DIR/hosts/h$k.log") || {
    tail -n 20 "$DEMO_DIR/hosts/h$k.log" >&2
    die "$name did not start (log: $DEMO_DIR/hosts/h$k.log)"
  }
  HOST_DIR[$name]=$dir
  HOST_ADDRESS[$name]=$(sed -n 's/^ADDRESS=//p' <<<"$out")
  HOST_GATEWAY[$name]=$(sed -n 's/^GATEWAY=//p' <<<"$out")
  register_pidfile "$name/sshd" "$dir/sshd.pid" "${HOST_ADDRESS[$name]}:22" \
    "sshd -D -f $dir/sshd_config" "$dir/sshd.log"
}

# start_agent NAME: the host's agent, reporting to the broker's agent API over the host's veth.
start_agent() {
  local name=$1 dir=${HOST_DIR[$1]}
  "$FAKEHOST" agent-start "$dir" --agent-bin "$AGENT_BIN" \
      --broker-url "http://${HOST_GATEWAY[$name]}:$AGENT_API_PORT" 2>>"$DEMO_DIR/hosts/${dir##*/}.log" || {
    tail -n 20 "$DEMO_DIR/hosts/${dir##*/}.log" >&2
    die "the agent of $name did not report to the broker (log: $dir/agent.log)"
  }
  register_pidfile "$name/agent" "$dir/agent.pid" "-" "--config /run/x2gojump-fakehost/agent" \
    "$dir/agent.log"
}

# stop_hosts: every process in the hosts' namespaces, then the namespaces and veths.
stop_hosts() {
  local dir
  for dir in "$DEMO_DIR"/hosts/h*; do
    [[ -f $dir/host.env ]] || continue
    "$FAKEHOST" stop "$dir" 2>/dev/null || warn "could not stop the fake host in $dir"
  done
}

# register_pidfile NAME PIDFILE PORT MATCH LOG: registers the process fakehost.sh recorded.
register_pidfile() {
  local pid
  read -r pid _ <"$2" || die "no pid in $2"
  register "$1" "$pid" "$3" "$4" "$5"
}

# toml_string VALUE -> VALUE as a TOML basic string.
toml_string() {
  local v=${1//\\/\\\\}
  printf '"%s"' "${v//\"/\\\"}"
}

# toml_list "a,b" -> ["a", "b"]
toml_list() {
  local item out=""
  for item in ${1//,/ }; do out+="${out:+, }$(toml_string "$item")"; done
  printf '[%s]' "$out"
}

# write_broker_config HOST... -> broker.toml on stdout, every host pinned by its host key.
write_broker_config() {
  local name listen="" line pool servers groups pub
  for name in "$@"; do listen+="${listen:+, }\"${HOST_GATEWAY[$name]}:$AGENT_API_PORT\""; done
  cat <<EOF
# x2gojump demo broker, written by scripts/demo (see packaging/broker.toml for every key).
[broker]
listen = ["127.0.0.1:$BROKER_PORT"]
host_keys = [$(toml_string "$DEMO_DIR/broker/ssh_host_ed25519_key")]
state_db = $(toml_string "$DEMO_DIR/broker/state.db")
threads = 2
log_level = "info"
# Users without a session: the same user lands on the same host, wherever they come from.
fallback = "user"
accept_new_backend_host_keys = false

[ldap]
uris = ["ldap://127.0.0.1:$LDAP_PORT"]
base_dn = "$LDAP_BASE"
user_base = "ou=people,$LDAP_BASE"
group_base = "ou=groups,$LDAP_BASE"
group_styles = ["posix"]
bind_dn = "$LDAP_BIND_DN"
bind_password_file = $(toml_string "$DEMO_DIR/ldap-bind-password")
connect_timeout_ms = 1000
operation_timeout_ms = 3000

# The agents push over each host's private veth (a point-to-point link only this machine sees),
# so the demo uses plain HTTP; a real farm uses tls_cert/tls_key.
[agent_api]
listen = [$listen]
allow_plain_http = true
EOF
  for line in "${DEMO_POOLS[@]}"; do
    IFS=$'\t' read -r pool servers groups <<<"$line"
    printf '\n[[pool]]\nname = "%s"\nservers = %s\nallow_groups = %s\n' \
      "$pool" "$(toml_list "$servers")" "$(toml_list "$groups")"
  done
  for name in "$@"; do
    read -r -a pub <"${HOST_DIR[$name]}/ssh_host_ed25519_key.pub"
    cat <<EOF

[[server]]
name = "$name"
address = "${HOST_ADDRESS[$name]}"
port = 22
host_key = "${pub[0]} ${pub[1]}"
agent_token_file = $(toml_string "${HOST_DIR[$name]}/agent-token")
EOF
  done
}

# start_broker HOST...: the broker on 127.0.0.1:$BROKER_PORT in front of the given hosts.
start_broker() {
  local dir=$DEMO_DIR/broker config=$DEMO_DIR/broker.toml pid rc=0
  local log=$dir/broker.log
  mkdir -p "$dir"
  ssh-keygen -q -t ed25519 -N '' -C x2gojump-demo -f "$dir/ssh_host_ed25519_key" </dev/null
  AGENT_API_PORT=$(port_or_free 8444)
  write_broker_config "$@" >"$config"
  "$BROKER_BIN" --config "$config" --check-config >"$dir/check.log" 2>&1 || {
    cat "$dir/check.log" >&2
    die "the generated $config is invalid"
  }
  port_free "$BROKER_PORT" || broker_port_busy
  setsid "$BROKER_BIN" --config "$config" </dev/null >>"$log" 2>&1 &
  pid=$!
  disown "$pid"
  register broker "$pid" "127.0.0.1:$BROKER_PORT" "--config $config" "$log"
  wait_ssh "$BROKER_PORT" "$pid" || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then kill -TERM "$pid" 2>/dev/null || true; fi
    unregister "$pid"
    tail -n 20 "$log" >&2
    port_free "$BROKER_PORT" || broker_port_busy
    die "x2gojump-broker did not start (log: $log)"
  fi
  # A known_hosts file for the demo, so ssh verifies the broker without touching ~/.ssh; the
  # same in the demo client's HOME for pyhoca-cli.
  local pub; read -r -a pub <"$dir/ssh_host_ed25519_key.pub"
  printf '[127.0.0.1]:%s %s %s\n' "$BROKER_PORT" "${pub[0]}" "${pub[1]}" >"$DEMO_DIR/known_hosts"
  mkdir -p "$DEMO_DIR/client/.ssh"
  cp "$DEMO_DIR/known_hosts" "$DEMO_DIR/client/.ssh/known_hosts"
}

broker_port_busy() {
  warn "port $BROKER_PORT is already in use:"
  port_listeners "$BROKER_PORT" | sed 's/^/  /' >&2
  die "stop whatever listens there, or pick another port with X2GOJUMP_DEMO_PORT=N"
}
