#!/usr/bin/env bash
# Builds tomcat-application, then checkpoints it into tomcat-checkpoint once
# its example applications answer over HTTP inside the container.
# Needs the beta image (see examples/pingperf/build-app.sh).
set -euo pipefail
cd "$(dirname "$0")"

crib=${CRIB:-crib}

"$crib" build -t tomcat-application .
# --warmup sends that many requests after the first 2xx, so that the JSP
# compiler and the JIT have run before the dump.
"$crib" checkpoint tomcat-application -t tomcat-checkpoint \
  --trigger http:http://127.0.0.1:8080/examples/ --warmup "${WARMUP:-20}" --timeout "${TIMEOUT:-120}"
