#!/usr/bin/env bash
# Installs the real peers the test suite drives (wrk, ab, curl, Chromium for the browser test,
# nginx and HAProxy as reverse proxies) from Debian packages.
# Idempotent; without root or apt it says what is missing and leaves the decision to the tests.
set -u
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v ab >/dev/null 2>&1 || need+=(apache2-utils)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ ${#need[@]} -eq 0 ]; then
  echo "real peers present: wrk, ab, curl, chromium, nginx, haproxy"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing real clients: ${need[*]} (install them with apt-get as root)"
  exit 0
fi
echo "installing real clients: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq "${need[@]}" >/dev/null || echo "apt-get could not install: ${need[*]}"
exit 0
