#!/usr/bin/env bash
# fakehost.sh - one fake X2Go host on this machine, for scripts/demo and the end-to-end tests
# (tests/fixtures/X2goFarm.cpp). Root only. Each host gets, all derived from the caller's
# instance PREFIX and host index K:
#   network namespace  PREFIX-hK: lo + veth PREFIX-Kn = 10.B.K.2/24, root side PREFIX-Kr =
#                      10.B.K.1/24 (B in 200..254: the first whose 10.B.K.0/24 nobody routes yet)
#   mount + UTS ns     hostname x2go-host-K (or --name); private /tmp, /home, /var/lib/x2go and
#                      /etc/hosts, bound from DIR; kept by a holder process (sleep) in DIR/holder.pid
#   x2goserver DB      DIR/varlibx2go/x2go_sessions, made by `x2godbadmin --createdb` in the host
#   sshd               10.B.K.2:22, UsePAM yes, passwords; config and log in DIR
#   x2gocleansessions  with --cleansessions: X2Go's own session reconciler, which a real X2Go
#                      server runs as a daemon (it marks a session whose client went away S, and
#                      one whose agent died F, within seconds). Off by default: it also marks
#                      rows without a live x2goagent F once they are 30 s old, which hand-made
#                      test rows are.
#   x2gojump-agent     inside the host as the unprivileged user x2gojump-agent (group x2gouser),
#                      config in DIR/agent (seen in the host as /run/x2gojump-fakehost/agent),
#                      reporting over the veth to brokers in the root namespace. Plain HTTP: the
#                      veth is a private point-to-point link that only this machine can see.
# Users and their passwords are shared with the machine (/etc/passwd is not namespaced), like an
# LDAP farm; each --user gets a home in the host's private /home.
#
#   fakehost.sh start DIR --prefix P --index K [--name NAME] [--user U]... [--owner PID]
#                     [--cleansessions]
#                                   start the host and its sshd; prints `env` once sshd answers
#   fakehost.sh agent-start DIR --agent-bin PATH --broker-url URL... [--heartbeat S] [--no-wait]
#                                   returns once the agent delivered its first snapshot
#   fakehost.sh agent-stop DIR [--kill]   fakehost.sh sshd-start DIR   fakehost.sh sshd-stop DIR
#   fakehost.sh exec DIR CMD...     run CMD as root inside the host (all its namespaces)
#   fakehost.sh env DIR             the host's settings as shell assignments (NAME, ADDRESS, ...)
#   fakehost.sh status DIR          what runs (exit 0 all, 1 some, 3 host not running)
#   fakehost.sh stop DIR            stop every process in the host's netns, delete netns and veth
#   fakehost.sh gc                  stop hosts whose --owner process is gone (crashed tests)
#
# DIR is the caller's (created if missing, never removed here). P: [a-z][a-z0-9]{0,10}, K: 1..99.
# Waits are readiness polls with deadlines; every failure says what failed and where the log is.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
umask 022

SELF=$(readlink -f "${BASH_SOURCE[0]}")
RUNDIR=/run/x2gojump-fakehost    # lock, registry (for gc); inside hosts: a private tmpfs
LOCK=$RUNDIR/lock
REGISTRY=$RUNDIR/registry
AGENT_USER=${FAKEHOST_AGENT_USER:-x2gojump-agent}
USERS_LOCK=/tmp/x2gojump-itest-users.lock  # shared with tests/fixtures/LocalUsers.cpp

die() { printf 'fakehost: %s\n' "$*" >&2; exit 1; }
say() { printf 'fakehost: %s\n' "$*" >&2; }

# --- process identity --------------------------------------------------------------------------

start_time() {  # PID -> start time in clock ticks (field 22 of /proc/PID/stat)
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  local -a f; read -ra f <<<"${stat##*) }"
  printf '%s\n' "${f[19]}"
}

alive() {  # PID [START] -> true while that very process runs (not a zombie)
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]] || return 1
  [[ -z ${2:-} ]] || [[ $(start_time "$1") == "$2" ]]
}

read_pidfile() {  # FILE -> "PID START" if that process still runs
  local pid start
  [[ -f $1 ]] || return 1
  read -r pid start <"$1" || return 1
  alive "$pid" "$start" && echo "$pid $start"
}

