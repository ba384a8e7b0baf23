"""OSWorld's metrics on the desktop's state and plain files; check_accessibility_tree on the tree our
server reads from a real app over AT-SPI (OSWorld's namespaces)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from docx import Document

from arena_gym.evaluators import get_metric

from .support.polling import wait_for

TIMEDATECTL = """               Local time: Thu 2024-01-25 12:56:06 {zone}
           Universal time: Thu 2024-01-25 12:56:06 UTC
                 RTC time: Thu 2024-01-25 12:56:05
                Time zone: {name} ({zone}, {offset})
System clock synchronized: yes"""


def m(name):
    return get_metric(name)


def test_gnome_settings_clock_and_clipboard():
    fav = m("check_gnome_favorite_apps")
    assert fav("['thunderbird.desktop', 'google-chrome.desktop']\n",
               {"expected": ["google-chrome.desktop", "thunderbird.desktop"]}) == 1.0
    assert fav("['thunderbird.desktop']", {"expected": ["google-chrome.desktop", "thunderbird.desktop"]}) == 0.0
    assert fav("__import__('os').system('true')", {"expected": []}) == 0.0  # never evaluated as code
    assert m("is_utc_0")(TIMEDATECTL.format(zone="UTC", name="Etc/UTC", offset="+0000")) == 1.0
    assert m("is_utc_0")(TIMEDATECTL.format(zone="CET", name="Europe/Paris", offset="+0100")) == 0.0
    assert m("check_text_enlarged")("1.25\n") == 1.0 and m("check_text_enlarged")("1.0") == 0.0
    clip = m("is_in_vm_clickboard")
    assert clip({"expected": "/home/user/Data3/List3/secret.docx"}, "/home/user/Data3/List3/secret.docx\n") == 1.0
    assert clip({"expected": ["a", "b"]}, "a only") == 0.0
    jpgs = m("check_moved_jpgs")
    tree = {"type": "directory", "name": "cpjpg", "children": [{"type": "file", "name": "a.jpg"},
                                                              {"type": "file", "name": "b.jpg"}]}
    assert jpgs(tree, {"expected": ["b.jpg", "a.jpg"]}) == 1.0
    assert jpgs(tree, {"expected": ["a.jpg"]}) == 0.0


def test_files_logs_sources_and_sqlite(tmp_path):
    log_file = tmp_path / "log.txt"
    log_file.write_text("12:00:01 start\nno time here\n23:59:60 leap\n24:00:00 not a time\n")
    assert m("check_line_number")(str(log_file), {"expected": "2"}) == 1.0
    assert m("check_line_number")(str(log_file), {"expected": 3}) == 0.0

    gold, mine = tmp_path / "gold.py", tmp_path / "mine.py"
    gold.write_text("def f():\n    return 1\n")
    mine.write_text("#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n\ndef f():\n\treturn 1   \n\n")
    assert m("compare_python_pure_text")(str(mine), str(gold)) == 1.0
    mine.write_text("```python\ndef f():\n    return 1\n```\n")
    assert m("compare_python_pure_text")(str(mine), str(gold)) == 0.0

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table items (name text, qty int)")
        conn.executemany("insert into items values (?, ?)", [("a", 2), ("b", 3)])
    assert m("run_sqlite3")(str(db), {"sql": "select sum(qty) = 5 from items"}) == 1.0
    assert m("run_sqlite3")(str(db), {"sql": "select count(*) from items where qty > 9"}) == 0.0
    with pytest.raises(sqlite3.OperationalError):  # read-only: a rule cannot change the result file
        m("run_sqlite3")(str(db), {"sql": "delete from items"})

    doc = tmp_path / "list.docx"
    d = Document()
    d.add_paragraph("Sigma Tau Pi")
    d.save(doc)
    assert m("fuzzy_place_math")(str(doc), {"expected": ["Sigma", "Tau", "Pi"]}) == 1.0
    assert 0 < m("fuzzy_place_math")(str(doc), {"expected": ["Sigmas", "Taus", "Pie"]}) < 1.0

    import datetime

    now = datetime.datetime.now().strftime("%H:%M")
    csv = tmp_path / "speed.csv"
    csv.write_text(f"Server,Time,Download\nLondon,2024-01-25 {now},95\n")
    assert m("compare_time_in_speedtest_results")(str(csv), "10") == 1.0
    csv.write_text("Server,Time,Download\nLondon,2024-01-25 zz:zz,95\n")
    assert m("compare_time_in_speedtest_results")(str(csv), "10") == 0.0


def test_accessibility_tree_rules_on_a_real_app(desktop_programs):
    from arena_gym.arena import LocalArena

    check = m("check_accessibility_tree")
    with LocalArena(apps=[], size=(800, 600)) as arena, httpx.Client(base_url=arena.url, timeout=60) as http:
        note = arena.write("Documents/osworld-a11y.txt", "hello selectors")
        assert http.post("/setup/open_file", json={"path": str(note)}).status_code == 200

        def tree() -> str | None:
            xml = http.get("/accessibility").json()["AT"]
            return xml if "osworld-a11y.txt" in xml and "hello selectors" in xml else None

        xml = wait_for(tree, timeout=30, interval=0.5, what="the editor in the accessibility tree")
        assert check(xml, [{"selectors": ['frame[name*="osworld-a11y.txt"][st|showing="true"]']}]) == 1.0
        assert check(xml, [{"xpath": '//*[@st:showing="true" and contains(@name, "osworld-a11y")]'}]) == 1.0
        assert check(xml, [{"selectors": ["frame[name*=a11y]"]}, {"selectors": ["no-such-role"]}]) == 0.0
        assert check(xml, [{"xpath": '//*[contains(text(), "hello")]', "text": "hello selectors", "exact": True}]) == 1.0
        fuzzy = check(xml, [{"xpath": '//*[contains(text(), "hello")]', "text": "hello selector", "exact": False}])
        assert 0.9 < fuzzy < 1.0
