"""A fresh home for an arena's desktop user: the usual folders, and app settings that keep first-run
dialogs (tips, format warnings) from covering the screen."""

from __future__ import annotations

from pathlib import Path

# LibreOffice: no tip-of-the-day, no "keep current format?" prompt on Ctrl+S, no first-start wizard.
LIBREOFFICE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Save/Document"><prop oor:name="WarnAlienFormat" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Setup/Product"><prop oor:name="ooSetupLastVersion" oor:op="fuse"><value>99.9</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseSystemFileDialog" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


# GSettings from a key file (the arena runs apps with GSETTINGS_BACKEND=keyfile): no dconf service needed,
# and the settings are in the home the arena made. Mousepad: no "restore the previous session?" dialog
# after the arena ended it at a reset (a killed editor counts as a crash), which would cover the next
# episode's window.
GSETTINGS_KEYFILE = """[org/xfce/mousepad/preferences/file]
session-restore='never'
"""


# VLC as OSWorld's VMs have it: no first-run privacy dialog over the player, and its HTTP interface on
# (port 8080, password "password"), which OSWorld's vlc_playing_info getter reads.
VLCRC = """[qt]
qt-privacy-ask=0
[core]
extraintf=http
[lua]
http-password=password
"""


def seed_home(home: Path, profile: str = "minimal") -> None:
    for sub in ("Desktop", "Documents", "Downloads", ".config", ".local/share"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    lo = home / ".config/libreoffice/4/user/registrymodifications.xcu"
    if not lo.exists():
        lo.parent.mkdir(parents=True, exist_ok=True)
        lo.write_text(LIBREOFFICE_SETTINGS)
    keyfile = home / ".config/glib-2.0/settings/keyfile"
    if not keyfile.exists():
        keyfile.parent.mkdir(parents=True, exist_ok=True)
        keyfile.write_text(GSETTINGS_KEYFILE)
    vlcrc = home / ".config/vlc/vlcrc"
    if profile == "osworld" and not vlcrc.exists():
        vlcrc.parent.mkdir(parents=True, exist_ok=True)
        vlcrc.write_text(VLCRC)
