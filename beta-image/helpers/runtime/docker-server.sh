#!/bin/bash
# The image's entrypoint (run through tini). Three cases, checked in this order:
#  1. $CHECKPOINT_DIR/image contains a CRIU dump: restore the server from it.
#  2. WLP_CHECKPOINT names a phase: start the server (the command given), let it
#     reach that phase, dump it with criu, and exit 0. The container's file
#     system then contains the dump; committing it makes the checkpoint image.
#  3. Otherwise: exec the command, with no_new_privs set.
#
# Phases: features, deployment (or beforeAppStart), applications (or afterAppStart).
# With CHECKPOINT_RUNTIME=liberty, Open Liberty takes and restores the dump
# itself and cases 1 and 2 only choose its command (see liberty below).
#
# How the server reports a phase: the entrypoint exports CHECKPOINT_PHASE (the
# phase's short name) and CHECKPOINT_READY_FILE. On reaching the phase the
# server writes its PID into that file, opens no port and blocks until SIGUSR1.
# criu-resume.sh sends that signal once a restore has resumed the process.
set -euo pipefail

helpers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkpoint_dir=${CHECKPOINT_DIR:-/output/checkpoint}
images=$checkpoint_dir/image
timeout=${CHECKPOINT_TIMEOUT:-300}

fail() {
  echo "docker-server.sh: $*" >&2
  exit 1
}

# As a non-root user, criu rejects most work without --unprivileged, which
# makes it rely on CAP_CHECKPOINT_RESTORE (its file capability) in place of
# CAP_SYS_ADMIN.
criu_mode=()
if [ "$(id -u)" -ne 0 ]; then
  criu_mode=(--unprivileged)
fi

# The kernel refuses to exec a file whose file capabilities exceed the
# bounding set, so check it first and name the fix.
require_criu_capabilities() {
  local bounding
  bounding=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  # CAP_NET_ADMIN is bit 12, CAP_SYS_PTRACE bit 19, CAP_CHECKPOINT_RESTORE bit 40.
  local needed=$(( (1 << 12) | (1 << 19) | (1 << 40) ))
  if (( (16#$bounding & needed) != needed )); then
    fail "criu needs CHECKPOINT_RESTORE, NET_ADMIN and SYS_PTRACE in the container's capability bounding set (CapBnd $bounding); run with --cap-add=CHECKPOINT_RESTORE --cap-add=NET_ADMIN --cap-add=SYS_PTRACE"
  fi
}

restore() {
  require_criu_capabilities
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/criu-restore.XXXXXX")
  local flags=(
    restore --images-dir "$images" --work-dir "$work" --log-file restore.log
    "${criu_mode[@]}"
    # The dump was taken from a process started under this script, so its
    # session and process group belong to processes that are not in the dump.
    --shell-job
    # A dump taken before the port opened has no connections. Any other
    # connection's peer is gone after a restore, and restoring it open would
    # need CAP_NET_RAW for TCP repair, so restore such sockets closed.
    --tcp-close
    --action-script "$helpers/criu-resume.sh"
  )
  # The server's stdout and stderr were pipes to this script's readers. Those
  # pipes are gone, so the restored process gets this container's stdout and
  # stderr in their place and its output reaches the runtime's log.
  if [ -f "$checkpoint_dir/stdio" ]; then
    local fd target
    while read -r fd target; do
      case "$target" in
        pipe:*) flags+=(--inherit-fd "fd[$fd]:$target") ;;
      esac
    done < "$checkpoint_dir/stdio"
  fi

  export CHECKPOINT_PID_FILE=$checkpoint_dir/pid CHECKPOINT_RESUMED_FILE=$work/resumed
  echo "docker-server.sh: restoring from $images" >&2
  # criu waits for the restored server and exits with its status. It runs in
  # the background so that this shell can pass signals on: the restored
  # server is in a process group of its own, so tini -g does not reach it.
  # criu reopens an inherited pipe through /proc/self/fd/N. A pipe that the
  # runtime created as root (mode 0600) cannot be reopened by this user, but
  # pipes this shell creates are this user's own. Their readers must be this
  # shell's children: criu waits for all of its children before it exits,
  # and readers waiting on criu's own pipe ends would never end.
  local server_pid criu_pid signal server_out server_err
  [ -s "$CHECKPOINT_PID_FILE" ] || fail "$CHECKPOINT_PID_FILE is missing; $images was not written by this entrypoint"
  server_pid=$(cat "$CHECKPOINT_PID_FILE")
  exec {server_out}> >(exec cat) {server_err}> >(exec cat >&2)
  criu "${flags[@]}" >&"$server_out" 2>&"$server_err" {server_out}>&- {server_err}>&- &
  criu_pid=$!
  exec {server_out}>&- {server_err}>&-

  for signal in TERM INT HUP QUIT USR2; do
    # shellcheck disable=SC2064 # the signal name is fixed when the trap is set
    trap "kill -s $signal $server_pid 2>/dev/null || true" "$signal"
  done

  local status=0
  while :; do
    status=0
    wait "$criu_pid" || status=$?
    # wait returns early, above 128, when a trapped signal arrives.
    kill -0 "$criu_pid" 2>/dev/null || break
  done

  if [ ! -e "$work/resumed" ]; then
    echo "docker-server.sh: criu restore failed with status $status; the end of $work/restore.log:" >&2
    tail -n 20 "$work/restore.log" >&2 || true
    exit 1
  fi
  rm -rf "$work"
  # NOTE: criu 4.2.1 exits 0 when the restored server ends on SIGTERM (seen
  # with pingperf), so a stop by signal does not show in this status.
  exit "$status"
}

normalize_phase() {
  case "$1" in
    features) echo features ;;
    deployment|beforeAppStart) echo deployment ;;
    applications|afterAppStart) echo applications ;;
    *) fail "invalid WLP_CHECKPOINT=$1: expected features, deployment, applications, beforeAppStart or afterAppStart" ;;
  esac
}

