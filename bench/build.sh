#!/usr/bin/env bash
# Compares `crib build` with `buildah build --layers` and `podman build` on the same
# Dockerfile, base image and context, in the same run: cold (fresh storage, no cache) and
# cached (a rebuild with nothing changed). Prints the median wall time of each.
#
# The base image is busybox-static from the host, imported into each tool's storage, so
# nothing is pulled. podman and buildah use overlay storage and runc with the settings this
# kind of machine needs (see below). buildah uses chroot isolation, its fastest setup here.
#
# Everything runs on a journaled ext4 file system in a loop file, because the VM's root ext4
# has no journal, and there inode allocation right after large deletions is slow enough to
# swing cold builds by a factor of two. The tools take turns within each run, so that load
# from other processes falls on all of them alike.
#
# Usage: bash bench/build.sh   (as root; RUNS=5 by default, CRIB_BINARY to pick a binary)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
crib=${CRIB_BINARY:-$here/.build/release/crib}
runs=${RUNS:-5}

if [ "$(id -u)" -ne 0 ]; then echo "build.sh: run as root (podman, buildah and crib RUN steps need it)" >&2; exit 1; fi
for tool in podman buildah runc busybox mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "build.sh: missing $tool; run scripts/setup.sh" >&2; exit 1; }
done
[ -x "$crib" ] || { echo "build.sh: missing $crib; run swift build -c release" >&2; exit 1; }

bench=$(mktemp -d /var/tmp/crib-bench-build.XXXXXX)
scratch=$bench/mnt
cleanup() {
  # podman and buildah leave overlay mounts under their storage; unmount before removing it.
  { grep -o " $scratch[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$bench"
}
trap cleanup EXIT
truncate -s 4G "$bench/ext4.img"
mkfs.ext4 -q -F "$bench/ext4.img"
mkdir -p "$scratch"
mount -o loop "$bench/ext4.img" "$scratch"
mkdir -p "$scratch/tmp"
# Without these settings buildah writes to /var/tmp and podman to /run/libpod.
export TMPDIR=$scratch/tmp

. "$here/bench/podman-scratch.sh"
use_scratch_podman "$scratch"

# The base: busybox-static with its applets linked, as one tar.
rootfs=$scratch/busybox-rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$scratch/busybox.tar" .

# The context: 8 MiB of random data and 200 small files, copied and then listed by RUN.
context=$scratch/context
mkdir -p "$context/src"
head -c 8M /dev/urandom >"$context/data.bin"
for i in $(seq 200); do echo "file $i" >"$context/src/file$i.txt"; done
cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM localhost/busybox
COPY . /app
RUN ls -R /app | wc -l > /app/count
DOCKERFILE
echo "# context: $(du -sh "$context" | cut -f1), $(find "$context" -type f | wc -l) files; $(nproc) cores; $runs runs each"
echo "# $(podman --version), $(buildah --version | cut -d' ' -f1-3), $(runc --version | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"

prepare_crib() {
  rm -rf "$scratch/crib"
  "$crib" --root "$scratch/crib" import "$scratch/busybox.tar" localhost/busybox >/dev/null
}
prepare_containers() {
  cleanup_storage
  podman import "$scratch/busybox.tar" localhost/busybox >/dev/null 2>&1
}
cleanup_storage() {
  { grep -o " $scratch/storage[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  rm -rf "$scratch/storage" "$scratch/storage-run" "$scratch/libpod"
}

crib_build() { "$crib" --root "$scratch/crib" build -q -t bench "$context" >/dev/null; }
buildah_build() { buildah build --layers --isolation chroot -q -t bench "$context" >/dev/null 2>&1; }
podman_build() { podman build --layers -q -t bench "$context" >/dev/null 2>&1; }

# seconds COMMAND: wall time of COMMAND in seconds, after a sync so that write-back from the
# previous run does not land in this one.
seconds() {
  sync
  local start end
  # EPOCHREALTIME (bash 5) reads the clock without forking `date`, whose two process starts
  # would otherwise be part of every figure.
  start=$EPOCHREALTIME
  "$@"
  end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}

median() { tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A cold_times cached_times
for _ in $(seq "$runs"); do
  for tool in crib buildah podman; do
    if [ "$tool" = crib ]; then prepare_crib; else prepare_containers; fi
    cold_times[$tool]+=" $(seconds "${tool}_build")"
    cached_times[$tool]+=" $(seconds "${tool}_build")"
  done
done

declare -A cold cached
for tool in crib buildah podman; do
  cold[$tool]=$(echo ${cold_times[$tool]} | median)
  cached[$tool]=$(echo ${cached_times[$tool]} | median)
  echo "$tool cold:${cold_times[$tool]}   cached:${cached_times[$tool]}"
done

printf '\n%-8s %10s %10s\n' tool "cold (s)" "cached (s)"
for tool in crib buildah podman; do printf '%-8s %10s %10s\n' "$tool" "${cold[$tool]}" "${cached[$tool]}"; done
best_cold=$(printf '%s\n%s\n' "${cold[buildah]}" "${cold[podman]}" | sort -n | head -1)
best_cached=$(printf '%s\n%s\n' "${cached[buildah]}" "${cached[podman]}" | sort -n | head -1)
awk -v c="${cold[crib]}" -v b="$best_cold" -v cc="${cached[crib]}" -v bc="$best_cached" \
  'BEGIN { printf "\ncrib vs the faster peer: %.1fx faster cold, %.1fx faster cached\n", b / c, bc / cc }'
