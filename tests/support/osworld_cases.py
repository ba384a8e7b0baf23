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
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from arena_gym.polling import poll_until
from arena_gym.tasks.models import Task
from arena_gym.tasks.setup import HISTORY_TEMPLATE


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

    def restart_with(self, process: str, change: Callable[[], object], launch: list[str], title: str) -> None:
        """Quit an app, ``change`` its settings files (what its settings dialog would write), start it again:
        it reads them, and writes them back when it quits (the apps keep settings in memory and write
        their files at exit, so a file changed under a running app is overwritten)."""
        self.sh(f"pkill -x {process} || true; while pgrep -x {process} >/dev/null; do sleep 0.1; done")
        change()
        self.client.launch(launch, False)
        self.wait_for_window(title)

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
                urls[entry.path.replace("\\", "/").rsplit("/", 1)[-1]] = entry.url
    return urls


def expected_urls(task: Task) -> dict[str, str]:
    """The files scoring fetches (``cloud_file``): the name each is saved as -> its URL."""
    specs = task.evaluator.expected
    urls = {}
    for spec in specs if isinstance(specs, list) else [specs]:
        if spec is not None and spec.type == "cloud_file":
            options = spec.options()
            paths, dests = options["path"], options["dest"]
            for url, dest in zip(paths if isinstance(paths, list) else [paths],
                                 dests if isinstance(dests, list) else [dests], strict=True):
                urls[dest] = url
    return urls


def files(**by_name: bytes | str) -> Callable[[Task], dict[str, bytes]]:
    """Stand-ins by the name the task saves them as (downloads, and the gold files scoring fetches)."""

    def make(task: Task) -> dict[str, bytes]:
        urls = {**download_urls(task), **expected_urls(task)}
        assert set(by_name) == set(urls), f"{task.task_id} downloads {sorted(urls)}; stand-ins: {sorted(by_name)}"
        return {urls[name]: (data.encode() if isinstance(data, str) else data) for name, data in by_name.items()}

    return make


def image(fmt: str, color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def stand_in(name: str) -> bytes:
    """A plausible file of the kind ``name`` says (for tasks whose files matter only as being there)."""
    kind = name.rsplit(".", 1)[-1].lower()
    makers: dict[str, Callable[[], bytes]] = {
        "docx": lambda: docx(["A document."]), "xlsx": lambda: xlsx([["A", "B"], [1, 2]]),
        "pptx": lambda: pptx(["A slide"]), "png": lambda: image("PNG"), "jpg": lambda: image("JPEG"),
        "jpeg": lambda: image("JPEG"), "webp": lambda: image("WEBP")}
    return makers[kind]() if kind in makers else f"stand-in for {name}\n".encode()


def infeasible(task_id: str) -> Case:
    """A task OSWorld calls infeasible: its setup runs with stand-ins for whatever it downloads; FAIL is the
    right answer."""
    return Case(task_id, solve=lambda s: None, last="FAIL",
                assets=lambda task: {url: stand_in(name) for name, url in download_urls(task).items()})


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
    """The setting in GIMP's file (the postconfig's Ctrl+Q has GIMP write it back)."""
    return lambda s: s.restart_with("gimp", lambda: s.sh(f"mkdir -p {GIMP_DIR} && echo '{line}' >> {GIMP_DIR}/{file_name}"),
                                    ["gimp"], "GNU Image Manipulation Program")


GIMP_CASES = [
    Case("7767eef2", solve=gimp_setting("gimprc", '(theme "Light")')),
    Case("7b7617bd", solve=gimp_setting("gimprc", "(undo-levels 100)")),
    Case("d52d6308", solve=gimp_setting("sessionrc", "(hide-docks yes)")),
    *[infeasible(t) for t in ("045bf3ff", "2e6f678f", "58d3eeeb", "8ea73f6f", "62f7fd55")],
]

# ---- vlc: settings in vlcrc (the postconfig restarts VLC, which keeps them), what VLC plays
def vlc_setting(line: str) -> Callable[[Solver], None]:
    """The setting in vlcrc, as VLC's Preferences dialog saves it."""
    return lambda s: s.restart_with("vlc", lambda: s.sh(f"echo '{line}' >> ~/.config/vlc/vlcrc"), ["vlc"],
                                    "VLC media player")


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
    """The profile's files changed by ``shell`` (the postconfig closes Thunderbird, which writes them back)."""
    return lambda s: s.restart_with("thunderbird", lambda: s.sh(f"cd ~/{TB_PROFILE} && {shell}"),
                                    ["/usr/bin/thunderbird"], "Thunderbird")


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
    Case("99146c54", assets=files(**{"thunderbird-profile-blank.tar.gz": thunderbird_profile()}),
         solve=lambda s: None, last="FAIL"),
]

