#!/usr/bin/env bash
# Measures crib's checkpoint and restore on a small static HTTP server in the criu test base
# (Debian trixie with criu from sid), beside podman and a bare `criu restore` in the same run:
#
# - start to new image: `crib checkpoint --trigger`, the InstantOn way with podman (`podman
#   run --privileged` of an entrypoint that dumps the server with the image's criu, then
#   `podman commit`), and `podman run` + `podman container checkpoint --create-image`;
# - start to first HTTP response through a published port: crib's cold start and restore,
#   `podman run` of the InstantOn image and `podman container restore` of the checkpoint image.
#   Beside them, a bare `criu restore` of crib's dump runs in fresh namespaces with no runtime
#   around it, once letting criu probe the kernel and once with its kernel feature cache.
#
# The steps of one run are interleaved and each is preceded by `sync`; medians are printed.
#
#   bench/checkpoint.sh [RUNS]      (as root; scripts/criu-test-base.sh makes the base)
#
# podman 4.3 runs with runc, lower rlimits and cgroupfs, and keeps its configuration and
# storage in a scratch directory. Its `criu` is the sid criu 4.2.1 of the test base, run
# through the base's own dynamic loader, because the host's criu 3.17 cannot parse this
# kernel's vDSO.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
crib=${CRIB_BINARY:-$PWD/.build/release/crib}
base=${CRIB_TEST_CACHE:-/var/cache/crib-tests}/criu-base.tar.gz
if [ "$(id -u)" -ne 0 ]; then echo "checkpoint.sh: run as root (podman and the bare restore need it)" >&2; exit 1; fi
[ -s "$base" ] || { echo "checkpoint.sh: $base is missing; run scripts/criu-test-base.sh" >&2; exit 1; }
[ -x "$crib" ] || { echo "checkpoint.sh: missing $crib; run swift build -c release --static-swift-stdlib" >&2; exit 1; }
for tool in podman runc curl gcc; do
  command -v "$tool" >/dev/null || { echo "checkpoint.sh: missing $tool; run scripts/setup.sh" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/crib-bench-checkpoint.XXXXXX)
