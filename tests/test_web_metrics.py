"""OSWorld's browser-side and file-format metrics on real files made here (PDFs by PyMuPDF, MP3 tags by
mutagen, epubs and archives by zipfile, workbooks by openpyxl), its code metrics (the task's test suite
in a sandbox), and its Chrome getters on a profile and an accessibility tree."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from PIL import Image

from arena_gym.evaluators import EvalContext, get_getter, get_metric


def m(name):
    return get_metric(name)


def test_urls_queries_and_extensions():
    match = m("is_expected_url_pattern_match")
    assert match("https://www.example.com/search?q=cats&tbm=isch", {"expected": [r"q=cats", r"tbm=isch"]}) == 1.0
    assert match({"url": "https://www.example.com/"}, {"expected": [r"q=cats"]}) == 0.0
    assert match(None, {"expected": []}) == 0.0
    query = m("is_expected_search_query")
    assert query({"url": "https://www.example.com/search?q=drip+coffee+maker"}, {"expect": {"pattern": r"drip.coffee"}}) == 1.0
    assert query({"url": "https://www.example.com/"}, {"expect": {"pattern": r"coffee"}}) == 0.0
    ext = m("is_expected_installed_extensions")
    assert ext(["Dark Reader", "uBlock"], {"expected": ["Dark Reader"]}) == 1.0
    assert ext(["uBlock"], {"expected": ["Dark Reader"]}) == 0.0


def test_html_pdf_archive_epub(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.write_text('<html><body><p sdnum="1">x</p><table><tr><td>1</td></tr></table></body></html>')
    b.write_text('<html><body><p sdnum="2">x</p><table><tr><td>1</td></tr></table></body></html>')
    assert m("compare_htmls")(str(a), str(b)) == 0.0
    assert m("compare_htmls")(str(a), str(b), ignore_sdnum=True) == 1.0

    import pymupdf as fitz

    def pdf(path, colors, pages=1):
        doc = fitz.open()
        for _ in range(pages):
            page = doc.new_page()
            for i, color in enumerate(colors):
                buf = io.BytesIO()
                Image.linear_gradient("L").convert("RGB").resize((64, 64)).point(lambda v, c=color: (v + c) % 256).save(buf, "PNG")
                page.insert_image(fitz.Rect(20, 20 + 80 * i, 84, 84 + 80 * i), stream=buf.getvalue())
        doc.save(path)
        return str(path)

    p1, p2, p3 = pdf(tmp_path / "1.pdf", [0]), pdf(tmp_path / "2.pdf", [0]), pdf(tmp_path / "3.pdf", [0, 90], pages=3)
    assert m("compare_pdf_images")(p1, p2) == 1.0
    assert m("compare_pdf_images")(p1, p3) == 0.0
    assert m("check_pdf_pages")(p3, {"relation": "eq", "ref_value": 3}) == 1.0
    assert m("check_pdf_pages")(p3, {"relation": "lt", "ref_value": 3}) == 0.0

    for name, texts in (("pred", ["alpha\n", "beta\n"]), ("gold", ["alpha\n", "beta\n"]), ("bad", ["alpha\n", "BETA\n"])):
        with zipfile.ZipFile(tmp_path / f"{name}.zip", "w") as z:
            for i, text in enumerate(texts):
                z.writestr(f"notes/{i}.txt", text)
    archive = m("compare_archive")
    assert archive(str(tmp_path / "pred.zip"), str(tmp_path / "gold.zip"), file_path="notes") == 1.0
    assert archive(str(tmp_path / "bad.zip"), str(tmp_path / "gold.zip"), file_path="notes") == 0.5

    def epub(path, chapter):
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("toc.ncx", "<ncx>\n<navPoint id='1'/>\n<docTitle>Book</docTitle>\n</ncx>\n")
            z.writestr("content.opf", "<package>\n<dc:identifier>x</dc:identifier>\n<title>Book</title>\n</package>\n")
            z.writestr("ch1.html", f"<html><body><p>{chapter}</p></body></html>")
        return str(path)

    same = m("compare_epub")(epub(tmp_path / "e1.epub", "Once"), epub(tmp_path / "e2.epub", "Once"))
    other = m("compare_epub")(epub(tmp_path / "e3.epub", "Twice"), epub(tmp_path / "e4.epub", "Once"))
    assert same == 1.0 and 0 < other < 1.0


def test_mp3_tags_and_conference_cities(tmp_path):
    from mutagen.easyid3 import EasyID3

    song = tmp_path / "song.mp3"
    song.write_bytes(b"\xff\xfb\x90\x00" + b"\x00" * 400)  # one MPEG frame header, silence
    bare = tmp_path / "bare.mp3"
    shutil.copy(song, bare)
    tags = EasyID3()
    tags["title"], tags["artist"] = "Missing You", "Cheng Xiang"
    tags.save(str(song))
    check = m("check_mp3_meta")
    rules = {"title": {"method": "eq", "ref": "Missing You"}, "artist": {"method": "eq", "ref": "Cheng Xiang"}}
    assert check(str(song), rules) == 1.0
    assert check(str(song), {"title": {"method": "eq", "ref": "Other"}}) == 0.0
    assert check(str(bare), rules) == 0.0  # no tags at all: the agent did not tag it

    import openpyxl

    wb = openpyxl.Workbook()
    cities = ["Vienna, Austria", "Singapore", "New Orleans, USA"] + ["x"] * 18
    for i, city in enumerate(cities, start=2):
        wb.active[f"C{i}"] = city
    wb.save(tmp_path / "c.xlsx")
    expected = ["Vienna", ["Singapore", "SG"], "New Orleans"] + ["x"] * 18
    assert m("compare_conference_city_in_order")(str(tmp_path / "c.xlsx"), {"expected": expected}) == 1.0
    expected[0] = "Honolulu"
    assert m("compare_conference_city_in_order")(str(tmp_path / "c.xlsx"), {"expected": expected}) == 0.0


def test_code_metrics_and_a_sandboxed_test_suite(tmp_path):
    conf = tmp_path / "OpenProject.txt"
    conf.write_text("project")
    assert m("compare_config")(str(conf), {"expected": "project"}) == 1.0
    assert m("compare_config")(str(conf), {"expected": "other"}) == 0.0
    res, gold = tmp_path / "res.txt", tmp_path / "gold.txt"
    res.write_text("the answer is 3.14159\n")
    gold.write_text("3.14159")
    assert m("compare_result_files")(str(res), str(gold)) == 1.0
    res.write_text("3.14160")  # within 1e-4
    assert m("compare_result_files")(str(res), str(gold)) == 1.0
    res.write_text("3.2")
    assert m("compare_result_files")(str(res), str(gold)) == 0.0

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap): the test suite cannot be sandboxed")
    agent = tmp_path / "vm" / "solution.py"
    agent.parent.mkdir()
    agent.write_text("def add(a, b):\n    return a + b\n")
    suite = tmp_path / "test_suite.py"
    suite.write_text("from solution import add\n\ndef test():\n    return add(2, 3) == 5\n")
    check = m("check_python_file_by_test_suite")
    assert check(str(agent), str(suite)) == 1.0
    agent.write_text("def add(a, b):\n    return a - b\n")
    assert check(str(agent), str(suite)) == 0.0
    # The agent's code runs sandboxed: it cannot write outside its copy, nor reach the network.
    marker = tmp_path / "escaped"
    agent.write_text(f"open({str(marker)!r}, 'w').write('x')\ndef add(a, b):\n    return a + b\n")
    assert check(str(agent), str(suite)) == 0.0 and not marker.exists()


class _Tree:
    """A client stand-in that answers one accessibility tree (injecting what a VM would show)."""

    def __init__(self, tree: str) -> None:
        self.tree = tree

    def accessibility(self) -> str:
        return self.tree


def test_chrome_getters(tmp_path):
    bar = ('<desktop-frame><application name="Chromium"><frame><entry name="Address and search bar">'
           'www.example.com/path</entry></frame></application></desktop-frame>')
    ctx = EvalContext(_Tree(bar), tmp_path / "cache", platform="linux")  # type: ignore[arg-type]
    get = get_getter("active_url_from_accessTree")
    assert get(ctx, {}) == "https://www.example.com/path"
    assert get(ctx, {"goto_prefix": "http://"}) == "http://www.example.com/path"
    ctx = EvalContext(_Tree("<desktop-frame/>"), tmp_path / "cache", platform="linux")  # type: ignore[arg-type]
    assert get(ctx, {}) is None


def test_chrome_preferences_getters(arena, tmp_path):
    from arena_gym.protocol import ArenaClient

    prefs = arena.home / ".config" / "google-chrome" / "Default" / "Preferences"
    prefs.parent.mkdir(parents=True, exist_ok=True)
    prefs.write_text(json.dumps({"session": {"restore_on_startup": 5}, "extensions": {"settings": {
        "abc": {"path": "/home/user/ext", "manifest": {"name": "Helloworld"}}}}}))
    try:
        with ArenaClient(arena.url, token=arena.token) as client:
            ctx = EvalContext(client, tmp_path / "cache", platform="linux")
            assert get_getter("new_startup_page")(ctx, {}) == "true"
            assert get_getter("find_unpacked_extension_path")(ctx, {}) == ["/home/user/ext"]
            assert get_getter("find_installed_extension_name")(ctx, {}) == ["Helloworld"]
            prefs.unlink()
            assert get_getter("new_startup_page")(ctx, {}) == "Google"  # OSWorld's answer for no profile
    finally:
        shutil.rmtree(arena.home / ".config" / "google-chrome", ignore_errors=True)
