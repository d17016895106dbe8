#!/usr/bin/env bash
# Compares container start-to-exit time: `crib run --rm` against `podman run --rm` on the
# same busybox image, in the same run, with the private network and with --network none,
# plus crib without root (through runuser, whose own cost is printed too). Prints the median
# wall time of each.
#
# The image is the host's busybox-static with its applets linked, imported into each tool's
# storage, so nothing is pulled. podman uses overlay storage and runc with the settings this
# kind of machine needs (see below).
#
# Usage: bash bench/runner.sh   (as root; RUNS=20 by default, CRIB_BINARY to pick a binary,
#        BENCH_USER for the rootless runs, default cribtest, created when missing)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
crib=${CRIB_BINARY:-$here/.build/release/crib}
runs=${RUNS:-20}
user=${BENCH_USER:-cribtest}

if [ "$(id -u)" -ne 0 ]; then echo "runner.sh: run as root (podman and the rootless setup need it)" >&2; exit 1; fi
for tool in podman runc busybox runuser; do
  command -v "$tool" >/dev/null || { echo "runner.sh: missing $tool; install it with apt-get (podman, runc, busybox-static, util-linux)" >&2; exit 1; }
done
[ -x "$crib" ] || { echo "runner.sh: missing $crib; run swift build -c release" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || useradd -m "$user"

scratch=$(mktemp -d /var/tmp/crib-bench-runner.XXXXXX)
chmod 755 "$scratch"
cleanup() {
  { grep -o " $scratch[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
mkdir -p "$scratch/tmp"
export TMPDIR=$scratch/tmp

. "$here/bench/podman-scratch.sh"
use_scratch_podman "$scratch"

rootfs=$scratch/busybox-rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
tar -C "$rootfs" -cf "$scratch/busybox.tar" .

"$crib" --root "$scratch/crib" import "$scratch/busybox.tar" bench-busybox >/dev/null
mkdir -p "$scratch/crib-rootless"
chown "$user:" "$scratch/crib-rootless"
runuser -u "$user" -- "$crib" --root "$scratch/crib-rootless" import "$scratch/busybox.tar" bench-busybox >/dev/null
podman import "$scratch/busybox.tar" localhost/bench-busybox >/dev/null

# median SECONDS of running "$@" $runs times, after one warm-up run (which also unpacks layers)
median() {
  "$@" >/dev/null 2>&1 || { echo "runner.sh: failed: $*" >&2; "$@"; exit 1; }
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

echo "container start to exit, busybox true, median of $runs (seconds)"
printf '%-44s %s\n' "crib run --rm" "$(median "$crib" --root "$scratch/crib" run --rm bench-busybox true)"
printf '%-44s %s\n' "podman run --rm" "$(median podman run --rm localhost/bench-busybox true)"
printf '%-44s %s\n' "crib run --rm --network none" "$(median "$crib" --root "$scratch/crib" run --rm --network none bench-busybox true)"
printf '%-44s %s\n' "podman run --rm --network none" "$(median podman run --rm --network none localhost/bench-busybox true)"
printf '%-44s %s\n' "runuser alone (rootless baseline)" "$(median runuser -u "$user" -- true)"
printf '%-44s %s\n' "crib run --rm as $user (incl. runuser)" "$(median runuser -u "$user" -- "$crib" --root "$scratch/crib-rootless" run --rm bench-busybox true)"
