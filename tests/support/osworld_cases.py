"""OSWorld tasks run end to end on a local arena: the stand-in files each task downloads, and a scripted
solution for each.

A case names a real task of ../shared/osworld_tasks. ``assets`` makes the files its download steps fetch
(keyed by the task's own URLs, served on loopback by ``standins.AssetServer``): documents made here, and for
tasks whose check is a script of their own (``eval.sh``), a script that checks what the instruction asks.
``solve`` does the task on the desktop (through the VM's routes, or as an agent would, with env actions);
``last`` is the action that ends the episode (FAIL for the tasks OSWorld calls infeasible).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from arena_gym.polling import poll_until
from arena_gym.tasks.models import Task


@dataclass
class Solver:
    """What a solution may use: the env (actions, as an agent), the VM's client, the arena."""

    env: Any
    client: Any
    arena: Any

    def sh(self, script: str) -> str:
        result = self.client.execute(script, True)
        assert result.returncode == 0, f"{script!r}: {result.error}"
        return result.output

    def wait_for_window(self, title: str, timeout: float = 60.0) -> None:
        poll_until(lambda: any(title in t for t in self.client.window_titles()), timeout, interval=0.2,
                   what=f"a window titled {title!r}")

    def act(self, *actions: dict[str, Any]) -> None:
        for action in actions:
            _, _, terminated, truncated, info = self.env.step(action)
            assert not (terminated or truncated) and "action_error" not in info, info


@dataclass
class Case:
    task_id: str
    solve: Callable[[Solver], None]
    assets: Callable[[Task], dict[str, bytes]] = field(default=lambda task: {})
    last: str = "DONE"


def download_urls(task: Task) -> dict[str, str]:
    """The task's download steps (setup and postconfig): the file name each saves as -> its URL."""
    urls = {}
    for step in [*task.config, *task.evaluator.postconfig]:
        if step.type == "download":
            for entry in step.params.files:
                urls[entry.path.rsplit("/", 1)[-1]] = entry.url
    return urls


def files(**by_name: bytes | str) -> Callable[[Task], dict[str, bytes]]:
    """Stand-ins by the name the task saves them as."""

    def make(task: Task) -> dict[str, bytes]:
        urls = download_urls(task)
        assert set(by_name) == set(urls), f"{task.task_id} downloads {sorted(urls)}; stand-ins: {sorted(by_name)}"
        return {urls[name]: (data.encode() if isinstance(data, str) else data) for name, data in by_name.items()}

    return make


