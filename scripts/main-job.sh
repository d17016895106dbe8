#!/usr/bin/env bash
# The main job: on a Debian 12 machine, as root, set up and build crib, make the Debian
# base image, build the checkpoint-capable beta image and the pingperf application,
# checkpoint it at a startup phase, restore it with a published port, and compare the
# cold start with the restore.
#
# Usage: bash scripts/main-job.sh [PHASE]   (features, deployment or applications; default applications)
set -euo pipefail
cd "$(dirname "$0")/.."
phase=${1:-applications}

step_started=0
step() {
  step_started=$(date +%s.%N)
  printf '\n== %s\n' "$*" >&2
}
# Prints the seconds from START (a `date +%s.%N` value) to now.
seconds_since() {
  awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.3f", now - start }'
}
step_done() {
  printf -- '-- %s: %s s\n' "$1" "$(seconds_since "$step_started")" >&2
}

step "install the Debian packages crib needs"
bash scripts/setup.sh
step_done "setup"

step "build crib (release)"
# With the Swift runtime and Foundation linked in. A container start is a second start of crib
# (the shim), and resolving some 60 shared libraries twice cost about a third of its time.
swift build -c release --static-swift-stdlib 2>&1 | tail -n 1
export PATH="$PWD/.build/release:$PATH"
step_done "build crib"

if crib inspect debian:trixie >/dev/null 2>&1; then
  printf '\n== debian:trixie exists, kept\n' >&2
else
  step "make the Debian trixie base image with debootstrap"
  bash beta-image/debian-base.sh
  step_done "base image"
fi

step "build the beta image (OpenJDK 21, criu, helper scripts)"
crib build -f beta-image/Dockerfile.debian.openjdk21 -t beta-checkpoint:debian-openjdk21 beta-image
step_done "beta image"

step "build pingperf and checkpoint it at phase $phase"
(cd examples/pingperf && bash build-app.sh "$phase")
step_done "pingperf build and checkpoint"

# Starts IMAGE with -p 9080:9080 and prints the seconds until /pingperf/ping responds.
time_to_first_response() {
  local image=$1 started elapsed
  started=$(date +%s.%N)
  crib run --rm -p 9080:9080 "$image" >"/tmp/crib-main-job-$image.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null http://127.0.0.1:9080/pingperf/ping 2>/dev/null; then
      elapsed=$(seconds_since "$started")
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      echo "$elapsed"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -TERM "$pid" 2>/dev/null || true
  echo "crib run $image did not respond on 127.0.0.1:9080; its output:" >&2
  cat "/tmp/crib-main-job-$image.log" >&2
  return 1
}

step "cold start of pingperf-application"
cold=$(time_to_first_response pingperf-application)
step_done "cold start"

step "restore of pingperf-checkpoint"
restore=$(time_to_first_response pingperf-checkpoint)
step_done "restore"

echo >&2
echo "GET /pingperf/ping from the restored application:"
crib run --rm -p 9080:9080 pingperf-checkpoint >/tmp/crib-main-job-answer.log 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  curl -fsS http://127.0.0.1:9080/pingperf/ping 2>/dev/null && break
  sleep 0.01
done
echo
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# The checkpoint image is the application image plus exactly one layer, as skopeo reads it
# straight from crib's store.
store=${CRIB_ROOT:-/var/lib/crib}/store
app_layers=$(skopeo inspect "oci:$store:localhost/pingperf-application:latest" | jq -c '.Layers')
checkpoint_layers=$(skopeo inspect "oci:$store:localhost/pingperf-checkpoint:latest" | jq -c '.Layers')
if [ "$(jq -c '.[:-1]' <<<"$checkpoint_layers")" != "$app_layers" ]; then
  echo "main-job.sh: pingperf-checkpoint's layers are not pingperf-application's plus one" >&2
  exit 1
fi
echo "skopeo reads pingperf-checkpoint: $(jq length <<<"$app_layers") application layers + 1 checkpoint layer"

echo
crib images
app_size=$(crib inspect pingperf-application | jq '.[0].Size')
checkpoint_layer=$(crib inspect pingperf-checkpoint | jq '.[0].Layers[-1].size')
printf '\n%-32s %10s\n' "pingperf-application size" "$(numfmt --to=si "$app_size")B"
printf '%-32s %10s\n' "checkpoint layer size" "$(numfmt --to=si "$checkpoint_layer")B"
printf '%-32s %10.3f s\n' "cold start to first response" "$cold"
printf '%-32s %10.3f s\n' "restore to first response" "$restore"
printf '%-32s %10s %%\n' "restore / cold start" "$(awk -v r="$restore" -v c="$cold" 'BEGIN { printf "%.1f", 100 * r / c }')"
