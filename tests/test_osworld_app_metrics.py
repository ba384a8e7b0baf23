"""OSWorld's Thunderbird metrics on files written as Thunderbird writes them, and ``cache_file``: the
output of a postconfig command, read back through the evaluation's cache, end to end on a real desktop."""

from __future__ import annotations

from arena_gym.evaluators import EvalContext, evaluate, get_metric
from arena_gym.protocol import ArenaClient
from arena_gym.tasks.loader import parse_task

PREFS = """// Mozilla User Preferences
user_pref("mail.spellcheck.inline", false);
user_pref("mailnews.default_sort_order", 2);
user_pref("mail.identity.id1.fullName", "Anonym Tester");
user_pref("mail.server.server1.check_time", 3);
"""


def test_thunderbird_prefs(tmp_path):
    prefs = tmp_path / "prefs.js"
    prefs.write_text(PREFS)
    check = get_metric("check_thunderbird_prefs")
    assert check(str(prefs), {"expect": {"mail.spellcheck.inline": {"method": "eq", "ref": False},
                                          "mail.identity.id1.fullName": {"method": "re", "ref": "Anonym"}}}) == 1.0
    assert check(str(prefs), {"expect": {"mail.spellcheck.inline": {"method": "eq", "ref": True}}}) == 0.0
    assert check(str(prefs), {"expect": {"absent.pref": {"method": "eq", "ref": 1}}}) == 0.0
    assert check(str(prefs), {"unexpect": {"mailnews.default_sort_order": {"method": "eq", "ref": 2}}}) == 0.0
    assert check(str(prefs), {"unexpect": {"mailnews.default_sort_order": {"method": "eq", "ref": 1}}}) == 1.0
    assert check(None, {"expect": {}}) == 0.0


FILTERS = '''version="9"
logging="no"
name="Move spam"
enabled="yes"
type="17"
action="Move to folder"
actionValue="mailbox://nobody@Local%20Folders/Junk"
condition="AND (subject,contains,discount) AND (from,contains,shop)"
name="Flag boss"
enabled="no"
type="17"
action="Mark flagged"
condition="OR (from,is,\\"boss@example.com\\")"
'''


def test_thunderbird_filters(tmp_path):
    rules_file = tmp_path / "msgFilterRules.dat"
    rules_file.write_text(FILTERS)
    check = get_metric("check_thunderbird_filter")
    move = {"name": "Move spam", "enabled": "yes", "action": "Move to folder",
            "condition": ["AND (subject,contains,discount)", "AND (from,contains,shop)"]}
    assert check(str(rules_file), {"expect": [move]}) == 1.0
    assert check(str(rules_file), {"expect": [{**move, "enabled": "no"}]}) == 0.0
    assert check(str(rules_file), {"expect": [move], "unexpect": [{"name": "Flag boss"}]}) == 0.0
    assert check(str(rules_file), {"expect": [{"name": "Flag boss", "condition": ['OR (from,is,"boss@example.com")']}]}) == 1.0


def test_thunderbird_folder_scores_as_osworld_does(tmp_path):
    inbox = tmp_path / "Inbox"
    inbox.write_text("From - Mon Jan 01 00:00:00 2024\nX-Mozilla-Status: 0001\nSubject: a\n\nhello\n")
    other = tmp_path / "Other"
    other.write_text("From - Tue Jan 02 00:00:00 2024\nX-Mozilla-Status: 0001\nSubject: b\n\nbye\n")
    check = get_metric("check_thunderbird_folder")
    # OSWorld's reader keeps no message of a real folder (see the module's doc): any two folders are equal.
    assert check(str(inbox), str(other)) == 1.0
    assert check(None, str(other)) == 0.0
    # Its upper-case separator: a file that starts with it gives one empty message, which then differs.
    upper = tmp_path / "Upper"
    upper.write_text("FROM - x\nSubject: c\n")
    assert check(str(upper), str(other)) == 0.0