cleanup() {
  # Only once podman points at the scratch storage: never remove the host's own containers.
  if [ "${CONTAINERS_STORAGE_CONF:-}" = "$work/storage.conf" ]; then podman rm -f -t 0 -a >/dev/null 2>&1 || true; fi
  # podman leaves overlay mounts under its storage; unmount before removing it.
  { grep -o " $work[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
mkdir -p "$work/rootfs" "$work/criu" "$work/bin" "$work/tmp"
tar -xzf "$base" -C "$work/rootfs"
tar -xzf "$base" -C "$work/criu"

cat >"$work/server.c" <<'C'
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    if (bind(listener, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(listener, 16) < 0) return 1;
    long served = 0;
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        char request[4096], response[256];
        read(client, request, sizeof(request));
        int total = snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\nX-Served: %ld\r\n\r\n", ++served);
        write(client, response, total);
        close(client);
    }
}
C
gcc -static -O2 -o "$work/rootfs/usr/local/bin/server" "$work/server.c"

# The InstantOn shape: with CHECKPOINT set, start the server above PID 1000 (so that the
# restore's own processes cannot take its PID), dump it once it accepts, and exit 0. Once a
# dump exists, restore it.
cat >"$work/rootfs/usr/local/bin/instanton-entrypoint" <<'SH'
#!/bin/bash
images=/var/lib/instanton
if [ -f "$images/inventory.img" ]; then
  exec criu restore --images-dir "$images" --log-file /tmp/restore.log --tcp-close
fi
[ -n "${CHECKPOINT:-}" ] || exec /usr/local/bin/server 8080
echo 1000 >/proc/sys/kernel/ns_last_pid
setsid /usr/local/bin/server 8080 </dev/null >/tmp/server.log 2>&1 &
pid=$!
until (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; do sleep 0.005; done
mkdir -p "$images"
criu dump --tree "$pid" --images-dir "$images" --log-file /tmp/dump.log || { cat /tmp/dump.log >&2; exit 1; }
SH
chmod 755 "$work/rootfs/usr/local/bin/instanton-entrypoint"

cat >"$work/bin/criu" <<SH
#!/bin/sh
exec $work/criu/lib64/ld-linux-x86-64.so.2 --library-path $work/criu/usr/lib/x86_64-linux-gnu $work/criu/usr/sbin/criu "\$@"
SH
chmod 755 "$work/bin/criu"
export PATH=$work/bin:$PATH

. bench/podman-scratch.sh
use_scratch_podman "$work"
export TMPDIR=$work/tmp

"$crib" --root "$root" import -c 'CMD ["/usr/local/bin/server", "8080"]' "$work/rootfs" server >/dev/null
"$crib" --root "$root" run --rm server true 2>/dev/null || true  # unpack the layer cache once
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
podman import -c 'CMD ["/usr/local/bin/server", "8080"]' "$work/rootfs.tar" localhost/server >/dev/null 2>&1

# Steps read the clock from EPOCHREALTIME (bash 5), which forks no `date`.
since() { awk -v a="$EPOCHREALTIME" -v b="$1" "BEGIN { printf \"%.3f\\n\", a - b }"; }
# Sends one GET to 127.0.0.1:PORT with bash's /dev/tcp and succeeds on a 200 status line.
# Every row, the bare restore included, polls with this same client, so that no row pays a
# process start per attempt that another does not.
probe() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && read -r line <&3 && [[ $line == *" 200 "* ]]) 2>/dev/null
}
# Waits until a GET of 127.0.0.1:PORT returns 200, trying every 2 ms.
wait_for_response() {
  local port=$1
  for _ in $(seq 5000); do
    probe "$port" && return 0
    sleep 0.002
  done
  echo "checkpoint.sh: timed out waiting for a response on port $port" >&2
  return 1
}
# Prints the median, minimum and maximum of the numbers on stdin, one per line.
summary() { sort -n | awk '{a[NR]=$1} END {printf "%8s %8s %8s\n", a[int((NR+1)/2)], a[1], a[NR]}'; }

# The bare restore: the checkpoint image's files as one tree, criu restore in fresh PID,
# mount and network namespaces, and the first response asked for from inside them. With
# "cached", /run is a tmpfs holding the kernel feature cache of the first cached run.
bare_restore() {
  local mode=$1
  unshare -pmnf --mount-proc bash -ec '
    root=$1 mode=$2 cache=$3
    ip link set lo up
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    if [ "$mode" = cached ]; then
      mount -t tmpfs tmpfs "$root/run"
      [ ! -f "$cache" ] || cp "$cache" "$root/run/criu.kdat"
    fi
    chroot "$root" criu restore --images-dir /var/lib/crib-checkpoint --log-file /tmp/bare.log \
      --restore-detached --tcp-close >/dev/null 2>&1 </dev/null
    # The same client as wait_for_response, from the restored server'"'"'s network namespace.
    until (exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && read -r line <&3 && [[ $line == *" 200 "* ]]) 2>/dev/null; do
      sleep 0.002
    done
    if [ "$mode" = cached ] && [ ! -f "$cache" ]; then cp "$root/run/criu.kdat" "$cache"; fi
  ' _ "$work/flat" "$mode" "$work/bare.kdat"
}

# One untimed checkpoint and restore first: the first restore after boot also makes criu's
# kernel feature cache, and the first cached bare restore makes its own.
"$crib" --root "$root" checkpoint server -t server-checkpoint --trigger http://localhost:8080/ >/dev/null 2>&1
"$crib" --root "$root" run --rm -p 127.0.0.1:18480:8080 server-checkpoint >/dev/null 2>&1 &
wait_for_response 18480
kill %1; wait %1 2>/dev/null || true
"$crib" --root "$root" unpack server-checkpoint "$work/flat" >/dev/null
bare_restore cached

