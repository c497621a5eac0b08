# shellcheck shell=bash
# demo-common.sh - process identity, ports, readiness probes and the component registry for
# scripts/demo. Sourced, not run; expects DEMO_DIR (absolute state directory) to be set.
#
# Registry: $DEMO_DIR/components, one started process per line, tab-separated:
#   NAME PID START ADDRESS MATCH LOG
# START is the process start time (/proc/PID/stat field 22) and MATCH a string its command line
# contains; together with the PID they identify the process even after the PID was reused.

# Messages never fail: after a hang-up the terminal is gone, and stopping must go on regardless.
say()  { printf 'demo: %s\n' "$*" 2>/dev/null || true; }
warn() { printf 'demo: %s\n' "$*" >&2 2>/dev/null || true; }
die()  { warn "$*"; exit 1; }

# proc_fields PID -> fields 3.. of /proc/PID/stat (state first). The command name in field 2 may
# contain spaces and parentheses, so everything up to the last ") " is cut off.
proc_fields() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  printf '%s\n' "${stat##*) }"
}

# alive PID -> true while PID exists and is not a zombie (an exited process not yet reaped).
alive() {
  local f
  f=$(proc_fields "$1") || return 1
  [[ ${f:0:1} != [ZX] ]]
}

# start_time PID -> clock ticks after boot when PID started.
start_time() {
  local -a f
  read -ra f <<<"$(proc_fields "$1")" || return 1
  [[ -n ${f[19]:-} ]] && printf '%s\n' "${f[19]}"
}

# is_ours PID START MATCH -> true if PID is still the very process that was registered.
is_ours() {
  local pid=$1 start=$2 match=$3 cmd
  alive "$pid" || return 1
  [[ $(start_time "$pid") == "$start" ]] || return 1
  { cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
  [[ $cmd == *"$match"* ]]
}

# port_listeners PORT -> ss lines of every TCP listener on PORT (any address), empty if none.
port_listeners() { ss -Hltnp "sport = :$1" 2>/dev/null; }

port_free() { [[ -z $(port_listeners "$1") ]]; }

# pick_port -> a free port below the ephemeral range, where client sockets cannot squat.
pick_port() {
  local lo p i
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for ((i = 0; i < 50; i++)); do
    p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
    port_free "$p" && { echo "$p"; return 0; }
  done
  die "no free TCP port found"
}

# port_or_free PREFERRED -> PREFERRED if nothing listens there, else a random free port.
port_or_free() { if port_free "$1"; then echo "$1"; else pick_port; fi; }

# ssh_banner PORT -> true if 127.0.0.1:PORT answers with an SSH identification line. Our own line
# is sent back so the server sees a well-behaved client that went away, not a protocol error.
ssh_banner() {
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 3 line <&3 || exit 1
    printf 'SSH-2.0-x2gojump-demo-probe\r\n' >&3
    [[ $line == SSH-2.0-* ]] ) 2>/dev/null
}

# checkpoint: called between steps and on every round of a wait; the caller overrides it to act
# on signals it only recorded (see scripts/demo).
checkpoint() { :; }

# wait_ssh PORT PID -> 0 once PID itself listens on PORT and answers with an SSH banner (the port
# may have been taken by someone else meanwhile), 1 if PID exited, 2 after 20 s.
wait_ssh() {
  local port=$1 pid=$2 deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    checkpoint
    alive "$pid" || return 1
    if ssh_banner "$port" && port_listeners "$port" | grep -q "pid=$pid,"; then return 0; fi
    sleep 0.05
  done
  return 2
}

# register NAME PID PORT MATCH LOG
register() {
  local start
  start=$(start_time "$2") || start=0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$start" "$3" "$4" "$5" >>"$DEMO_DIR/components"
}

# unregister PID: drops the line of a process that was stopped before it became ready.
unregister() {
  local f=$DEMO_DIR/components
  awk -F'\t' -v pid="$1" '$2 != pid' "$f" >"$f.new" && mv "$f.new" "$f"
}

# read_components -> fills the array COMPONENTS with the registry lines, oldest first.
read_components() {
  COMPONENTS=()
  [[ -f $DEMO_DIR/components ]] && mapfile -t COMPONENTS <"$DEMO_DIR/components"
  return 0
}

# same_process PID:START -> true if that process still runs.
same_process() {
  alive "${1%%:*}" && [[ $(start_time "${1%%:*}") == "${1#*:}" ]]
}

# descendants PID -> "PID:START" of every process below PID, one a line.
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    printf '%s:%s\n' "$c" "$(start_time "$c" || true)"
    descendants "$c"
  done
}

# stop_pids PID:START...: SIGTERM, SIGKILL to what is left after 5 s.
stop_pids() {
  local i p left
  for p in "$@"; do same_process "$p" && { kill -TERM "${p%%:*}" 2>/dev/null || true; }; done
  for ((i = 0; i < 100; i++)); do
    left=()
    for p in "$@"; do same_process "$p" && left+=("$p"); done
    ((${#left[@]})) || return 0
    sleep 0.05
  done
  warn "pids ${left[*]%%:*} ignored SIGTERM; sending SIGKILL"
  for p in "${left[@]}"; do kill -KILL "${p%%:*}" 2>/dev/null || true; done
}

# stop_all: stops every registered process, newest first (the broker before its backends and
# before slapd, so clients see a closed connection rather than failing logins), then whatever
# they had started. A process that is no longer the registered one is left alone.
stop_all() {
  local i name pid start port match log
  local -a tree=()
  read_components
  # Collected first: once the broker is gone, a backend's session processes exit and their
  # children (a command run without a terminal gets no SIGHUP) are re-parented out of reach.
  for ((i = 0; i < ${#COMPONENTS[@]}; i++)); do
    IFS=$'\t' read -r name pid start port match log <<<"${COMPONENTS[i]}"
    is_ours "$pid" "$start" "$match" && mapfile -t -O "${#tree[@]}" tree < <(descendants "$pid")
  done
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    IFS=$'\t' read -r name pid start port match log <<<"${COMPONENTS[i]}"
    if is_ours "$pid" "$start" "$match"; then
      say "stopping $name (pid $pid)"
      stop_pids "$pid:$start"
    fi
  done
  if ((${#tree[@]})); then stop_pids "${tree[@]}"; fi
}

# any_alive -> true if at least one registered process still runs.
any_alive() {
  local line name pid start port match log
  read_components
  for line in "${COMPONENTS[@]}"; do
    IFS=$'\t' read -r name pid start port match log <<<"$line"
    is_ours "$pid" "$start" "$match" && return 0
  done
  return 1
}

# first_dead -> prints "NAME PID LOG" of the first registered process that is gone.
# A host's sshd or agent ("x2go-host-1/sshd") does not count: stopping one on purpose
# (fakehost.sh sshd-stop / agent-stop) is how one watches the broker mark a host down or stale.
first_dead() {
  local line name pid start port match log
  read_components
  for line in "${COMPONENTS[@]}"; do
    IFS=$'\t' read -r name pid start port match log <<<"$line"
    [[ $name != */* ]] || continue
    is_ours "$pid" "$start" "$match" || { printf '%s\t%s\t%s\n' "$name" "$pid" "$log"; return 0; }
  done
  return 1
}
