#!/usr/bin/env bash
# Builds one libFuzzer target and runs it for a bounded time on one core.
#
#   fuzz/run.sh TARGET SECONDS      TARGET: dockerfile, reference, manifest or tar
#
# The fuzz build compiles crib's module sources with swiftc into fuzz/.build (set
# CRIB_FUZZ_BUILD to move it), apart from `swift build`, with -sanitize=fuzzer,address.
# Seeds come from the repository (Dockerfiles in beta-image/ and examples/) and from inputs
# this script writes (references, manifests, configs, small tars). New inputs libFuzzer finds
# go to $CRIB_FUZZ_BUILD/corpus/TARGET and are kept for the next run. A crash, a sanitizer
# report or a hang is written to $CRIB_FUZZ_BUILD/artifacts/TARGET/ and ends the run with
# status 1. The last line printed is a summary: target, seconds, executions, corpus, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: fuzz/run.sh dockerfile|reference|manifest|tar SECONDS" >&2
  exit 2
fi
target=$1
seconds=$2

case "$target" in
  dockerfile) modules=(OCI Layering Runner Build); source_file=fuzz/DockerfileFuzz.swift ;;
  reference) modules=(OCI); source_file=fuzz/ReferenceFuzz.swift ;;
  manifest) modules=(OCI); source_file=fuzz/ManifestFuzz.swift ;;
  tar) modules=(OCI Layering); source_file=fuzz/TarFuzz.swift ;;
  *) echo "fuzz/run.sh: unknown target $target (dockerfile, reference, manifest, tar)" >&2; exit 2 ;;
esac

build=${CRIB_FUZZ_BUILD:-$PWD/fuzz/.build}
mkdir -p "$build/modules" "$build/bin" "$build/seeds/$target" "$build/corpus/$target" "$build/artifacts/$target"
# -O because libFuzzer needs many executions per second; -g keeps crash stacks readable.
# -enable-testing lets a target reach internal decoders through @testable import.
swift_flags=(-O -g -wmo -num-threads 0 -parse-as-library -enable-testing -sanitize=fuzzer,address)
include_flags=(-I "$build/modules")
for library in Sources/C*/; do
  [ -f "$library/module.modulemap" ] && include_flags+=(-I "$library")
done
link_flags=(-larchive -lcrypto -lz -lzstd -ldeflate -lseccomp)

# True when $1 is missing or older than any of the files after it.
stale() {
  local output=$1
  shift
  [ -e "$output" ] || return 0
  [ -n "$(find "$@" -newer "$output" -print -quit)" ]
}

# MARK: - Build

