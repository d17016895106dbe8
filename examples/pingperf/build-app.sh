#!/usr/bin/env bash
# Builds pingperf-application, then checkpoints it at a startup phase into
# pingperf-checkpoint.
# Usage: build-app.sh [PHASE]   PHASE: features, deployment or applications
# (default), or the released names beforeAppStart and afterAppStart.
# Needs the beta image: beta-image/debian-base.sh, then
#   crib build -f beta-image/Dockerfile.debian.openjdk21 -t beta-checkpoint:debian-openjdk21 beta-image
set -euo pipefail
cd "$(dirname "$0")"

crib=${CRIB:-crib}
phase=${1:-applications}

"$crib" build -t pingperf-application .
# The entrypoint starts the server, dumps it with criu once it reaches the
# phase, and exits 0; crib keeps what that run wrote as one new layer.
"$crib" checkpoint pingperf-application --env WLP_CHECKPOINT="$phase" -t pingperf-checkpoint
