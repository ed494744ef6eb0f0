#!/usr/bin/env bash
# Debian packages the test suite uses: promtool and a Prometheus server (metrics tests),
# Chromium (WebTorrent browser transfer), mktorrent and three BitTorrent clients (real file
# transfers). Installs the missing ones with apt-get when run as root on Debian; otherwise
# says what to install. Run by `npm test` (pretest) and by .ci/run.
set -euo pipefail

packages=(prometheus chromium mktorrent transmission-cli aria2 python3-libtorrent)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages for the tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "the tests need these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
