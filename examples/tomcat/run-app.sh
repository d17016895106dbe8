#!/usr/bin/env bash
# Restores tomcat-checkpoint and publishes its port: then
#   curl http://127.0.0.1:8080/examples/servlets/servlet/HelloWorldExample
set -euo pipefail
cd "$(dirname "$0")"

exec "${CRIB:-crib}" run --rm -p 8080:8080 tomcat-checkpoint
