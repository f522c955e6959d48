#!/usr/bin/env bash
# Installs the services the tests start themselves (redis-server) when the machine lacks them.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing and apt-get is not available" >&2
    exit 1
  fi
fi
