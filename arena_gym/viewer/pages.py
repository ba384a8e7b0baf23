"""Self-contained pages (images inline) for an episode and for a run, and a GIF with one frame per step."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from .annotate import caption
from .episodes import Card, Episode

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em 2em;background:#f6f7f9;color:#222}
h1{font-size:1.3em;margin-bottom:.2em} .instruction{font-size:1.05em;margin:.3em 0 1em}
.summary{display:flex;gap:1.5em;flex-wrap:wrap;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.7em 1em}
.summary b{display:block;font-size:.75em;color:#666;text-transform:uppercase}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.8em 1em;display:grid;
      grid-template-columns:minmax(0,3fr) minmax(16em,1fr);gap:1em}
.card img{width:100%;border:1px solid #ccc}
.card h3{margin:.1em 0 .4em}
.kv{font-family:ui-monospace,monospace;font-size:12.5px;white-space:pre-wrap;word-break:break-word}
.kv dt{color:#666;margin-top:.4em} .kv dd{margin:0}
.bad{color:#b00020}.good{color:#0a7a2f}.muted{color:#777}
table{border-collapse:collapse;background:#fff;width:100%} th,td{border:1px solid #ddd;padding:.35em .6em;text-align:left}
th{cursor:pointer;background:#eef0f3;user-select:none} th.sorted-asc::after{content:" \\25B2"} th.sorted-desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
"""