steps="crib-checkpoint instanton-checkpoint podman-checkpoint crib-cold crib-restore instanton-restore podman-restore bare-probe bare-cached"
for step in $steps; do : >"$work/$step"; done
echo "# $runs runs; $(nproc) cores; $(podman --version), $(runc --version | head -1), criu $(criu --version | sed -n 's/Version: //p')"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  sync
  start=$EPOCHREALTIME
  "$crib" --root "$root" checkpoint server -t server-checkpoint --trigger http://localhost:8080/ >/dev/null 2>&1
  since "$start" >>"$work/crib-checkpoint"

  sync
  podman rm -f -t 0 instanton >/dev/null 2>&1 || true
  start=$EPOCHREALTIME
  podman run --name instanton --privileged -e CHECKPOINT=1 --entrypoint /usr/local/bin/instanton-entrypoint \
    localhost/server >/dev/null 2>&1
  podman commit -q instanton localhost/server-instanton >/dev/null
  since "$start" >>"$work/instanton-checkpoint"
  podman rm -f -t 0 instanton >/dev/null

  sync
  start=$EPOCHREALTIME
  podman run -d --name checkpointed -p 127.0.0.1:18484:8080 localhost/server >/dev/null
  wait_for_response 18484
  podman container checkpoint --create-image localhost/server-checkpoint checkpointed >/dev/null
  since "$start" >>"$work/podman-checkpoint"
  podman rm -f -t 0 checkpointed >/dev/null

  sync
  start=$EPOCHREALTIME
  "$crib" --root "$root" run --rm -p 127.0.0.1:18481:8080 server >/dev/null 2>&1 &
  wait_for_response 18481
  since "$start" >>"$work/crib-cold"
  kill %1; wait %1 2>/dev/null || true

  sync
  start=$EPOCHREALTIME
  "$crib" --root "$root" run --rm -p 127.0.0.1:18480:8080 server-checkpoint >/dev/null 2>&1 &
  wait_for_response 18480
  since "$start" >>"$work/crib-restore"
  kill %1; wait %1 2>/dev/null || true

  sync
  start=$EPOCHREALTIME
  podman run -d --name restored --privileged -p 127.0.0.1:18482:8080 localhost/server-instanton >/dev/null
  wait_for_response 18482
  since "$start" >>"$work/instanton-restore"
  podman rm -f -t 0 restored >/dev/null

  sync
  start=$EPOCHREALTIME
  podman container restore localhost/server-checkpoint >/dev/null
  wait_for_response 18484
  since "$start" >>"$work/podman-restore"
  podman rm -f -t 0 checkpointed >/dev/null

  rm -rf "$work/flat"
  "$crib" --root "$root" unpack server-checkpoint "$work/flat" >/dev/null
  for mode in probe cached; do
    sync
    start=$EPOCHREALTIME
    bare_restore "$mode"
    since "$start" >>"$work/bare-$mode"
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-58s %8s %8s %8s\n' "$runs runs, seconds" median min max
printf '%-58s %s\n' "start to new image: crib checkpoint --trigger" "$(summary <"$work/crib-checkpoint")"
printf '%-58s %s\n' "start to new image: podman run (InstantOn) + commit" "$(summary <"$work/instanton-checkpoint")"
printf '%-58s %s\n' "start to new image: podman run + checkpoint --create-image" "$(summary <"$work/podman-checkpoint")"
printf '%-58s %s\n' "first response: crib run, cold start" "$(summary <"$work/crib-cold")"
printf '%-58s %s\n' "first response: crib run, restore" "$(summary <"$work/crib-restore")"
printf '%-58s %s\n' "first response: podman run of the InstantOn image" "$(summary <"$work/instanton-restore")"
printf '%-58s %s\n' "first response: podman container restore of the image" "$(summary <"$work/podman-restore")"
printf '%-58s %s\n' "first response: bare criu restore, kernel probed" "$(summary <"$work/bare-probe")"
printf '%-58s %s\n' "first response: bare criu restore, kernel cache on tmpfs" "$(summary <"$work/bare-cached")"