def test_cache_file_reads_what_a_postconfig_command_printed(arena, tmp_path):
    (arena.home / "emails.bak").mkdir(exist_ok=True)
    (arena.home / "emails.bak" / "A Test E-mail.eml").write_text("x")
    task = parse_task({
        "id": "cache-file-check", "instruction": "back up the emails", "config": [],
        "evaluator": {
            "postconfig": [{"type": "command", "parameters": {"command": ["ls", "-R", str(arena.home / "emails.bak")],
                                                              "stdout": "emails.bak.ls"}}],
            "func": "check_list",
            "result": {"type": "cache_file", "path": "emails.bak.ls"},
            "expected": {"type": "rule", "rules": {"expect": [r"A Test E-mail.*\.eml"]}},
        }}, "t.json")
    with ArenaClient(arena.url, token=arena.token) as client:
        ctx = EvalContext(client, tmp_path / "cache", platform="linux")
        outcome = evaluate(task, ctx, "DONE")
        assert outcome.score == 1.0 and outcome.reward_valid, outcome
        # Without the file the command lists, the same check scores a valid 0.
        (arena.home / "emails.bak" / "A Test E-mail.eml").unlink()
        outcome = evaluate(task, ctx, "DONE")
        assert outcome.score == 0.0 and outcome.reward_valid
        # A failing command writes nothing; the file of the run before is not read as this one's.
        failing = task.model_copy(deep=True)
        failing.evaluator.postconfig[0].parameters["command"] = ["/no/such/program"]
        outcome = evaluate(failing, ctx, "DONE")
        assert not outcome.reward_valid and "emails.bak.ls" in str(outcome.unscorable), outcome


STATUS = """<?xml version="1.0" encoding="utf-8" standalone="yes" ?>
<root><fullscreen>false</fullscreen><state>{state}</state><information>
<category name="meta"><info name="filename">{name}</info></category>
<category name="Stream 0"><info name="Type">Audio</info></category></information></root>"""

# A stand-in for VLC's HTTP interface: answers status.xml to the right password, 401 otherwise.
FAKE_VLC = """
import base64, http.server, sys
body = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(b":password").decode()
        self.send_response(200 if ok and self.path == "/requests/status.xml" else 401)
        self.end_headers()
        self.wfile.write(body if ok else b"")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 8080), H).serve_forever()
"""


def test_vlc_status_read_on_the_vm_and_scored(arena, tmp_path):
    from arena_gym.evaluators import get_getter

    from .support.polling import wait_for

    playing = tmp_path / "status.xml"
    playing.write_text(STATUS.format(state="playing", name="/home/user/Desktop/song.mp4"))
    check = get_metric("is_vlc_playing")
    assert check(str(playing), {"type": "file_name", "file_name": "song.mp4"}) == 1.0
    assert check(str(playing), {"type": "file_name", "file_name": "other.mp4"}) == 0.0
    playing.write_text(STATUS.format(state="paused", name="song.mp4"))
    assert check(str(playing), {"type": "file_name", "file_name": "song.mp4"}) == 0.0
    assert check(None, {"type": "file_name", "file_name": "song.mp4"}) == 0.0

    with ArenaClient(arena.url, token=arena.token) as client:
        ctx = EvalContext(client, tmp_path / "cache", platform="linux")
        getter = get_getter("vlc_playing_info")
        assert getter(ctx, {"dest": "status.xml"}) is None  # nothing listens: VLC is not running
        status = STATUS.format(state="playing", name="song.mp4")
        client.launch(["python3", "-c", FAKE_VLC, status])
        try:
            path = wait_for(lambda: getter(ctx, {"dest": "status.xml"}), timeout=20, what="the stand-in VLC")
            assert check(path, {"type": "file_name", "file_name": "song.mp4"}) == 1.0
        finally:
            client.execute(["pkill", "-f", "requests/status.xml"])


