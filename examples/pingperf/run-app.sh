#!/usr/bin/env bash
# Restores pingperf-checkpoint and publishes its port: then
#   curl http://127.0.0.1:9080/pingperf/ping
# crib grants what a restore needs by itself. PODMAN_FLAGS=1 passes the
# flags the podman workflow spells out instead; crib accepts them unchanged.
set -euo pipefail
cd "$(dirname "$0")"

crib=${CRIB:-crib}

if [ "${PODMAN_FLAGS:-0}" = 1 ]; then
  exec "$crib" run --rm \
    --cap-add=CHECKPOINT_RESTORE --cap-add=NET_ADMIN --cap-add=SYS_PTRACE \
    --security-opt seccomp=../../beta-image/criuRequiredSysCalls.json \
    -v /proc/sys/kernel/ns_last_pid:/proc/sys/kernel/ns_last_pid \
    -p 9080:9080 pingperf-checkpoint
fi
exec "$crib" run --rm -p 9080:9080 pingperf-checkpoint
