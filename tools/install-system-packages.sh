#!/usr/bin/env bash
# Debian packages the tests and the app need, installed only when missing:
#   hdf5-tools      h5dump, to prove session files open without Joulebench
#   openssh-server  sshd, for the SSH target tests on a loopback port
#   libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0   Qt offscreen
set -euo pipefail
want=(hdf5-tools openssh-server libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