checkpoint() {
  local phase=$1
  shift
  [ $# -gt 0 ] || fail "WLP_CHECKPOINT is set but no server command was given"
  require_criu_capabilities
  mkdir -p "$images" || fail "cannot create $images"
  [ -w "$images" ] || fail "$images is not writable by user $(id -u)"

  local ready=$checkpoint_dir/ready
  rm -f "$ready" "$ready.partial"

  # A restore needs every PID of the dump to be free. Where the kernel lets
  # us (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over the PID namespace), start
  # the server high above the PIDs the restore's own processes take. The file
  # is mode 0666 and the kernel checks the capability on write, so try it.
  local floor=${CHECKPOINT_PID_FLOOR:-1000}
  if [ "$(cat /proc/sys/kernel/ns_last_pid)" -lt "$floor" ]; then
    { echo "$floor" > /proc/sys/kernel/ns_last_pid; } 2>/dev/null || true
  fi

  # Output goes through pipes to readers outside the dumped process tree, so
  # that the dump records pipes, which restore can swap for its own stdio.
  # The readers are started from this shell, not from the server's subshell:
  # there they would become the server's children and be dumped with it.
  local server_out server_err
  exec {server_out}> >(exec cat) {server_err}> >(exec cat >&2)

  # The server runs with no_new_privs. criu restores a task's capability
  # bounding set by dropping each capability the dump lacks, and without
  # CAP_SETPCAP every drop fails ("Unable to drop capability 24"), even for a
  # capability the restoring container lacks as well, unless the dumped task
  # had no_new_privs. Only the server gets it: criu itself needs its file
  # capabilities, which no_new_privs would switch off.
  CHECKPOINT_PHASE=$phase CHECKPOINT_READY_FILE=$ready \
    setpriv --no-new-privs "$@" < /dev/null >&"$server_out" 2>&"$server_err" {server_out}>&- {server_err}>&- &
  local launcher=$!

  local waited=0 pid=
  while [ ! -s "$ready" ]; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      local status=0
      wait "$launcher" || status=$?
      fail "server exited with status $status before reaching phase $phase"
    fi
    # 20 ms polls keep the wait short next to the server's own startup.
    sleep 0.02
    waited=$((waited + 1))
    [ "$waited" -lt $((timeout * 50)) ] || fail "server did not reach phase $phase within ${timeout}s"
  done
  pid=$(cat "$ready")
  rm -f "$ready"
  # criu kills the server; without this bash would report it as "Killed".
  disown "$launcher"

  : > "$checkpoint_dir/stdio"
  local fd
  for fd in 0 1 2; do
    echo "$fd $(readlink "/proc/$pid/fd/$fd")" >> "$checkpoint_dir/stdio"
  done
  echo "$pid" > "$checkpoint_dir/pid"

  echo "docker-server.sh: server reached phase $phase, dumping PID $pid into $images" >&2
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/criu-dump.XXXXXX")
  # criu kills the dumped tree when it is done (no --leave-running), so the
  # container exits once the reader processes see their pipes close.
  if ! criu dump --tree "$pid" --images-dir "$images" --work-dir "$work" --log-file dump.log \
      "${criu_mode[@]}" --shell-job; then
    echo "docker-server.sh: criu dump failed; the end of $work/dump.log:" >&2
    tail -n 20 "$work/dump.log" >&2 || true
    exit 1
  fi
  cp "$work/dump.log" "$checkpoint_dir/dump.log"
  rm -rf "$work"
  exec {server_out}>&- {server_err}>&-
  echo "docker-server.sh: checkpoint at phase $phase written to $images ($(du -sh "$images" | cut -f1))" >&2
  exit 0
}

# Open Liberty with an OpenJ9 that supports CRIU checkpoints itself: its
# server script takes the dump (server checkpoint --at=PHASE) and restores
# it again on "server run", so this script only picks the command.
liberty() {
  local server_name=${SERVER_NAME:-defaultServer}
  local liberty_images=${WLP_OUTPUT_DIR:-/opt/ol/wlp/output}/$server_name/workarea/checkpoint/image
  if [ -d "$liberty_images" ] || [ -z "${WLP_CHECKPOINT:-}" ]; then
    exec "$@"
  fi
  local phase
  phase=$(normalize_phase "$WLP_CHECKPOINT")
  "${WLP_DIR:-/opt/ol/wlp}/bin/server" checkpoint "$server_name" --at="$phase"
  echo "docker-server.sh: Open Liberty checkpoint at phase $phase written to $liberty_images" >&2
  exit 0
}

if [ "${CHECKPOINT_RUNTIME:-jvm}" = liberty ]; then
  liberty "$@"
fi

if [ -f "$images/inventory.img" ]; then
  restore
fi

if [ -n "${WLP_CHECKPOINT:-}" ]; then
  phase=$(normalize_phase "$WLP_CHECKPOINT")
  checkpoint "$phase" "$@"
fi

[ $# -gt 0 ] || fail "no command given"
# no_new_privs here too: a runtime may dump this process from outside
# (crib checkpoint --trigger), and a non-root criu restores it only then
# (see the bounding-set note in checkpoint above).
exec setpriv --no-new-privs "$@"