# stop_pid PID START [--kill]: SIGTERM (or SIGKILL), SIGKILL after 5 s, returns once it is gone.
stop_pid() {
  local pid=$1 start=$2 sig=TERM i
  [[ ${3:-} == --kill ]] && sig=KILL
  alive "$pid" "$start" || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 500; i++)); do
    alive "$pid" "$start" || return 0
    ((i != 100)) || kill -KILL "$pid" 2>/dev/null || true
    sleep 0.01
  done
  die "pid $pid did not exit after SIGKILL"
}

# --- state -------------------------------------------------------------------------------------

load_env() {  # DIR -> sources DIR/host.env
  [[ -f $1/host.env ]] || die "$1 holds no fake host (no host.env)"
  # shellcheck source=/dev/null
  source "$1/host.env"
}

holder() {  # -> "PID START" of the running holder, else fails
  read_pidfile "$DIR/holder.pid"
}

require_running() {
  holder >/dev/null || die "host $NAME is not running (no holder process; start it first)"
}

in_host() {  # CMD... -> runs CMD in the host's network, mount and UTS namespaces
  local h; h=$(holder) || die "host $NAME is not running"
  nsenter -t "${h%% *}" -n -m -u -- "$@"
}

print_env() {
  printf 'NAME=%s\nADDRESS=%s\nGATEWAY=%s\nNETNS=%s\nVETH=%s\nDB=%s\nTOKEN_FILE=%s\n' \
    "$NAME" "$ADDRESS" "$GATEWAY" "$NETNS" "$VETH_ROOT" "$DIR/varlibx2go/x2go_sessions" \
    "$DIR/agent-token"
}

# --- start ---------------------------------------------------------------------------------------

# allocate_subnet K -> B such that no interface address or non-default route covers 10.B.K.0/24.
# Called with LOCK held, so two hosts started at once cannot both get the same subnet.
allocate_subnet() {
  local k=$1 b addrs
  addrs=$(ip -4 -o addr show | awk '{print $4}')
  for ((b = 200; b <= 254; b++)); do
    grep -q "^10\.$b\.$k\." <<<"$addrs" && continue
    [[ -z $(ip -4 route show match "10.$b.$k.1" | grep -v '^default' || true) ]] || continue
    echo "$b"
    return 0
  done
  die "no free subnet 10.B.$k.0/24 (B = 200..254) left on this machine"
}

ensure_agent_user() {
  if getent passwd "$AGENT_USER" >/dev/null; then
    id -nG "$AGENT_USER" | grep -qw x2gouser \
      || die "user $AGENT_USER exists but is not in group x2gouser (usermod -aG x2gouser $AGENT_USER)"
    return 0
  fi
  # useradd takes /etc/passwd's lock without waiting; serialize with the test user setup.
  flock "$USERS_LOCK" useradd --system --user-group --groups x2gouser --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin --comment "x2gojump agent (fake hosts)" \
    "$AGENT_USER" || getent passwd "$AGENT_USER" >/dev/null \
    || die "cannot create the system user $AGENT_USER"
}

