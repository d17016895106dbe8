#!/usr/bin/env bash
# Packs a real root file system (Debian bookworm minbase with openjdk-17-jre-headless,
# made with debootstrap) into one layer with crib, umoci insert, tar | pigz and tar | zstd,
# unpacks it with crib, umoci unpack and tar -x, and prints wall time, throughput,
# compressed size and peak memory (max RSS of the process tree's largest process) side by side.
#
# Everything runs on a journaled ext4 file system in a loop file, because the VM's root ext4
# has no journal and its inode allocation then slows down after large deletions.
#
# Usage: bash bench/layering.sh   (as root; BENCH_DIR keeps the rootfs between runs)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-/var/tmp/crib-bench}
crib=${CRIB_BINARY:-$here/.build/release/crib}
runs=${RUNS:-3}

if [ "$(id -u)" -ne 0 ]; then echo "layering.sh: run as root (debootstrap, mount)" >&2; exit 1; fi
for tool in debootstrap umoci pigz zstd mkfs.ext4 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "layering.sh: missing $tool; run scripts/setup.sh" >&2; exit 1; }
done
[ -x "$crib" ] || { echo "layering.sh: missing $crib; run swift build -c release" >&2; exit 1; }

mkdir -p "$bench"
if [ ! -d "$bench/rootfs" ]; then
  echo "# debootstrap minbase + openjdk-17-jre-headless into $bench/rootfs" >&2
  rm -rf "$bench/rootfs.partial"
  debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$bench/rootfs.partial" \
    http://deb.debian.org/debian >"$bench/debootstrap.log" 2>&1
  mv "$bench/rootfs.partial" "$bench/rootfs"
fi

mnt=$bench/mnt
mkdir -p "$mnt"
cleanup() {
  umount "$mnt" 2>/dev/null || true
  rm -f "$bench/ext4.img"
}
trap cleanup EXIT
cleanup
truncate -s 8G "$bench/ext4.img"
mkfs.ext4 -q -F "$bench/ext4.img"
mount -o loop "$bench/ext4.img" "$mnt"
cp -a "$bench/rootfs" "$mnt/rootfs"
tree=$mnt/rootfs
bytes=$(du -sb --apparent-size "$tree" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
echo "# tree: $tree, $mib MiB apparent size, $(find "$tree" | wc -l) entries, $(nproc) cores"
# Other work on the machine changes every figure; the load average puts them in context.
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# Warm the page cache so that every tool reads the tree from memory.
tar -cf - -C "$tree" . | cat >/dev/null

# measure NAME COMMAND...: runs COMMAND $runs times after a sync, prints the best wall time,
# throughput over the tree's apparent size, and peak RSS.
results=()
measure() {
  local name=$1; shift
  local best="" memory=0
  for _ in $(seq "$runs"); do
    sync
    "$@" >/dev/null 2>"$mnt/time.err" || { cat "$mnt/time.err" >&2; return 1; }
    local line; line=$(tail -1 "$mnt/time.err")
    local seconds=${line% *} rss=${line#* }
    if [ -z "$best" ] || awk -v a="$seconds" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$seconds; fi
    [ "$rss" -gt "$memory" ] && memory=$rss
  done
  local rate; rate=$(awk -v s="$best" -v m="$mib" 'BEGIN { printf "%.0f", m / s }')
  results+=("$name"$'\t'"$best"$'\t'"$rate"$'\t'"$memory")
  printf '%-44s %7.2f s %6d MiB/s %8d KiB max RSS\n' "$name" "$best" "$rate" "$memory"
}
timed() { /usr/bin/time -f '%e %M' "$@"; }

echo "## pack"
fresh_crib_root() { rm -rf "$mnt/crib"; }
crib_import() {
  fresh_crib_root
  timed "$crib" --root "$mnt/crib" import --timestamp 0 --compression "$1" "$tree" -t bench
}
crib_gzip_size() { stat -c %s "$(ls -S "$mnt"/crib/store/blobs/sha256/* | head -1)"; }
measure "crib import (gzip, libdeflate -5)" crib_import gzip
crib_gzip=$(crib_gzip_size)
cp "$(ls -S "$mnt"/crib/store/blobs/sha256/* | head -1)" "$mnt/crib-layer.tar.gz"
measure "crib import (zstd -3)" crib_import zstd
crib_zstd=$(crib_gzip_size)

umoci_insert() {
  rm -rf "$mnt/layout"
  umoci init --layout "$mnt/layout" && umoci new --image "$mnt/layout:bench"
  timed umoci insert --image "$mnt/layout:bench" "$tree" /
}
measure "umoci insert" umoci_insert
umoci_size=$(stat -c %s "$(ls -S "$mnt"/layout/blobs/sha256/* | head -1)")

pigz_pipe() { timed bash -c "tar --sort=name -cf - -C '$tree' . | pigz -6 | tee '$mnt/pigz.tar.gz' | sha256sum"; }
measure "tar --sort=name | pigz -6 | sha256sum" pigz_pipe
pigz_size=$(stat -c %s "$mnt/pigz.tar.gz")
zstd_pipe() { timed bash -c "tar --sort=name -cf - -C '$tree' . | zstd -3 -T0 | tee '$mnt/zstd.tar.zst' | sha256sum"; }
measure "tar --sort=name | zstd -3 -T0 | sha256sum" zstd_pipe
zstd_size=$(stat -c %s "$mnt/zstd.tar.zst")

echo "## compressed size (bytes)"
printf '%-44s %12d\n' "crib gzip" "$crib_gzip" "umoci gzip" "$umoci_size" "pigz -6" "$pigz_size" \
  "crib zstd" "$crib_zstd" "zstd -3" "$zstd_size"

echo "## unpack"
crib_import gzip >/dev/null 2>&1
crib_unpack() { rm -rf "$mnt/out"; timed "$crib" --root "$mnt/crib" unpack bench "$mnt/out"; }
measure "crib unpack" crib_unpack
umoci_unpack() { rm -rf "$mnt/bundle"; timed umoci unpack --image "$mnt/layout:bench" "$mnt/bundle"; }
measure "umoci unpack" umoci_unpack
tar_unpack() { rm -rf "$mnt/out" && mkdir "$mnt/out"; timed tar -xzf "$mnt/crib-layer.tar.gz" -C "$mnt/out"; }
measure "tar -xzf (crib's layer)" tar_unpack

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## ratios (peer time / crib time; >1 means crib is faster)"
get() { for r in "${results[@]}"; do [ "${r%%$'\t'*}" = "$1" ] && { echo "$r" | cut -f2; return; }; done; }
ratio() { awk -v a="$(get "$2")" -v b="$(get "$1")" 'BEGIN { printf "%.2f", a / b }'; }
echo "crib gzip vs umoci insert:        $(ratio "crib import (gzip, libdeflate -5)" "umoci insert")"
echo "crib gzip vs tar|pigz:            $(ratio "crib import (gzip, libdeflate -5)" "tar --sort=name | pigz -6 | sha256sum")"
echo "crib zstd vs tar|zstd:            $(ratio "crib import (zstd -3)" "tar --sort=name | zstd -3 -T0 | sha256sum")"
echo "crib unpack vs umoci unpack:      $(ratio "crib unpack" "umoci unpack")"
echo "crib unpack vs tar -xzf:          $(ratio "crib unpack" "tar -xzf (crib's layer)")"
echo "crib gzip size / umoci gzip size: $(awk -v a="$crib_gzip" -v b="$umoci_size" 'BEGIN { printf "%.3f", a / b }')"
