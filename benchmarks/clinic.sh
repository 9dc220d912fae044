#!/usr/bin/env bash
# Profiles the built examples/hello under autocannon load with clinic (doctor, flame or bubbleprof)
# and prints the HTML report's path. Usage: bash benchmarks/clinic.sh doctor|flame|bubbleprof
# Env: CONNECTIONS (50), DURATION seconds (10), PORT (3000).
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${1:?usage: clinic.sh doctor|flame|bubbleprof}"
case "$tool" in doctor|flame|bubbleprof) ;; *) echo "unknown clinic tool: $tool" >&2; exit 2 ;; esac
export NO_INSIGHT=1 # clinic otherwise asks about analytics and, without a terminal, quietly exits
mkdir -p .clinic
out=$(PORT="${PORT:-3000}" npx --no-install clinic "$tool" --open=false --dest .clinic \
  --autocannon [ -c "${CONNECTIONS:-50}" -d "${DURATION:-10}" "http://127.0.0.1:${PORT:-3000}/" ] \
  -- node dist/examples/hello.js 2>&1 | tee /dev/stderr)
report=$(printf '%s\n' "$out" | sed -nE 's#.*(file://[^ ]+\.html).*#\1#p' | tail -n 1)
if [ -z "$report" ]; then
  echo "clinic $tool produced no report" >&2
  exit 1
fi
echo "clinic $tool report: $report"
