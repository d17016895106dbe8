#!/usr/bin/env bash
# Measures cold start and restore to the first HTTP response of the two example applications:
# pingperf (Open Liberty, self-checkpointed at `applications`) and Tomcat 10 (checkpointed by
# crib with a trigger). The four steps take turns within one run, each after a `sync`. The
# medians are printed with restore as a percentage of cold start.
#
#   bench/examples.sh [RUNS]        (as root, after scripts/main-job.sh, which builds pingperf)
#
# The images come from crib's store (CRIB_ROOT, default /var/lib/crib). tomcat-application
# and tomcat-checkpoint are built with examples/tomcat/build-app.sh when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
crib=${CRIB_BINARY:-$PWD/.build/release/crib}
if [ "$(id -u)" -ne 0 ]; then echo "examples.sh: run as root (the images are in root's store)" >&2; exit 1; fi
[ -x "$crib" ] || { echo "examples.sh: missing $crib; run swift build -c release --static-swift-stdlib" >&2; exit 1; }
command -v curl >/dev/null || { echo "examples.sh: missing curl; run scripts/setup.sh" >&2; exit 1; }
for image in pingperf-application pingperf-checkpoint; do
  "$crib" inspect "$image" >/dev/null 2>&1 || { echo "examples.sh: no image $image; run scripts/main-job.sh first" >&2; exit 1; }
done
if ! "$crib" inspect tomcat-checkpoint >/dev/null 2>&1; then
  echo "# building tomcat-application and tomcat-checkpoint" >&2
  CRIB=$crib bash examples/tomcat/build-app.sh >&2
fi

log=$(mktemp /tmp/crib-bench-examples.XXXXXX)
trap 'rm -f "$log"' EXIT

# first_response IMAGE PORT PATH: seconds from `crib run` to the first 2xx of PATH. The clock
# is bash's EPOCHREALTIME, so no process start is counted but crib's and curl's.
first_response() {
  local image=$1 port=$2 path=$3 pid start end
  sync
  start=$EPOCHREALTIME
  "$crib" run --rm -p "$port:$port" "$image" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 6000); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port$path" 2>/dev/null; then
      end=$EPOCHREALTIME
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.005
  done
  kill -TERM "$pid" 2>/dev/null || true
  echo "examples.sh: $image did not answer http://127.0.0.1:$port$path; its output:" >&2
  cat "$log" >&2
  return 1
}

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "# $runs runs each; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $("$crib" version | head -1)"
declare -A times
steps=(
  "pingperf cold|pingperf-application|9080|/pingperf/ping"
  "pingperf restore|pingperf-checkpoint|9080|/pingperf/ping"
  "tomcat cold|tomcat-application|8080|/examples/servlets/servlet/HelloWorldExample"
  "tomcat restore|tomcat-checkpoint|8080|/examples/servlets/servlet/HelloWorldExample"
)
for _ in $(seq "$runs"); do
  for entry in "${steps[@]}"; do
    IFS='|' read -r name image port path <<<"$entry"
    times[$name]+="$(first_response "$image" "$port" "$path") "
  done
done

echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for entry in "${steps[@]}"; do
  name=${entry%%|*}
  printf '%-18s %s  median %s s\n' "$name" "${times[$name]}" "$(median <<<"${times[$name]}")"
done
for app in pingperf tomcat; do
  cold=$(median <<<"${times[$app cold]}")
  restore=$(median <<<"${times[$app restore]}")
  awk -v a="$app" -v c="$cold" -v r="$restore" \
    'BEGIN { printf "%s: restore %.3f s is %.1f %% of cold start %.3f s (%.1fx faster)\n", a, r, 100 * r / c, c, c / r }'
done
