#!/usr/bin/env bash
# Measures crib's checkpoint and restore on a small static HTTP server in the criu test base
# (Debian trixie with criu from sid): cold start and restore to the first response through
# a published port, crib checkpoint from start to new image, and a bare `criu restore` of the
# same dump in fresh namespaces with no runtime around it.
#
#   bench/checkpoint.sh [RUNS]      (as root; scripts/criu-test-base.sh makes the base)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
crib=${CRIB_BINARY:-$PWD/.build/debug/crib}
base=${CRIB_TEST_CACHE:-/var/cache/crib-tests}/criu-base.tar.gz
[ -s "$base" ] || { echo "checkpoint.sh: $base is missing; run scripts/criu-test-base.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/crib-bench-checkpoint.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$work/rootfs"
tar -xzf "$base" -C "$work/rootfs"
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
"$crib" --root "$root" import -c 'CMD ["/usr/local/bin/server", "8080"]' "$work/rootfs" server >/dev/null
"$crib" --root "$root" run --rm server true 2>/dev/null || true  # unpack the layer cache once

now() { date +%s.%N; }
# Seconds from START until a GET of 127.0.0.1:PORT answers.
first_response() {
  local start=$1 port=$2
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.005; done
  awk -v a="$(now)" -v b="$start" "BEGIN { printf \"%.3f\\n\", a - b }"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

port=18480
: >"$work/cold" ; : >"$work/restore" ; : >"$work/checkpoint" ; : >"$work/bare"
for i in $(seq "$runs"); do
  sync
  start=$(now)
  "$crib" --root "$root" checkpoint server -t server-checkpoint --trigger http://localhost:8080/ >/dev/null 2>&1
  awk -v a="$(now)" -v b="$start" "BEGIN { printf \"%.3f\\n\", a - b }" >>"$work/checkpoint"

  start=$(now)
  "$crib" --root "$root" run --rm -p "127.0.0.1:$port:8080" server >/dev/null 2>&1 &
  first_response "$start" "$port" >>"$work/cold"
  kill %1; wait %1 2>/dev/null || true

  start=$(now)
  "$crib" --root "$root" run --rm -p "127.0.0.1:$port:8080" server-checkpoint >/dev/null 2>&1 &
  first_response "$start" "$port" >>"$work/restore"
  kill %1; wait %1 2>/dev/null || true
done

# The bare restore: the checkpoint image's files as one tree, criu restore in fresh PID,
# mount and network namespaces, and the first response asked for from inside them.
"$crib" --root "$root" unpack server-checkpoint "$work/flat" >/dev/null
for i in $(seq "$runs"); do
  sync
  start=$(now)
  unshare -pmnf --mount-proc bash -ec '
    root=$1
    ip link set lo up
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    chroot "$root" criu restore --images-dir /var/lib/crib-checkpoint --log-file /tmp/bare.log \
      --restore-detached --tcp-close >/dev/null 2>&1 </dev/null
    until chroot "$root" bash -c "exec 3<>/dev/tcp/127.0.0.1/8080; printf \"GET / HTTP/1.0\r\n\r\n\" >&3; read -r line <&3; [[ \$line == *200* ]]" 2>/dev/null; do sleep 0.005; done
  ' _ "$work/flat"
  awk -v a="$(now)" -v b="$start" "BEGIN { printf \"%.3f\\n\", a - b }" >>"$work/bare"
done

printf '%-44s %8s\n' "median of $runs runs" seconds
printf '%-44s %8s\n' "crib checkpoint --trigger (start to image)" "$(median <"$work/checkpoint")"
printf '%-44s %8s\n' "crib run: cold start to first response" "$(median <"$work/cold")"
printf '%-44s %8s\n' "crib run: restore to first response" "$(median <"$work/restore")"
printf '%-44s %8s\n' "bare criu restore to first response" "$(median <"$work/bare")"
