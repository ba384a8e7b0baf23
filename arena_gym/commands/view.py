"""``arena-gym view``: a recorded episode as one self-contained HTML page (screenshots step by step,
actions, rewards, errors) and as a GIF. Given a run folder, it renders every episode and an index."""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from pathlib import Path
from typing import Any

from PIL import Image

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;background:#f6f7f9;color:#222}
.step{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:1em}
.step img{max-width:100%;border:1px solid #ccc}
.meta{font-family:monospace;white-space:pre-wrap;font-size:13px}
.bad{color:#b00020}.good{color:#0a7a2f}
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="render a recorded episode (or a whole run) as HTML and GIF")
    p.add_argument("path", type=Path, help="an episode folder (with steps.jsonl) or a run folder")
    p.add_argument("--no-gif", action="store_true")
    p.add_argument("--gif-width", type=int, default=640)
    p.set_defaults(func=run)


def read_steps(episode: Path) -> list[dict[str, Any]]:
    records = []
    with open(episode / "steps.jsonl") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a run cut short mid-line: show what was written
    return records


def _img_tag(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def render_html(episode: Path) -> Path:
    steps = read_steps(episode)
    first = steps[0] if steps else {}
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(episode.name)}</title>",
             f"<style>{STYLE}</style><h1>{html.escape(str(first.get('task_id', episode.name)))}</h1>",
             f"<p>{html.escape(str(first.get('instruction', '')))}</p>"]
    for rec in steps:
        head = "reset" if rec.get("event") == "reset" else f"step {rec.get('step')}"
        meta = {k: rec.get(k) for k in ("action", "reward", "terminated", "truncated", "action_error") if k in rec}
        info = rec.get("info") or {}
        for key in ("infra_error", "invalid_action", "score", "eval"):
            if info.get(key) is not None:
                meta[key] = info[key]
        cls = "bad" if info.get("infra_error") or rec.get("action_error") else ("good" if rec.get("reward") else "")
        body = _img_tag(episode / rec["screenshot"]) if rec.get("screenshot") and (episode / rec["screenshot"]).is_file() else ""
        parts.append(f"<div class='step'><h3 class='{cls}'>{head}</h3>"
                     f"<div class='meta'>{html.escape(json.dumps(meta, indent=1, default=str))}</div>{body}</div>")
    out = episode / "episode.html"
    out.write_text("\n".join(parts))
    return out


def render_gif(episode: Path, width: int = 640) -> Path | None:
    frames = []
    for rec in read_steps(episode):
        path = episode / rec.get("screenshot", "")
        if rec.get("screenshot") and path.is_file():
            with Image.open(path) as img:
                ratio = width / img.width
                frames.append(img.convert("RGB").resize((width, max(1, round(img.height * ratio)))).quantize(128))
    if not frames:
        return None
    out = episode / "episode.gif"
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=800, loop=0)
    return out


def run(args: argparse.Namespace) -> int:
    path: Path = args.path
    if (path / "steps.jsonl").is_file():
        episodes = [path]
    else:
        episodes = sorted(p.parent for p in path.glob("*/steps.jsonl"))
    if not episodes:
        print(f"arena-gym view: no recorded episode (steps.jsonl) in {path}", file=sys.stderr)
        return 1
    for episode in episodes:
        page = render_html(episode)
        gif = None if args.no_gif else render_gif(episode, args.gif_width)
        print(f"{episode.name}: {page}" + (f"  {gif}" if gif else ""))
    if len(episodes) > 1:
        links = "".join(f"<li><a href='{html.escape(e.name)}/episode.html'>{html.escape(e.name)}</a></li>"
                        for e in episodes)
        index = path / "index.html"
        index.write_text(f"<!doctype html><meta charset='utf-8'><title>{html.escape(path.name)}</title>"
                         f"<style>{STYLE}</style><h1>{html.escape(path.name)}</h1><ul>{links}</ul>")
        print(f"index: {index}")
    return 0
