#!/usr/bin/env bash
# Installs what a fresh machine lacks for changewatch's demo and tests: Debian's kcat (librdkafka's
# mock Kafka cluster) and chromium (browser tests), and the npm packages. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ "${CHANGEWATCH_SKIP_CHROMIUM:-}" = 1 ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "changewatch: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "changewatch: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
