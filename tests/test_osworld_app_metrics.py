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