def image(fmt: str, color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def infeasible(task_id: str) -> Case:
    return Case(task_id, solve=lambda s: None, last="FAIL")


# ---- os: shell tasks whose check is a script of the task's own (stand-ins: what the instruction asks)
OS_CASES = [
    Case("37887e8c", assets=files(
        **{"setup.sh": "#!/bin/bash\nmkdir -p /tmp/test_files/old /tmp/test_files/new\n"
                       "for f in old/a.txt old/b.txt; do echo x > /tmp/test_files/$f; "
                       "touch -d '30 days ago' /tmp/test_files/$f; done\necho y > /tmp/test_files/new/c.txt\n",
           "eval.sh": "#!/bin/bash\ncd /tmp/test_files || exit 1\n"
                      "if [ -f old/a.txt.gz ] && [ -f old/b.txt.gz ] && [ ! -f old/a.txt ] && [ -f new/c.txt ] "
                      "&& [ ! -f new/c.txt.gz ]; then echo 'Success: The task was completed correctly.'; "
                      "else echo 'Failure'; fi\n"}),
         solve=lambda s: s.sh("find /tmp/test_files -type f -mtime 30 -exec gzip {} +")),
    Case("4d117223", assets=files(
        **{"setup.sh": "#!/bin/bash\nmkdir -p testDir/sub\nfor f in a b sub/c; do echo x > testDir/$f; done\n"
                       "chmod 600 testDir/a; chmod 755 testDir/sub/c\n",
           "eval.sh": "#!/bin/bash\ncd ~/testDir || exit 1\n"
                      "if [ -z \"$(find . -type f ! -perm 644)\" ]; then echo 'All files have the correct permissions.';"
                      " else echo 'Some files have wrong permissions.'; fi\n"}),
         solve=lambda s: s.sh("find ~/testDir -type f -exec chmod 644 {} +")),
    Case("5c1075ca", assets=files(
        **{"setup.sh": "#!/bin/bash\nmkdir -p test_environment/a/b test_environment/c\n"
                       "touch test_environment/a/x_failed.ipynb test_environment/a/b/y_failed.ipynb "
                       "test_environment/c/ok.ipynb\n",
           "eval.sh": "#!/bin/bash\ncd ~/test_environment || exit 1\n"
                      "if [ -f fails/a/x_failed.ipynb ] && [ -f fails/a/b/y_failed.ipynb ] && [ ! -e fails/c ]; then "
                      "echo 'Evaluation successful.'; else echo 'Evaluation failed.'; fi\n"}),
         solve=lambda s: s.sh("cd ~/test_environment && mkdir -p fails && find . -path ./fails -prune -o -name '*failed.ipynb' "
                              "-exec cp --parents {} fails \\;")),
    Case("5ced85fc", assets=files(
        **{"eval.sh": "#!/bin/bash\nif [ \"$(cat ~/output.txt 2>/dev/null)\" = \"$(printf '1<br/>\\n2<br/>\\n3<br/>')\" ];"
                      " then echo 'Success: The task has been completed correctly.'; else echo 'Failure'; fi\n"}),
         solve=lambda s: s.sh("printf '1\\n2\\n3\\n' | sed 's/$/<br\\/>/' > ~/output.txt")),
    Case("6f56bf42", assets=files(
        **{"setup.sh": "#!/bin/bash\necho one > file1\nmkdir -p dir1 dir2 dir3\n",
           "eval.sh": "#!/bin/bash\nfor d in dir1 dir2 dir3; do if [ -f ~/$d/file1 ]; then "
                      "echo \"Success: file1 exists in $d.\"; else echo \"Failure: file1 missing in $d.\"; fi; done\n"}),
         solve=lambda s: s.sh("for d in dir1 dir2 dir3; do cp ~/file1 ~/$d/; done")),
    Case("23393935", assets=files(**{
        "monk252520thailand252520wat252520arun252520scaled25255B225255D.jpg": image("JPEG"),
        "hong-kong-china.jpg": image("JPEG", (40, 200, 40)), "hk_group_photo.jpg": image("JPEG", (40, 40, 200)),
        "emnlp2023.jpg": image("JPEG", (90, 90, 90)), "us_3.png": image("PNG")}),
         solve=lambda s: s.sh("find ~/Desktop/photos -name '*.jpg' -exec cp {} ~/Desktop/cpjpg/ \\;")),
    Case("5ea617a3", assets=files(**{"poster_party_night.webp": image("WEBP")}),
         solve=lambda s: s.sh("gio trash --restore \"$(gio trash --list | grep poster_party_night | tail -n 1 | cut -f1)\"")),
    Case("f9be0997", solve=lambda s: s.sh("gsettings set org.gnome.desktop.notifications show-banners false")),
    Case("bedcedc4", solve=lambda s: s.sh("gsettings set org.gnome.desktop.session idle-delay 0")),
    Case("3ce045a0", solve=lambda s: s.sh("gsettings set org.gnome.desktop.interface text-scaling-factor 1.5")),
    *[infeasible(t) for t in ("4783cc41", "a462a795", "b3d4a89c", "c288e301", "fe41f596")],
]

# ---- gimp: settings GIMP writes when it quits (the postconfig presses Ctrl+Q), and infeasible requests
GIMP_DIR = "~/.config/GIMP/2.10"


def gimp_setting(file_name: str, line: str) -> Callable[[Solver], None]:
    """Quit GIMP, put the setting in its file, start GIMP again: it reads the setting, and writes it back
    when the postconfig quits it (what changing it in Edit > Preferences leaves behind)."""

    def solve(s: Solver) -> None:
        s.sh("pkill -x gimp || true; while pgrep -x gimp >/dev/null; do sleep 0.1; done")
        s.sh(f"mkdir -p {GIMP_DIR} && echo '{line}' >> {GIMP_DIR}/{file_name}")
        s.client.launch(["gimp"], False)
        s.wait_for_window("GNU Image Manipulation Program")

    return solve


GIMP_CASES = [
    Case("7767eef2", solve=gimp_setting("gimprc", '(theme "Light")')),
    Case("7b7617bd", solve=gimp_setting("gimprc", "(undo-levels 100)")),
    Case("d52d6308", solve=gimp_setting("sessionrc", "(hide-docks yes)")),
    Case("045bf3ff", assets=files(**{"gate.jpeg": image("JPEG")}), solve=lambda s: None, last="FAIL"),
    Case("2e6f678f", assets=files(**{n: image("JPEG") for n in ("squirrel.jpeg", "panda.jpeg", "heron.jpeg")}),
         solve=lambda s: None, last="FAIL"),
    Case("58d3eeeb", assets=files(**{"heron.jpeg": image("JPEG")}), solve=lambda s: None, last="FAIL"),
    Case("8ea73f6f", assets=files(**{"low_resolution.jpeg": image("JPEG")}), solve=lambda s: None, last="FAIL"),
    Case("62f7fd55", assets=files(**{"logo.png": image("PNG")}), solve=lambda s: None, last="FAIL"),
]

# ---- vlc: settings in vlcrc (the postconfig restarts VLC, which keeps them), what VLC plays
def vlc_setting(line: str) -> Callable[[Solver], None]:
    """Quit VLC, put the setting in vlcrc (as its Preferences dialog saves it), start VLC again."""

    def solve(s: Solver) -> None:
        s.sh("pkill -x vlc || true; while pgrep -x vlc >/dev/null; do sleep 0.1; done")
        s.sh(f"echo '{line}' >> ~/.config/vlc/vlcrc")
        s.client.launch(["vlc"], False)
        s.wait_for_window("VLC media player")

    return solve


def video(seconds: int = 30) -> bytes:
    """A small MP4 made with ffmpeg (a test pattern and a tone)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/v.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=10:duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-shortest", "-pix_fmt",
                        "yuv420p", out], check=True)
        with open(out, "rb") as f:
            return f.read()


RICK = "Rick Astley - Never Gonna Give You Up (Official Music Video).mp4"
VLC_CASES = [
    Case("215dfd39", solve=vlc_setting("qt-bgcone=0")),
    Case("8ba5ae7a", solve=vlc_setting("input-record-path=/home/user/Desktop")),
    Case("d06f0d4d", solve=vlc_setting("qt-slider-colours=10;10;10;20;20;20;30;30;30;40;40;40")),
    Case("f3977615", solve=vlc_setting("one-instance-when-started-from-file=0")),
    Case("9195653c", solve=vlc_setting("qt-max-volume=200")),
    Case("59f21cfb", assets=files(**{RICK: video()}),
         solve=lambda s: s.client.launch(["vlc", "--one-instance", f"/home/user/Desktop/{RICK}"], False)
         or s.wait_for_window("Never Gonna Give You Up")),
    *[infeasible(t) for t in ("5ac2891a", "7882ed6e", "cb130f0d")],
]

# ---- thunderbird: a profile the task unpacks (a stand-in with one local account), settings it writes
TB_PROFILE = ".thunderbird/t5q2a5hp.default-release"


def thunderbird_profile() -> bytes:
    import tarfile

    members = {
        ".thunderbird/profiles.ini": "[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default-release\n"
                                     "IsRelative=1\nPath=t5q2a5hp.default-release\nDefault=1\n",
        f"{TB_PROFILE}/prefs.js": 'user_pref("mail.identity.id1.fullName", "Anonym");\n'
                                  'user_pref("mail.identity.id1.useremail", "anonym-x2024@outlook.com");\n',
        f"{TB_PROFILE}/ImapMail/outlook.office365.com/msgFilterRules.dat": 'version="9"\nlogging="no"\n',
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def thunderbird_change(shell: str) -> Callable[[Solver], None]:
    """Quit Thunderbird, change its profile's files (as its settings dialogs would), start it again; the
    postconfig closes it, and it writes its settings back."""

    def solve(s: Solver) -> None:
        s.sh("pkill -x thunderbird || true; while pgrep -x thunderbird >/dev/null; do sleep 0.1; done")
        s.sh(f"cd ~/{TB_PROFILE} && {shell}")
        s.client.launch(["/usr/bin/thunderbird"], False)
        s.wait_for_window("Thunderbird")

    return solve


def pref(key: str, value: str) -> str:
    return f"echo 'user_pref(\"{key}\", {value});' >> prefs.js"


def tb_filter(name: str, action: str, value: str, condition: str) -> str:
    rules = (f'name="{name}"\nenabled="yes"\ntype="17"\naction="{action}"\nactionValue="{value}"\n'
             f'condition="{condition}"\n')
    return f"printf '%s' '{rules}' >> ImapMail/outlook.office365.com/msgFilterRules.dat"


TB = files(**{"thunderbird-profile.tar.gz": thunderbird_profile()})
THUNDERBIRD_CASES = [
    Case("030eeff7", assets=TB, solve=thunderbird_change(pref("mail.identity.id1.auto_quote", "false"))),
    Case("6766f2b8", assets=TB, solve=thunderbird_change(pref("mail.identity.id1.htmlSigText", '"Anonym\\nXYZ Lab"'))),
    Case("94760984", assets=TB, solve=thunderbird_change(pref("extensions.activeThemeID",
                                                               '"thunderbird-compact-dark@mozilla.org"'))),
    Case("c9e7eaf2", assets=TB, solve=thunderbird_change(
        pref("mail.server.default.applyIncomingFilters", "true") + " && "
        + pref("mail.imap.use_status_for_biff", "false"))),
    Case("35253b65", assets=TB, solve=thunderbird_change(
        tb_filter("Forward all", "Forward", "anonym-x2024@gmail.com", "ALL"))),
    Case("e1e75309", assets=TB, solve=thunderbird_change(
        "mkdir -p Mail/Local\\ Folders && touch Mail/Local\\ Folders/Promotions && "
        + tb_filter("Promotions", "Move to folder", "mailbox://nobody@Local%20Folders/Promotions",
                    "AND (subject,contains,discount)"))),
    Case("99146c54", assets=files(**{"thunderbird-profile-blank.tar.gz": thunderbird_profile()}), solve=lambda s: None,
         last="FAIL"),
]

CASES = {"os": OS_CASES, "gimp": GIMP_CASES, "vlc": VLC_CASES, "thunderbird": THUNDERBIRD_CASES}