# ---- LibreOffice: documents made here; the postconfig saves what the app holds (Ctrl+S)
def xlsx(rows: list[list[Any]], sheets: dict[str, list[list[Any]]] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Sheet1"
    for row in rows:
        book.active.append(row)
    for name, more in (sheets or {}).items():
        sheet = book.create_sheet(name)
        for row in more:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx(titles: list[str], portrait: bool = False) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    if portrait:
        deck.slide_width, deck.slide_height = Inches(7.5), Inches(10)
    for title in titles:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def reopen_with(path: str, data: bytes, title: str) -> Callable[[Solver], None]:
    """Close the document in the app, put the finished one in its place, open it again: the app then
    holds the finished document when the postconfig saves it."""

    def solve(s: Solver) -> None:
        s.client.activate_window(title, True, False)
        s.client.execute(["python3", "-c", "import pyautogui; pyautogui.hotkey('ctrl', 'w')"])
        poll_until(lambda: title not in s.client.window_titles(), 30, interval=0.2, what=f"{title!r} closed")
        s.client.upload(path, data)
        s.client.open_file(path)
        s.wait_for_window(title)

    return solve


def office_case(task_id: str, path: str, app: str, before: bytes, after: bytes, gold: str | None = None) -> Case:
    """A document task: ``before`` is downloaded and opened; ``after`` is the finished document (and the
    gold file ``gold`` scoring fetches, when the task has one)."""
    name = path.rsplit("/", 1)[-1]
    stand_ins = {name: before, **({gold: after} if gold else {})}
    return Case(task_id, assets=files(**stand_ins), solve=reopen_with(path, after, f"{name} - LibreOffice {app}"))


LOANS = [["Loan", "Start", "Months"], ["A-1", "2024-01-15", 12], ["A-2", "2024-03-01", 24]]
WEEKS = [["Week", "Sales", "COGS"], [1, 100, 60], [2, 120, 70], [3, 90, 50]]
CALC_CASES = [
    office_case("4172ea6e", "/home/user/MaturityDate.xlsx", "Calc", xlsx(LOANS),
                xlsx([LOANS[0] + ["Maturity Date"], LOANS[1] + ["2025-01-15"], LOANS[2] + ["2026-03-01"]]),
                "1_MaturityDate_gt1.xlsx"),
    office_case("51b11269", "/home/user/Arrang_Value_min_to_max.xlsx", "Calc",
                xlsx([["Name", "Amount"], ["b", 30], ["a", 10], ["c", 20]]),
                xlsx([["Name", "Amount"], ["a", 10], ["c", 20], ["b", 30]]), "Arrang_Value_min_to_max_gold.xlsx"),
    office_case("7a4e4bc8", "/home/user/Name_Order_Id_move_column.xlsx", "Calc",
                xlsx([["Order ID", "Date", "First Name", "Last Name", "Sales"], [7, "2024-01-02", "Ada", "Lo", 5]]),
                xlsx([["Date", "First Name", "Last Name", "Order ID", "Sales"], ["2024-01-02", "Ada", "Lo", 7, 5]]),
                "Name_Order_Id_move_column_gold.xlsx"),
    office_case("a9f325aa", "/home/user/Movie_title_garbage_clean.xlsx", "Calc",
                xlsx([["Title"], ["  the  godfather "], ["STAR wars"]]),
                xlsx([["Title"], ["The Godfather"], ["Star Wars"]]), "Movie_title_garbage_clean_gold.xlsx"),
    # Done as an agent would: type the header and a formula per row into the sheet.
    Case("1e8df695", assets=files(**{"WeeklySales.xlsx": xlsx(WEEKS), "6_WeeklySales_gt1.xlsx": xlsx(
        [WEEKS[0] + ["Profit"], *[row + [row[1] - row[2]] for row in WEEKS[1:]]])}),
         solve=lambda s: s.act({"action_type": "HOTKEY", "keys": ["ctrl", "home"]},
                               *[{"action_type": "PRESS", "key": "right"}] * 3,
                               {"action_type": "TYPING", "text": "Profit\n=B2-C2\n=B3-C3\n=B4-C4\n"})),
    infeasible("2bd59342"),
]

WRITER_CASES = [
    office_case("d53ff5ee", "/home/user/Desktop/presentation_instruction_2023_Feb.docx", "Writer",
                docx(["PRESENTATION Instructions", "Speak FOR ten MINUTES."]),
                docx(["presentation instructions", "speak for ten minutes."]), "presentation_instruction_2023_Feb_Gold.docx"),
    office_case("e528b65e", "/home/user/Desktop/Geography_And_Magical_Realism.docx", "Writer",
                docx(["geography and magical realism", "a short essay"]),
                docx(["Geography And Magical Realism", "A Short Essay"]), "Geography_And_Magical_Realism_Gold.docx"),
    office_case("adf5e2c3", "/home/user/Desktop/Essay_Writing_English_for_uni.docx", "Writer",
                docx(["Essay", "References"]),
                docx(["Essay", "References", "Steinberg, F. M., Bearden, M. M., & Keen, C. L. (2003)."]),
                "Essay_Writing_English_for_uni_Gold.docx"),
    infeasible("bb8ccc78"),
]

IMPRESS_CASES = [
    office_case("ce88f674", "/home/user/Desktop/AM_Last_Page_Template.pptx", "Impress",
                pptx(["Last page"]), pptx(["Last page"], portrait=True)),
]

# ---- chrome: settings in its Preferences (the browser is quit, changed, started again as the task starts it)
CHROME_PROFILE = "~/.config/google-chrome/Default"


def chrome_setting(path: tuple[str, ...], value: Any) -> Callable[[Solver], None]:
    """``value`` at ``path`` in Chrome's Preferences, as its settings page saves it."""
    code = ("import json, os, sys; p = os.path.expanduser(sys.argv[1]); d = json.load(open(p)); node = d\n"
            "keys = json.loads(sys.argv[2])\nfor k in keys[:-1]: node = node.setdefault(k, {})\n"
            "node[keys[-1]] = json.loads(sys.argv[3]); json.dump(d, open(p, 'w'))")

    def change(s: Solver) -> None:
        result = s.client.execute(["python", "-c", code, f"{CHROME_PROFILE}/Preferences", json.dumps(list(path)),
                                   json.dumps(value)])
        assert result.returncode == 0, result.error

    return lambda s: s.restart_with("chromium", lambda: change(s), ["google-chrome", "--remote-debugging-port=1337"],
                                    "Chromium")


def chrome_history_template() -> bytes:
    """An empty Chrome History, made by this machine's Chromium (the schema of the version that opens it)."""
    import os
    import subprocess
    import tempfile

    from arena_gym.processes import terminate_tree

    with tempfile.TemporaryDirectory() as profile:
        argv = ["chromium", "--headless=new", f"--user-data-dir={profile}", "--no-first-run", "about:blank"]
        if os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        history = f"{profile}/Default/History"
        try:
            poll_until(lambda: os.path.exists(history) and os.path.getsize(history) > 0, 60, what="Chromium's History")
        finally:
            terminate_tree(proc)
        with open(history, "rb") as f:
            return f.read()


def forget_youtube(s: Solver) -> None:
    """What "Clear browsing data" for youtube.com leaves in History."""
    code = ("import sqlite3, os; db = sqlite3.connect(os.path.expanduser('~/.config/google-chrome/Default/History')); "
            "db.execute(\"DELETE FROM urls WHERE url LIKE '%youtube%'\"); db.commit()")
    s.restart_with("chromium", lambda: s.client.execute(["python", "-c", code]),
                   ["google-chrome", "--remote-debugging-port=1337"], "Chromium")


CHROME_CASES = [
    # Its History is OSWorld's empty one with visits added (update_browse_history), fetched from a stand-in.
    Case("44ee5668", solve=forget_youtube, assets=lambda task: {HISTORY_TEMPLATE: chrome_history_template()}),
    Case("030eeff7", solve=chrome_setting(("enable_do_not_track",), True)),
    Case("9656a811", solve=chrome_setting(("safebrowsing", "enhanced"), True)),
    Case("af630914", solve=chrome_setting(("webkit", "webprefs", "default_font_size"), 20)),
    infeasible("93eabf48"),
]

CASES = {"os": OS_CASES, "gimp": GIMP_CASES, "vlc": VLC_CASES, "thunderbird": THUNDERBIRD_CASES,
         "libreoffice_calc": CALC_CASES, "libreoffice_writer": WRITER_CASES, "libreoffice_impress": IMPRESS_CASES,
         "chrome": CHROME_CASES}
