"""App profiles of the local arena: which real apps it has, from which Debian packages, and how it lays out
the desktop user's home.

- ``minimal`` (the default): a terminal, a text editor and LibreOffice Calc, enough for the local suite.
- ``osworld``: the apps OSWorld's tasks open (Chromium for Google Chrome, LibreOffice Writer, Calc and
  Impress, GIMP, VLC, Thunderbird, GNOME Files, ffmpeg for screen recording), and the home at ``/home/user``, where
  OSWorld's tasks put their files: inside the arena's sandbox the home is bound there and ``$HOME`` says so;
  the desktop server maps ``/home/user/...`` onto the same folder for its file routes.

``bash scripts/setup.sh --osworld`` installs the ``osworld`` packages (as root); an arena asked for a
profile whose programs are missing says which packages to install.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape


@dataclass(frozen=True)
class Profile:
    name: str
    # program -> the Debian package that provides it
    programs: dict[str, str]
    home_alias: str | None = None
    # Names tasks launch that the arena provides under another program (first words of a command): shell
    # words, written as they are into the shim's script.
    shims: dict[str, list[str]] = field(default_factory=dict)
    terminal_shortcut: bool = False  # Ctrl+Alt+T opens a terminal titled "Terminal", as on Ubuntu
    env: dict[str, str] = field(default_factory=dict)  # for the apps

    def missing(self) -> dict[str, str]:
        """Programs of this profile not on this machine, with their packages."""
        return {prog: pkg for prog, pkg in self.programs.items() if shutil.which(prog) is None}

    def packages(self) -> list[str]:
        return sorted(set(self.programs.values()))


MINIMAL = Profile("minimal", {"xterm": "xterm", "mousepad": "mousepad", "localc": "libreoffice-calc"})
OSWORLD = Profile(
    "osworld",
    {**MINIMAL.programs, "chromium": "chromium", "lowriter": "libreoffice-writer", "loimpress": "libreoffice-impress",
     "libreoffice": "libreoffice-core", "gimp": "gimp", "vlc": "vlc", "thunderbird": "thunderbird",
     "ffmpeg": "ffmpeg", "socat": "socat", "nautilus": "nautilus"},
    home_alias="/home/user",
    # OSWorld's VMs run Google's Chrome; Debian's Chromium speaks the same flags and DevTools protocol, and
    # keeps its profile where Chrome's is (OSWorld's getters read ~/.config/google-chrome/Default).
    shims={"google-chrome": ["chromium", "--no-first-run", "--no-default-browser-check", "--password-store=basic",
                             '--user-data-dir="$HOME/.config/google-chrome"']},
    terminal_shortcut=True,
    # Thunderbird uses the profile profiles.ini names as default (the one a task unpacks), not a new
    # profile of its own for this installation.
    env={"MOZ_LEGACY_PROFILES": "1"},
)
PROFILES = {p.name: p for p in (MINIMAL, OSWORLD)}

# Programs tasks launch that no profile ships, and why (``arena-gym tasks`` counts these tasks apart).
NOT_SHIPPED = {"code": "VS Code (Microsoft's build, not a Debian package)"}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown app profile {name!r}; known: {', '.join(PROFILES)}") from None


def write_shims(profile: Profile, folder: Path) -> None:
    """The names tasks launch that this profile's apps answer to (google-chrome: Chromium), as scripts in
    ``folder`` (first on the arena's PATH)."""
    folder.mkdir(mode=0o755)
    for name, argv in profile.shims.items():
        script = folder / name
        script.write_text("#!/bin/sh\nexec " + " ".join(argv) + ' "$@"\n')
        script.chmod(0o755)


def write_openbox_config(path: Path, terminal: list[str]) -> None:
    """Openbox's own configuration plus Ubuntu's Ctrl+Alt+T, which opens ``terminal`` (a window titled
    "Terminal": OSWorld's tasks press the keys, then activate that window)."""
    base = Path("/etc/xdg/openbox/rc.xml")
    text = base.read_text() if base.is_file() else "<openbox_config><keyboard></keyboard></openbox_config>"
    command = xml_escape(" ".join(shlex.quote(a) for a in terminal))
    bind = f'<keybind key="C-A-t"><action name="Execute"><command>{command}</command></action></keybind>'
    path.write_text(text.replace("</keyboard>", bind + "</keyboard>", 1))
