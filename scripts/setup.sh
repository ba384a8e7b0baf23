#!/usr/bin/env bash
# Installs everything arena-gym needs on a Debian machine: apt packages (as root), a virtualenv in
# .venv, and the package with its server, training and dev extras. Safe to run again: it only does
# what is still missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  xvfb x11-utils x11-xserver-utils xdotool wmctrl openbox xterm xclip mousepad dbus-x11
  libreoffice-calc libreoffice-gtk3
  fonts-dejavu-core socat openssh-server iproute2 procps psmisc
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing apt packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
# torch first, pinned: that version is the CPU build this machine serves; a loose pin would pull CUDA.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing torch (CPU)"
  .venv/bin/pip install -q torch==2.13.0
fi
stamp=.venv/.arena-gym-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "setup: installing arena-gym into .venv"
  .venv/bin/pip install -q -e ".[server,evaluate,media,training,dev]"
  touch "$stamp"
fi
