#!/usr/bin/env bash
# Runs benchmarks/idle-connections with a descriptor limit above CONNECTIONS (client and server each
# hold one socket per connection); raises the soft limit up to the hard one.
set -euo pipefail
need=$(( ${CONNECTIONS:-10000} + 1000 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
exec node "$(dirname "$0")/../dist/benchmarks/idle-connections.js" "$@"
