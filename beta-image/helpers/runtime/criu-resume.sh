#!/bin/sh
# criu action script for restores run by docker-server.sh. Once criu has
# resumed the restored tasks, wake the server, which waits for SIGUSR1 at the
# phase it was dumped in.
[ "${CRTOOLS_SCRIPT_ACTION:-}" = post-resume ] || exit 0
# docker-server.sh uses this file to tell a failed restore from a server that exited.
: > "$CHECKPOINT_RESUMED_FILE"
# The restored server has the PID it was dumped with, recorded at dump time.
pid=$(cat "$CHECKPOINT_PID_FILE")
kill -USR1 "$pid"
