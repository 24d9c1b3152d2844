#!/usr/bin/env bash
# Installs the pinned Node.js clients (package-lock.json) with `npm ci` when node_modules is missing
# or older than the lock file; otherwise does nothing. `make test` and the tests themselves call it.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "js clients: npm not found; install Node.js 18+ to run tests/clients/test_vercel_ai_sdk.py" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "js clients: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