def test_window_size_and_terminal_routes(arena):
    from arena_gym.server.osworld_routes import terminal_text

    from .support.polling import wait_for

    with ArenaClient(arena.url, token=arena.token) as client:
        # A window of its own (earlier tests may have closed the session's xterm): WM_CLASS "sizeprobe.XTerm".
        client.launch(["xterm", "-name", "sizeprobe", "-geometry", "40x10+10+10"])
        try:
            size = wait_for(lambda: client.window_size("sizeprobe"), timeout=20, what="the xterm's window")
            assert size["width"] > 0 and size["height"] > 0
            assert client.window_size("SizeProbe") == size  # WM_CLASS instance or class, any case
            assert client.window_size("no-such-app") is None
            screen = client.screen_size().model_dump()
            assert get_metric("is_vlc_fullscreen")(screen, size) == 0.0
            assert get_metric("is_vlc_fullscreen")(screen, dict(screen)) == 1.0
            assert get_metric("is_vlc_fullscreen")(screen, None) == 0.0
            assert client.terminal() is None  # xterm does not speak AT-SPI: no terminal text
        finally:
            client.close_window("sizeprobe", by_class=True)
    st = "https://accessibility.ubuntu.example.org/ns/state"
    tree = (f'<desktop-frame xmlns:st="{st}"><application name="gnome-terminal-server">'
            '<frame name="a" st:active="true"><terminal st:focused="true">$ echo 54\n54\n</terminal></frame>'
            '<frame name="b"><terminal>other</terminal></frame></application>'
            '<application name="gedit"><terminal st:focused="true">not a terminal app</terminal></application>'
            '</desktop-frame>')
    assert terminal_text(tree) == "$ echo 54\n54"
    assert terminal_text("<desktop-frame/>") is None


def test_osworld_script_routes_answer_in_its_shapes(arena):
    import httpx

    headers = {"Authorization": f"Bearer {arena.token}"} if arena.token else {}
    with httpx.Client(base_url=arena.url, headers=headers, timeout=60) as http:
        r = http.post("/run_python", json={"code": "import sys; print('out'); print('err', file=sys.stderr)"})
        assert r.status_code == 200
        assert r.json() == {"status": "success", "message": "out\n\nerr\n", "need_more": False, "output": "out\n",
                            "error": "err\n", "return_code": 0}
        r = http.post("/run_python", json={"code": "raise SystemExit(3)"})
        assert r.json()["status"] == "error" and r.json()["error"] == "Process exited with code 3"
        assert http.post("/run_python", json={}).status_code == 400

        r = http.post("/run_bash_script", json={"script": "echo one; echo two >&2; exit 4", "timeout": 10})
        assert r.json() == {"status": "error", "output": "one\ntwo\n", "error": "", "returncode": 4}
        r = http.post("/run_bash_script", json={"script": "pwd", "working_dir": "~/Documents"})
        assert r.json()["output"].strip().endswith("/Documents") and r.json()["returncode"] == 0
        r = http.post("/run_bash_script", json={"script": "pwd", "working_dir": "/no/such/dir"})
        assert r.status_code == 400 and "does not exist" in r.json()["output"]
        r = http.post("/run_bash_script", json={"script": "sleep 5", "timeout": 0.5})
        assert r.status_code == 500 and r.json()["returncode"] == -1

        r = http.post("/execute_with_verification", json={"command": ["true"]})
        assert r.json() == {"status": "success", "output": "", "error": "", "returncode": 0}
        r = http.post("/execute_with_verification", json={
            "command": ["touch", str(arena.home / "made")],
            "verification": {"command_success": f"test -e {arena.home / 'made'}"}, "max_wait_time": 5,
            "check_interval": 0.1})
        assert r.json()["verification"] == "passed"
        r = http.post("/setup/execute_with_verification", json={
            "command": ["true"], "verification": {"window_exists": "no such window"}, "max_wait_time": 0.3,
            "check_interval": 0.1})
        assert r.status_code == 500 and r.json()["status"] == "verification_failed"
