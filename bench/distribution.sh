#!/usr/bin/env bash
# Push and pull of a ~500 MB image (5 gzip layers of incompressible data, 100 MiB each)
# between crib and a local docker-registry, beside skopeo copy doing the same in the same
# run. Every push goes to an emptied registry and every pull into an empty directory.
#
# Usage: bash bench/distribution.sh [ROUNDS]   (default 3; the best time of each is printed)
# Needs: docker-registry, skopeo, a built crib (CRIB_BINARY, default .build/release/crib,
# then .build/debug/crib).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
crib=${CRIB_BINARY:-}
if [ -z "$crib" ]; then
  if [ -x .build/release/crib ]; then crib=$PWD/.build/release/crib; else crib=$PWD/.build/debug/crib; fi
fi
for tool in docker-registry skopeo "$crib"; do
  command -v "$tool" >/dev/null || { echo "distribution.sh: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/crib-bench-XXXXXX)
registry_pid=
cleanup() {
  # `|| true`: under set -e a failing wait would end the trap before the rm.
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port

start_registry() {
  [ -n "$registry_pid" ] && kill "$registry_pid" && wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work/registry-data"
  cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry-data
http:
  addr: $host
YAML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -sf "http://$host/v2/" >/dev/null && return; sleep 0.05; done
  echo "distribution.sh: docker-registry did not start" >&2; exit 1
}

# --- the image: an OCI layout both tools read -----------------------------------------
layout=$work/layout
mkdir -p "$layout/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
layers_json=""
diff_ids=""
for i in 1 2 3 4 5; do
  mkdir -p "$work/content$i"
  head -c $((100 << 20)) /dev/urandom > "$work/content$i/data$i"
  tar -C "$work/content$i" -cf "$work/layer$i.tar" .
  diff_ids+="\"sha256:$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)\","
  gzip -1 -c "$work/layer$i.tar" > "$work/layer$i.tar.gz"
  digest=$(sha256sum "$work/layer$i.tar.gz" | cut -d' ' -f1)
  mv "$work/layer$i.tar.gz" "$layout/blobs/sha256/$digest"
  size=$(stat -c %s "$layout/blobs/sha256/$digest")
  layers_json+="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$size},"
  rm -rf "$work/content$i" "$work/layer$i.tar"
done
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[${diff_ids%,}]}}"
printf '%s' "$config" > "$work/config.json"
config_digest=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$layout/blobs/sha256/$config_digest"
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":${#config}},\"layers\":[${layers_json%,}]}"
printf '%s' "$manifest" > "$work/manifest.json"
manifest_digest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
mv "$work/manifest.json" "$layout/blobs/sha256/$manifest_digest"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest_digest\",\"size\":${#manifest},\"annotations\":{\"org.opencontainers.image.ref.name\":\"bench\"}}]}" > "$layout/index.json"
total=$(du -sb "$layout" | cut -f1)

export CRIB_ROOT=$work/crib-root
"$crib" --quiet copy "oci:$layout:bench" bench:1 >/dev/null

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
timed() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; end=$(date +%s.%N); seconds "$start" "$end"; }

crib_push=() skopeo_push=() crib_pull=() skopeo_pull=()
for round in $(seq "$rounds"); do
  # Alternate which tool goes first, so that neither always meets a warmer cache.
  for tool in crib skopeo; do
    [ $((round % 2)) -eq 0 ] && tool=$([ $tool = crib ] && echo skopeo || echo crib)
    start_registry; sync
    if [ $tool = crib ]; then
      crib_push+=("$(timed "$crib" --quiet push --tls-verify=false bench:1 "docker://$host/bench:1")")
      rm -rf "$work/pull-root"; sync
      crib_pull+=("$(timed "$crib" --quiet --root "$work/pull-root" pull --tls-verify=false "$host/bench:1")")
    else
      skopeo_push+=("$(timed skopeo copy --quiet --dest-tls-verify=false "oci:$layout:bench" "docker://$host/bench:1")")
      rm -rf "$work/pull-layout"; sync
      skopeo_pull+=("$(timed skopeo copy --quiet --src-tls-verify=false "docker://$host/bench:1" "oci:$work/pull-layout:bench")")
    fi
  done
done

cp=$(best "${crib_push[@]}"); sp=$(best "${skopeo_push[@]}")
cl=$(best "${crib_pull[@]}"); sl=$(best "${skopeo_pull[@]}")
mb=$(awk -v t="$total" 'BEGIN { printf "%.0f", t / 1048576 }')
printf 'image: %s MiB in 5 gzip layers; best of %d rounds; crib %s\n' "$mb" "$rounds" "$crib"
printf '%-6s %10s %10s %14s\n' "" "crib (s)" "skopeo (s)" "skopeo/crib"
printf '%-6s %10.2f %10.2f %14s\n' push "$cp" "$sp" "$(ratio "$sp" "$cp")"
printf '%-6s %10.2f %10.2f %14s\n' pull "$cl" "$sl" "$(ratio "$sl" "$cl")"
printf 'all runs: crib push %s | skopeo push %s | crib pull %s | skopeo pull %s\n' \
  "${crib_push[*]}" "${skopeo_push[*]}" "${crib_pull[*]}" "${skopeo_pull[*]}"