write_sshd_config() {
  cat <<EOF
# $NAME, written by fakehost.sh
ListenAddress $ADDRESS:22
HostKey $DIR/ssh_host_ed25519_key
PidFile none
LogLevel INFO
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM yes
PermitRootLogin no
AllowTcpForwarding yes
AllowAgentForwarding yes
X11Forwarding no
AcceptEnv LANG LC_*
UseDNS no
PrintMotd no
PrintLastLog no
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# host_init DIR: runs as the holder, in the new netns + mount + UTS namespaces.
host_init() {
  DIR=$1
  load_env "$DIR"
  hostname "$NAME"
  # Stage DIR before /tmp or /home are covered (DIR may lie below them), then put it back.
  mount -t tmpfs -o size=1m,mode=0755 fakehost "$RUNDIR"
  mkdir "$RUNDIR/state" "$RUNDIR/agent"
  mount --bind "$DIR" "$RUNDIR/state"
  local s=$RUNDIR/state
  mount --bind "$s/agent" "$RUNDIR/agent"
  mount --bind "$s/varlibx2go" /var/lib/x2go
  mount --bind "$s/home" /home
  mount --bind "$s/tmp" /tmp
  mount --bind "$s/hosts" /etc/hosts
  mkdir -p "$DIR"
  mount --bind "$RUNDIR/state" "$DIR"
  echo "$$ $(start_time $$)" >"$DIR/holder.pid.new"
  mv "$DIR/holder.pid.new" "$DIR/holder.pid"
  exec sleep infinity
}

cmd_start() {
  local prefix="" index="" name="" owner="" owner_start="" cleansessions=0 h i
  local -a users=()
  while (($#)); do
    case $1 in
      --prefix) prefix=${2:?}; shift 2 ;;
      --index) index=${2:?}; shift 2 ;;
      --name) name=${2:?}; shift 2 ;;
      --user) users+=("${2:?}"); shift 2 ;;
      --owner) owner=${2:?}; shift 2 ;;
      --cleansessions) cleansessions=1; shift ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [[ $prefix =~ ^[a-z][a-z0-9]{0,10}$ ]] || die "--prefix must match [a-z][a-z0-9]{0,10} (got '$prefix')"
  [[ $index =~ ^[1-9][0-9]?$ ]] || die "--index must be 1..99 (got '$index')"
  name=${name:-x2go-host-$index}
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$ ]] || die "invalid host name '$name'"
  if [[ -n $owner ]]; then owner_start=$(start_time "$owner") || die "--owner $owner is not running"; fi
  for i in ip nsenter unshare setpriv sshd x2godbadmin ssh-keygen openssl; do
    command -v "$i" >/dev/null || die "$i is missing (scripts/install-deps installs it)"
  done
  local u
  for u in "${users[@]}"; do getent passwd "$u" >/dev/null || die "no such user: $u"; done

  if [[ -f $DIR/host.env ]]; then
    load_env "$DIR"
    if holder >/dev/null; then
      say "host $NAME already running"
      print_env
      return 0
    fi
  fi
  NAME=$name NETNS=$prefix-h$index
  VETH_ROOT=$prefix-${index}r VETH_HOST=$prefix-${index}n
  [[ $DIR != "$RUNDIR"* ]] || die "DIR must not lie below $RUNDIR"
  ! ip netns list | grep -q "^$NETNS\b" \
    || die "network namespace $NETNS exists already (a host of another run with the same prefix? fakehost.sh stop its DIR, or fakehost.sh gc)"
  ensure_agent_user

  mkdir -p "$DIR"/{varlibx2go,home,tmp,agent} "$RUNDIR" "$REGISTRY" /run/sshd
  chmod 1777 "$DIR/tmp"
  mkdir -p "$DIR/tmp/.X11-unix" && chmod 1777 "$DIR/tmp/.X11-unix"
  for u in "${users[@]}"; do
    [[ -d $DIR/home/$u ]] && continue
    cp -a /etc/skel "$DIR/home/$u"
    chown -R "$u:$(id -gn "$u")" "$DIR/home/$u"
    chmod 700 "$DIR/home/$u"
  done
  [[ -f $DIR/ssh_host_ed25519_key ]] \
    || ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$DIR/ssh_host_ed25519_key" </dev/null
  # The broker's copy of the agent token (root only) and the agent's (its user only).
  if [[ ! -f $DIR/agent-token ]]; then
    (umask 077; openssl rand -hex 32 >"$DIR/agent-token")
  fi

  # Network: subnet choice and address assignment under one lock.
  (
    flock 9
    local b gw addr
    b=$(allocate_subnet "$index")
    gw=10.$b.$index.1 addr=10.$b.$index.2
    ip netns add "$NETNS"
    if ! { ip link add "$VETH_ROOT" type veth peer name "$VETH_HOST" netns "$NETNS" &&
           ip addr add "$gw/24" dev "$VETH_ROOT" && ip link set "$VETH_ROOT" up &&
           ip -n "$NETNS" addr add "$addr/24" dev "$VETH_HOST" &&
           ip -n "$NETNS" link set "$VETH_HOST" up && ip -n "$NETNS" link set lo up; }; then
      ip link del "$VETH_ROOT" 2>/dev/null || true
      ip netns del "$NETNS"
      die "cannot set up the network of $NAME"
    fi
    {
      printf 'NAME=%q\nPREFIX=%q\nINDEX=%q\nNETNS=%q\nVETH_ROOT=%q\n' "$NAME" "$prefix" "$index" \
        "$NETNS" "$VETH_ROOT"
      printf 'GATEWAY=%q\nADDRESS=%q\nOWNER=%q\nOWNER_START=%q\n' "$gw" "$addr" \
        "$owner" "$owner_start"
    } >"$DIR/host.env"
    printf 'DIR=%q\n' "$DIR" | cat - "$DIR/host.env" >"$REGISTRY/$NETNS"
  ) 9>>"$LOCK"
  load_env "$DIR"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n%s\t%s\n' "$NAME" "$ADDRESS" "$NAME" >"$DIR/hosts"
  write_sshd_config >"$DIR/sshd_config"

  rm -f "$DIR/holder.pid"
  setsid ip netns exec "$NETNS" unshare --mount --uts --propagation private -- \
    "$SELF" __init "$DIR" </dev/null >"$DIR/holder.log" 2>&1 &
  local launcher=$!
  for ((i = 0; i < 1000; i++)); do
    h=$(holder) && break
    alive "$launcher" || { cat "$DIR/holder.log" >&2; cmd_stop; die "$NAME: namespace setup failed"; }
    sleep 0.01
  done
  [[ -n ${h:-} ]] || { cmd_stop; die "$NAME: namespace setup timed out (log: $DIR/holder.log)"; }

  # x2goserver's own tooling makes the session DB (schema, owner root:x2gouser, modes).
  in_host x2godbadmin --createdb >"$DIR/createdb.log" 2>&1 \
    || { cat "$DIR/createdb.log" >&2; cmd_stop; die "$NAME: x2godbadmin --createdb failed"; }
  [[ -f $DIR/varlibx2go/x2go_sessions ]] || { cmd_stop; die "$NAME: x2godbadmin made no DB"; }
  if ((cleansessions)); then
    # --debug keeps it in the foreground (as a daemon it would write /run/x2goserver.pid, which
    # the hosts share with this machine) and logs each status change it makes.
    setsid nsenter -t "${h%% *}" -n -m -u -- /usr/sbin/x2gocleansessions --debug \
      </dev/null >>"$DIR/cleansessions.log" 2>&1 &
    echo "$! $(start_time $!)" >"$DIR/cleansessions.pid"
  fi
  cmd_sshd_start || { cmd_stop; exit 1; }
  say "$NAME up: ssh on $ADDRESS:22, netns $NETNS, state in $DIR"
  print_env
}

