#!/usr/bin/env bash
# Installs the real peers the test suite drives (wrk, ab, curl, openssl, Chromium for the browser test,
# nginx and HAProxy as reverse proxies, and the pooled clients of test/pooled-clients: Go's
# net/http, Apache HttpClient 4.5 compiled with javac, Python's urllib3) from Debian packages.
# undici, the other pooled client, is an npm devDependency.
# Idempotent; without root or apt it says what is missing and leaves the decision to the tests.
set -u
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v ab >/dev/null 2>&1 || need+=(apache2-utils)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/httpclient.jar ] || need+=(libhttpclient-java)
# Debian's python3, not a pyenv one that may come first on PATH: the module lives in Debian's.
/usr/bin/python3 -c 'import urllib3' >/dev/null 2>&1 || need+=(python3-urllib3)
if [ ${#need[@]} -eq 0 ]; then
  echo "real peers present: wrk, ab, curl, openssl, chromium, nginx, haproxy, go, javac, httpclient, urllib3"
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