# The runner's C shim, for the Build module's dependency on Runner. Its constructor does
# nothing unless crib's own shim variable is set, which the fuzzer never sets.
if [[ " ${modules[*]} " == *" Runner "* ]]; then
  shim_module=$build/shim
  mkdir -p "$shim_module"
  printf 'module CRunnerShim {\n    header "%s"\n    export *\n}\n' \
    "$PWD/Sources/CRunnerShim/include/crib_shim.h" >"$shim_module/module.modulemap"
  include_flags+=(-I "$shim_module")
  if stale "$build/modules/libCRunnerShim.a" Sources/CRunnerShim; then
    echo "fuzz: compiling CRunnerShim" >&2
    rm -f "$build/modules/libCRunnerShim.a"
    for file in Sources/CRunnerShim/*.c; do
      clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CRunnerShim/include \
        -c "$file" -o "$shim_module/$(basename "$file" .c).o"
    done
    ar rcs "$build/modules/libCRunnerShim.a" "$shim_module"/*.o
  fi
  link_flags+=("$build/modules/libCRunnerShim.a")
fi

objects=()
for module in "${modules[@]}"; do
  mapfile -t sources < <(find "Sources/$module" -name '*.swift' | sort)
  if stale "$build/modules/$module.o" "Sources/$module"; then
    echo "fuzz: compiling $module (${#sources[@]} files)" >&2
    swiftc "${swift_flags[@]}" "${include_flags[@]}" -module-name "$module" \
      -emit-module -emit-module-path "$build/modules/$module.swiftmodule" \
      -c -o "$build/modules/$module.o" "${sources[@]}"
  fi
  objects+=("$build/modules/$module.o")
done

binary=$build/bin/fuzz-$target
if stale "$binary" "$source_file" "${objects[@]}"; then
  echo "fuzz: linking $binary" >&2
  swiftc "${swift_flags[@]}" "${include_flags[@]}" -module-name "Fuzz$target" \
    "$source_file" "${objects[@]}" "${link_flags[@]}" -o "$binary" 2>&1 |
    { grep -v 'Cannot export local symbol' || true; } >&2
  [ -x "$binary" ] || { echo "fuzz: failed to link $binary" >&2; exit 1; }
fi

# MARK: - Seeds

seeds=$build/seeds/$target
case "$target" in
  dockerfile)
    index=0
    while IFS= read -r file; do
      index=$((index + 1))
      cp "$file" "$seeds/repository-$index"
    done < <(find beta-image examples -name 'Dockerfile*' -type f | sort)
    printf 'ARG BASE=debian\nFROM ${BASE:-x} AS one\nENV A=${A:+set} B="${HOME}/x" \\\n  C=$PATH\nRUN <<EOF\necho $A\nEOF\nFROM one\nCOPY --from=one ["/a", "/b"]\n' \
      >"$seeds/variables"
    printf '# escape=`\nFROM scratch\nLABEL a=`$b c="d e"\nSHELL ["cmd", "/S"]\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN x\n' \
      >"$seeds/escape"
    ;;
  reference)
    index=0
    for text in busybox docker.io/library/busybox:latest localhost:5000/a/b-c_d.e:1.0 \
      "quay.io/x/y@sha256:$(printf 'a%.0s' {1..64})" "oci:/tmp/layout:tag" "oci-archive:/tmp/a.tar" \
      "docker-archive:/tmp/d.tar:name:tag" "docker://127.0.0.1:5000/repo:tag" "[::1]:5000/repo" \
      "$(printf 'b%.0s' {1..64})" "sha256:$(printf 'c%.0s' {1..64})"; do
      index=$((index + 1))
      printf '%s' "$text" >"$seeds/reference-$index"
    done
    ;;
  manifest)
    digest="sha256:$(printf '0%.0s' {1..64})"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":32,"annotations":{"a":"b"}}],"annotations":{"org.opencontainers.image.ref.name":"x"}}' \
      "$digest" "$digest" >"$seeds/manifest"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":2},"layers":[]}' \
      "$digest" >"$seeds/docker-manifest"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":7,"platform":{"architecture":"amd64","os":"linux","variant":"v3","os.features":["x"]}}]}' \
      "$digest" >"$seeds/index"
    printf '{"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Entrypoint":["/x"],"Cmd":["y"],"WorkingDir":"/","User":"1:1","ExposedPorts":{"80/tcp":{}},"Volumes":{"/v":{}},"Labels":{"a":"b"},"StopSignal":"SIGTERM"},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"x","empty_layer":true}]}' \
      "$digest" >"$seeds/config"
    printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["a/layer.tar"]}]' \
      "$(printf '0%.0s' {1..64})" >"$seeds/docker-archive"
    ;;
  tar)
    tree=$(mktemp -d)
    trap 'rm -rf "$tree"' EXIT
    mkdir -p "$tree/dir/sub" "$tree/dir/.wh..wh..opq.d"
    printf 'hello\n' >"$tree/dir/file"
    ln -s ../dir/file "$tree/dir/sub/link"
    ln "$tree/dir/file" "$tree/dir/hard"
    : >"$tree/dir/.wh.gone"
    mkfifo "$tree/dir/fifo"
    tar -C "$tree" --format=gnu -cf "$seeds/gnu.tar" dir
    tar -C "$tree" --format=pax -cf "$seeds/pax.tar" dir
    tar -C "$tree" --format=ustar -cf "$seeds/ustar.tar" dir
    tar -C "$tree" -czf "$seeds/gzip.tar" dir
    tar -C "$tree" --zstd -cf "$seeds/zstd.tar" dir 2>/dev/null || true
    printf 'x' >"$tree/long-$(printf 'n%.0s' {1..150})"
    tar -C "$tree" --format=gnu -cf "$seeds/longname.tar" "long-$(printf 'n%.0s' {1..150})"
    tar -C "$tree" --format=pax -cf "$seeds/outside.tar" --transform 's,^dir/file,../../escape,' dir/file
    ;;
esac

# MARK: - Run

# One worker, one job, low priority: the machine's cores are shared. A single input that
# takes more than 20 seconds counts as a hang. With -jobs libFuzzer writes the worker's
# output to fuzz-0.log in the current directory, so it runs in the build directory.
log=$build/fuzz-0.log
rm -f "$log"
set +e
(
  cd "$build"
  nice -n 10 "$binary" -workers=1 -jobs=1 -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" \
    "$build/corpus/$target" "$seeds" >/dev/null 2>&1
)
status=$?
set -e
cp "$log" "$build/$target.log"
grep -E '^#[0-9]+.*(INITED|DONE)|ERROR|Fatal|SUMMARY|Test unit written' "$log" >&2 || true

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$build/corpus/$target" -type f | wc -l)
crashes=$(find "$build/artifacts/$target" -type f | wc -l)
echo "fuzz: target=$target seconds=$seconds executions=${executions:-0} corpus=$corpus artifacts=$crashes status=$status"
exit "$status"