# --- sshd ----------------------------------------------------------------------------------------

ssh_banner() {  # ADDRESS -> true if ADDRESS:22 sends an SSH identification line
  ( exec 3<>"/dev/tcp/$1/22" || exit 1
    IFS= read -r -t 3 line <&3 || exit 1
    printf 'SSH-2.0-fakehost-probe\r\n' >&3
    [[ $line == SSH-2.0-* ]] ) 2>/dev/null
}

cmd_sshd_start() {
  require_running
  local pid i
  read_pidfile "$DIR/sshd.pid" >/dev/null && { say "sshd of $NAME already running"; return 0; }
  # sshd re-executes itself per connection: absolute binary and config paths.
  setsid nsenter -t "$(holder | cut -d' ' -f1)" -n -m -u -- \
    /usr/sbin/sshd -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" </dev/null >>"$DIR/sshd.out" 2>&1 &
  pid=$!
  echo "$pid $(start_time "$pid")" >"$DIR/sshd.pid"
  for ((i = 0; i < 2000; i++)); do
    if ! alive "$pid"; then
      tail -n 15 "$DIR/sshd.log" "$DIR/sshd.out" >&2 2>/dev/null || true
      say "sshd of $NAME exited (log: $DIR/sshd.log)"
      return 1
    fi
    ssh_banner "$ADDRESS" && return 0
    sleep 0.01
  done
  say "sshd of $NAME does not answer on $ADDRESS:22 within 20 s (log: $DIR/sshd.log)"
  return 1
}

