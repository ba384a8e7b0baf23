#!/usr/bin/env bash
# Installs everything arena-gym needs on a Debian machine: apt packages (as root), a virtualenv in
# .venv, and the package with its server, training, ray and dev extras. With --rllib also .venv-rllib:
# RLlib pins gymnasium 1.2.2, so it gets a virtualenv of its own and .venv keeps the newest gymnasium.
# With --osworld also OSWorld's app set (the local arena's app profile "osworld": Chromium, LibreOffice
# Writer and Impress besides Calc, GIMP, VLC, Thunderbird, GNOME Files, ffmpeg).
# Safe to run again: it only does what is still missing.
set -euo pipefail
cd "$(dirname "$0")/.."
with_rllib=0
with_osworld=0
for arg in "$@"; do
  case $arg in
    --rllib) with_rllib=1 ;;
    --osworld) with_osworld=1 ;;
    *) echo "setup: unknown option $arg (known: --rllib, --osworld)" >&2; exit 2 ;;
  esac
done

APT_PACKAGES=(
  xvfb x11-utils x11-xserver-utils xdotool wmctrl openbox xterm xclip mousepad dbus-x11 dbus libglib2.0-bin
  at-spi2-core libatk-adaptor python3-pyatspi
  libreoffice-calc libreoffice-gtk3
  fonts-dejavu-core socat openssh-server iproute2 procps psmisc bubblewrap util-linux
  chromium ffmpeg
)
# The "osworld" app profile (arena_gym/arena/profiles.py lists the same packages).
if ((with_osworld)); then
  APT_PACKAGES+=(libreoffice-writer libreoffice-impress gimp vlc thunderbird nautilus)
fi

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

# install_into VENV EXTRAS: the virtualenv, torch, then the package with those extras (again only when
# pyproject.toml changed since).
install_into() {
  local venv=$1 extras=$2
  if [[ ! -x $venv/bin/python ]]; then
    echo "setup: creating $venv"
    "$PYTHON" -m venv "$venv"
  fi
  # torch first, pinned: that version is the CPU build this machine serves; a loose pin would pull CUDA.
  if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    echo "setup: installing torch (CPU) into $venv"
    "$venv/bin/pip" install -q torch==2.13.0
  fi
  local stamp=$venv/.arena-gym-installed
  # Editable in compat mode: a plain path in a .pth file. The default mode installs an import hook that
  # costs every Python started from this venv ~14 ms (each stock client's python -c action among them).
  if [[ ! -f $stamp || pyproject.toml -nt $stamp || $(cat "$stamp") != "$extras compat" ]]; then
    echo "setup: installing arena-gym[$extras] into $venv"
    "$venv/bin/pip" install -q -e ".[$extras]" --config-settings editable_mode=compat
    echo "$extras compat" > "$stamp"
  fi
}

install_into .venv server,evaluate,media,training,ray,dev
# OSWorld's own client (desktop-env), for the tests that drive our server with it: its controllers only,
# without its dependencies (they pull in OCR and vision models).
if ! .venv/bin/python -c "import desktop_env.controllers.python" 2>/dev/null; then
  echo "setup: installing desktop-env 1.0.2 (OSWorld's client, no dependencies) into .venv"
  .venv/bin/pip install -q --no-deps desktop-env==1.0.2
fi
# What its SetupController imports besides (its Google Drive client, a multipart encoder, .env loading, and
# the URL and XML helpers of its metrics' utils).
if ! .venv/bin/python -c "import pydrive, requests_toolbelt, dotenv, tldextract, xmltodict" 2>/dev/null; then
  .venv/bin/pip install -q pydrive requests-toolbelt python-dotenv tldextract xmltodict
fi
if ((with_rllib)); then
  install_into .venv-rllib server,evaluate,training,rllib,dev
fi

# The accessibility tree comes from AT-SPI, whose Python bindings (pyatspi, gi) only Debian ships. Expose
# those two packages, and nothing else of the system's, to the virtualenv when its Python has the
# system's ABI (same major.minor); otherwise the desktop server serves an empty tree.
system_packages=/usr/lib/python3/dist-packages
venv_abi=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
system_abi=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
for venv in .venv .venv-rllib; do
  [[ -x $venv/bin/python ]] || continue
  site=$($venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  if [[ $venv_abi == "$system_abi" && -d $system_packages/pyatspi && -d $system_packages/gi ]]; then
    mkdir -p $venv/system-atspi
    ln -sfn "$system_packages/pyatspi" $venv/system-atspi/pyatspi
    ln -sfn "$system_packages/gi" $venv/system-atspi/gi
    echo "$PWD/$venv/system-atspi" > "$site/arena-gym-system-atspi.pth"
  elif [[ ! -f $site/arena-gym-system-atspi.pth ]]; then
    echo "setup: $venv's Python ($venv_abi) is not the system's ($system_abi): no accessibility tree" >&2
  fi
done