# Click a column to sort by it (again: the other way); ``index.html#sort=reward-desc`` opens sorted.
SORT_SCRIPT = """
function sortBy(th, asc) {
  const col = [...th.parentNode.children].indexOf(th), body = th.closest('table').tBodies[0];
  th.closest('tr').querySelectorAll('th').forEach(h => h.classList.remove('sorted-asc', 'sorted-desc'));
  th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
  const key = r => { const c = r.cells[col]; const v = c.dataset.v ?? c.textContent; const n = parseFloat(v);
                     return isNaN(n) ? v.toLowerCase() : n; };
  [...body.rows].sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (asc ? 1 : -1))
    .forEach(r => body.appendChild(r));
}
const heads = [...document.querySelectorAll('table.sortable th')];
heads.forEach(th => th.addEventListener('click', () => sortBy(th, !th.classList.contains('sorted-asc'))));
const wanted = /#sort=([a-z ()]+?)(-desc)?$/.exec(decodeURIComponent(location.hash));
const th = wanted && heads.find(h => h.textContent === wanted[1]);
if (th) sortBy(th, !wanted[2]);
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _png_data(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _kv(pairs: list[tuple[str, Any]]) -> str:
    rows = []
    for key, value in pairs:
        if value is None or value == "" or value == {}:
            continue
        text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
        cls = " class='bad'" if key in ("infra error", "action error", "invalid action", "unscorable") else ""
        rows.append(f"<dt>{_e(key)}</dt><dd{cls}>{_e(text)}</dd>")
    return f"<dl class='kv'>{''.join(rows)}</dl>"


def _timings(card: Card) -> str:
    return "  ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in card.timings.items())


def _card_html(card: Card, episode: Episode) -> str:
    rec, info = card.record, card.info
    picture = card.picture()
    img = f"<img alt='{_e(card.title)}' src='{_png_data(picture)}'>" if picture else "<p class='muted'>no screenshot</p>"
    if card.title.startswith("step"):
        pairs = [("action", rec.get("action")), ("action error", rec.get("action_error")),
                 ("invalid action", info.get("invalid_action")), ("timings", _timings(card)),
                 ("infra error", info.get("infra_error"))]
        cls = "bad" if rec.get("action_error") or info.get("invalid_action") or info.get("infra_error") else ""
        title = f"{card.title}: {' '.join(m.label for m in card.marks) or '-'}"
    else:
        reward = episode.reward
        pairs = [("reward", reward), ("reward is a score", episode.valid), ("score", info.get("score")),
                 ("eval", info.get("eval")), ("infra error", info.get("infra_error")),
                 ("unscorable", info.get("unscorable")), ("timings", _timings(card))]
        cls = "bad" if not episode.valid else ("good" if reward else "")
        title = f"{card.title}: reward {reward if reward is not None else '-'}" + ("" if episode.valid else " (not a score)")
    return f"<div class='card'><div>{img}</div><div><h3 class='{cls}'>{_e(title)}</h3>{_kv(pairs)}</div></div>"


def episode_page(episode: Episode) -> Path:
    cards = episode.cards()
    reward = "-" if episode.reward is None else f"{episode.reward:g}"
    summary = "".join(f"<div><b>{_e(k)}</b>{_e(v)}</div>" for k, v in [
        ("domain", episode.domain or "-"), ("reward", reward), ("valid", "yes" if episode.valid else "no"),
        ("steps", len(episode.steps)), ("time", f"{episode.seconds:.1f} s"), ("failure", episode.failure or "-")])
    parts = [f"<!doctype html><html lang='en'><meta charset='utf-8'><title>{_e(episode.task_id)}</title>",
             f"<style>{STYLE}</style><p><a href='../index.html'>all episodes</a></p>",
             f"<h1>{_e(episode.task_id)}</h1><p class='instruction'>{_e(episode.first.get('instruction', ''))}</p>",
             f"<div class='summary'>{summary}</div>", *(_card_html(c, episode) for c in cards)]
    out = episode.path / "episode.html"
    out.write_text("\n".join(parts))
    return out


def episode_gif(episode: Episode, width: int = 640, frame_ms: int = 900) -> Path | None:
    """One frame per card (each step, then the end), captioned, so frame k is step k even when the screen
    did not change."""
    frames = []
    cards = episode.cards()
    for card in cards:
        picture = card.picture()
        if picture is None:
            continue
        ratio = width / picture.width
        frame = picture.resize((width, max(1, round(picture.height * ratio))), Image.Resampling.BILINEAR)
        if card.title.startswith("step"):
            text = f"{card.title}/{len(cards) - 1}: {' '.join(m.label for m in card.marks) or '-'}"
        else:
            text = f"{card.title}: reward {episode.reward}" + ("" if episode.valid else f" ({episode.failure})")
        caption(frame, text[:90])
        frames.append(frame.quantize(255))
    if not frames:
        return None
    out = episode.path / "episode.gif"
    # Frames are captioned with their step, so none is identical to the one before and none is merged.
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0, optimize=False)
    return out


def index_page(run: Path, episodes: list[Episode]) -> Path:
    valid = [e for e in episodes if e.valid]
    mean = sum(e.reward or 0.0 for e in valid) / len(valid) if valid else None
    invalid = len(episodes) - len(valid)
    head = ("<th>episode</th><th>task</th><th>domain</th><th>reward</th><th>valid</th><th>steps</th>"
            "<th>time (s)</th><th>failure</th>")
    rows = []
    for e in episodes:
        reward = "" if e.reward is None else f"{e.reward:g}"
        rows.append(
            f"<tr><td><a href='{_e(e.path.name)}/episode.html'>{_e(e.path.name)}</a></td><td>{_e(e.task_id)}</td>"
            f"<td>{_e(e.domain)}</td><td class='num' data-v='{reward or -1}'>{reward or '-'}</td>"
            f"<td class='{'good' if e.valid else 'bad'}'>{'yes' if e.valid else 'no'}</td>"
            f"<td class='num'>{len(e.steps)}</td><td class='num'>{e.seconds:.1f}</td>"
            f"<td class='{'bad' if e.failure else ''}'>{_e(e.failure)}</td></tr>")
    score = "no valid episode" if mean is None else f"mean score {mean:.2f} over {len(valid)} valid episodes"
    apart = f"; {invalid} episodes are not scores (infrastructure failures, unscorable tasks) and are left out" \
        if invalid else ""
    page = (f"<!doctype html><html lang='en'><meta charset='utf-8'><title>{_e(run.name)}</title><style>{STYLE}</style>"
            f"<h1>{_e(run.name)}</h1><p>{len(episodes)} episodes: {score}{apart}. Click a column to sort.</p>"
            f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<script>{SORT_SCRIPT}</script>")
    out = run / "index.html"
    out.write_text(page)
    return out