cmd_sshd_stop() {
  local p
  if p=$(read_pidfile "$DIR/sshd.pid"); then stop_pid "${p% *}" "${p#* }"; fi
  rm -f "$DIR/sshd.pid"
}

# --- agent ---------------------------------------------------------------------------------------

write_agent_config() {  # HEARTBEAT URL...
  local heartbeat=$1 url
  shift
  cat <<EOF
# x2gojump-agent of $NAME, written by fakehost.sh. server_name is left to its default, the host
# name, which is what x2goserver writes into the DB's server column.
[agent]
session_db = "/var/lib/x2go/x2go_sessions"
heartbeat_interval_s = $heartbeat
host_key_files = ["$RUNDIR/agent/ssh_host_ed25519_key.pub"]
log_level = "info"
EOF
  for url in "$@"; do
    printf '\n[[broker]]\nurl = "%s"\ntoken_file = "token"\n' "$url"
    [[ $url != http://* ]] || printf 'allow_plain_http = true\n'
  done
}

cmd_agent_start() {
  local bin="" heartbeat=5 wait=1 timeout=20 pid lines i
  local -a urls=()
  while (($#)); do
    case $1 in
      --agent-bin) bin=${2:?}; shift 2 ;;
      --broker-url) urls+=("${2:?}"); shift 2 ;;
      --heartbeat) heartbeat=${2:?}; shift 2 ;;
      --timeout) timeout=${2:?}; shift 2 ;;
      --no-wait) wait=0; shift ;;
      *) die "agent-start: unknown option $1" ;;
    esac
  done
  require_running
  [[ -n $bin ]] || die "agent-start: --agent-bin is required"
  ((${#urls[@]})) || die "agent-start: at least one --broker-url is required"
  read_pidfile "$DIR/agent.pid" >/dev/null && { say "agent of $NAME already running"; return 0; }
  bin=$(readlink -f "$bin")
  [[ -f $bin && -x $bin ]] || die "agent-start: $bin is not an executable file"
  cp "$DIR/agent-token" "$DIR/agent/token"
  cp "$DIR/ssh_host_ed25519_key.pub" "$DIR/agent/"
  write_agent_config "$heartbeat" "${urls[@]}" >"$DIR/agent/agent.toml"
  chown -R "$AGENT_USER:" "$DIR/agent"
  chmod 700 "$DIR/agent"
  chmod 600 "$DIR/agent/token" "$DIR/agent/agent.toml"
  # A root-owned copy the agent user can reach wherever the build tree is (/root is 0700, and so
  # is a build directory made under the demo's umask).
  rm -f "$DIR/agent/x2gojump-agent"
  install -m 0755 "$bin" "$DIR/agent/x2gojump-agent"
  touch "$DIR/agent.log"
  lines=$(wc -l <"$DIR/agent.log")
  setsid nsenter -t "$(holder | cut -d' ' -f1)" -n -m -u -- \
    setpriv --reuid="$AGENT_USER" --regid="$AGENT_USER" --init-groups --no-new-privs -- \
    "$RUNDIR/agent/x2gojump-agent" --config "$RUNDIR/agent/agent.toml" </dev/null >>"$DIR/agent.log" 2>&1 &
  pid=$!
  echo "$pid $(start_time "$pid")" >"$DIR/agent.pid"
  ((wait)) || return 0
  for ((i = 0; i < timeout * 100; i++)); do
    local new; new=$(tail -n +"$((lines + 1))" "$DIR/agent.log")
    if grep -qE 'first snapshot delivered|snapshot delivered after' <<<"$new"; then return 0; fi
    if ! alive "$pid"; then
      tail -n 15 "$DIR/agent.log" >&2
      die "the agent of $NAME exited (log: $DIR/agent.log)"
    fi
    if grep -q 'snapshot rejected' <<<"$new"; then
      grep 'snapshot rejected' <<<"$new" >&2
      die "the broker rejects the agent of $NAME (log: $DIR/agent.log)"
    fi
    sleep 0.01
  done
  die "the agent of $NAME delivered no snapshot within $timeout s (log: $DIR/agent.log)"
}

cmd_agent_stop() {
  local p
  if p=$(read_pidfile "$DIR/agent.pid"); then stop_pid "${p% *}" "${p#* }" "${1:-}"; fi
  rm -f "$DIR/agent.pid"
}

# --- stop / status / gc ----------------------------------------------------------------------------

# netns_pids -> every process in the host's network namespace: all were started by us (holder,
# sshd, agent, and whatever logins started: x2goagent, sessions).
netns_pids() { ip netns pids "$NETNS" 2>/dev/null || true; }

cmd_stop() {
  local round pids
  cmd_agent_stop
  cmd_sshd_stop
  if ip netns list | grep -q "^$NETNS\b"; then
    for round in TERM KILL; do
      pids=$(netns_pids)
      [[ -n $pids ]] || break
      # shellcheck disable=SC2086
      kill -s "$round" $pids 2>/dev/null || true
      for ((i = 0; i < 300; i++)); do
        [[ -n $(netns_pids) ]] || break
        sleep 0.01
      done
    done
    [[ -z $(netns_pids) ]] || say "processes left in $NETNS: $(netns_pids | tr '\n' ' ')"
  fi
  # The holder may live on outside the netns only if ip netns pids could not see it.
  local h; if h=$(holder); then stop_pid "${h% *}" "${h#* }" --kill; fi
  ip link del "$VETH_ROOT" 2>/dev/null || true
  ip netns del "$NETNS" 2>/dev/null || true
  rm -f "$DIR/holder.pid" "$REGISTRY/$NETNS"
  say "$NAME stopped"
}

cmd_status() {
  local rc=0 p
  if ! p=$(holder); then echo "$NAME: not running"; return 3; fi
  echo "$NAME: namespaces held by pid ${p%% *}, netns $NETNS, ssh $ADDRESS:22, gateway $GATEWAY"
  if p=$(read_pidfile "$DIR/sshd.pid"); then echo "  sshd   pid ${p%% *}"; else echo "  sshd   stopped"; rc=1; fi
  if p=$(read_pidfile "$DIR/agent.pid"); then echo "  agent  pid ${p%% *}"; else echo "  agent  stopped"; rc=1; fi
  if [[ -f $DIR/cleansessions.pid ]]; then
    if p=$(read_pidfile "$DIR/cleansessions.pid"); then
      echo "  x2gocleansessions pid ${p%% *}"
    else
      echo "  x2gocleansessions stopped"; rc=1
    fi
  fi
  return "$rc"
}

cmd_gc() {
  local entry
  [[ -d $REGISTRY ]] || return 0
  for entry in "$REGISTRY"/*; do
    [[ -f $entry ]] || continue
    (
      DIR="" OWNER="" OWNER_START=""
      # shellcheck source=/dev/null
      source "$entry"
      [[ -n $OWNER ]] || exit 0
      alive "$OWNER" "$OWNER_START" && exit 0
      say "removing $NAME ($NETNS): its owner pid $OWNER is gone"
      if [[ -f $DIR/host.env ]]; then load_env "$DIR"; fi
      cmd_stop
    ) || true
  done
}

[[ $EUID == 0 ]] || die "must run as root"
cmd=${1:-}
case $cmd in
  __init) host_init "$2" ;;
  gc) mkdir -p "$RUNDIR"; (flock 9; cmd_gc) 9>>"$LOCK" ;;
  start|agent-start|agent-stop|sshd-start|sshd-stop|exec|env|status|stop)
    [[ -n ${2:-} ]] || die "$cmd: DIR missing"
    DIR=$(readlink -m "$2")
    shift 2
    case $cmd in
      start) cmd_start "$@" ;;
      agent-start) load_env "$DIR"; cmd_agent_start "$@" ;;
      agent-stop) load_env "$DIR"; cmd_agent_stop "$@" ;;
      sshd-start) load_env "$DIR"; cmd_sshd_start ;;
      sshd-stop) load_env "$DIR"; cmd_sshd_stop ;;
      exec) load_env "$DIR"; (($#)) || die "exec: CMD missing"; in_host "$@" ;;
      env) load_env "$DIR"; print_env ;;
      status) load_env "$DIR"; cmd_status ;;
      stop) [[ -f $DIR/host.env ]] || { say "$DIR: nothing to stop"; exit 0; }
            load_env "$DIR"; cmd_stop ;;
    esac ;;
  *) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$SELF" >&2; exit 2 ;;
esac
