#!/usr/bin/env bash
# Installs the Debian packages the control plane runs on (and, with --test, what the test suite
# drives; --postgres: the PostgreSQL server of `make run-prod` and of the PostgreSQL tests).
# As root it installs what is missing; otherwise it prints the exact apt-get line.
set -euo pipefail
packages=(redis-server redis-sentinel redis-tools haproxy)
for arg in "$@"; do
  case "$arg" in
    # chromium: the dashboard tests; iproute2, util-linux, mount: pods that run for real (tests/kube/podrunner).
    --test) packages+=(chromium iproute2 util-linux mount) ;;
    --postgres) packages+=(postgresql) ;;
    *) echo "unknown option: $arg (known: --test, --postgres)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The packaged services are not used: the control plane starts its own processes.
  for svc in redis-server redis-sentinel haproxy postgresql; do
    (systemctl disable --now "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
  done
else
  echo "Missing Debian packages. Run as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
