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


def seed_home(home: Path) -> None:
    for sub in ("Desktop", "Documents", "Downloads", ".config", ".local/share"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    lo = home / ".config/libreoffice/4/user/registrymodifications.xcu"
    if not lo.exists():
        lo.parent.mkdir(parents=True, exist_ok=True)
        lo.write_text(LIBREOFFICE_SETTINGS)
