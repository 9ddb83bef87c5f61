#!/usr/bin/env bash
# Debian packages the tests and the app need, installed only when missing:
#   python3-venv    the virtual environment of the README's commands (Debian's system Python lacks it)
#   hdf5-tools      h5dump, to prove session files open without Joulebench
#   openssh-server  sshd, for the SSH target tests on a loopback port
#   libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0   Qt offscreen
#   libxcb-*, libxkbcommon-x11-0   Qt's X11 platform plugin, to open the app on a display
set -euo pipefail
want=(python3-venv hdf5-tools openssh-server libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
      libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 libxcb-xinerama0
      libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-cursor0)
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
