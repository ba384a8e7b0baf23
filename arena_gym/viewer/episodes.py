"""Recorded episodes read back: what ``RecordEpisodes`` wrote (``steps.jsonl`` and screenshots), as one
object per episode with what a reader asks first: task, reward, whether it is a score, why it failed."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from .annotate import Mark, action_marks, draw, final_pointer

log = logging.getLogger(__name__)


@dataclass
class Card:
    """One thing that happened, with the screenshot to show for it: for a step, the screen the agent saw
    when it chose the action (with the action drawn on it); for the end, the final screen."""

    title: str
    image: Path | None
    marks: list[Mark] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> dict[str, Any]:
        return self.record.get("info") or {}

    @property
    def timings(self) -> dict[str, float]:
        return {k: float(v) for k, v in (self.info.get("timings") or {}).items() if isinstance(v, (int, float))}

    def picture(self) -> Image.Image | None:
        if self.image is None or not self.image.is_file():
            return None
        with Image.open(self.image) as img:
            return draw(img, self.marks)


@dataclass
class Episode:
    path: Path
    records: list[dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> Episode:
        records = []
        with open(path / "steps.jsonl") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    log.info("%s: the last line is cut short (the run stopped mid-write)", path)
                    break
        return cls(path, records)

    @property
    def first(self) -> dict[str, Any]:
        return self.records[0] if self.records else {}

    @property
    def last(self) -> dict[str, Any]:
        return self.records[-1] if self.records else {}

    @property
    def steps(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("event") == "step"]

    @property
    def task_id(self) -> str:
        return str(self.first.get("task_id") or self.path.name)

    @property
    def domain(self) -> str:
        return str((self.first.get("info") or {}).get("domain") or "")

    @property
    def ended(self) -> bool:
        return bool(self.last.get("terminated") or self.last.get("truncated")
                    or (self.last.get("info") or {}).get("infra_error"))

    @property
    def reward(self) -> float | None:
        return float(self.last.get("reward", 0.0)) if self.ended else None

    @property
    def valid(self) -> bool:
        info = self.last.get("info") or {}
        return self.ended and bool(info.get("reward_valid", True)) and not info.get("infra_error")

    @property
    def failure(self) -> str:
        info = self.last.get("info") or {}
        if info.get("infra_error"):
            return f"infra: {info['infra_error']}"
        if info.get("unscorable"):
            return f"unscorable: {info['unscorable']}"
        if not self.ended:
            return "not finished (the run stopped)"
        return ""

    @property
    def seconds(self) -> float:
        times = [r["time"] for r in self.records if isinstance(r.get("time"), (int, float))]
        return round(times[-1] - times[0], 2) if len(times) > 1 else 0.0

    def cards(self) -> list[Card]:
        """One card per step (the screen the agent saw, its action drawn) and one for the end."""
        cards: list[Card] = []
        pointer: tuple[float, float] | None = None
        previous = self.first
        for record in self.steps:
            scale = _scale(self.path, previous, record)
            marks = action_marks(record.get("action"), scale, pointer)
            pointer = final_pointer(marks, pointer)
            image = self.path / previous["screenshot"] if previous.get("screenshot") else None
            cards.append(Card(f"step {record.get('step')}", image, marks, record))
            previous = record
        image = self.path / previous["screenshot"] if previous.get("screenshot") else None
        cards.append(Card("end" if self.ended else "last screen", image, [], previous))
        return cards


def _scale(folder: Path, shown: dict[str, Any], record: dict[str, Any]) -> tuple[float, float]:
    """Screen pixels to screenshot pixels (code actions are written in screen pixels)."""
    screen = record.get("screen") or shown.get("screen")
    if not screen or not shown.get("screenshot"):
        return (1.0, 1.0)
    try:
        with Image.open(folder / shown["screenshot"]) as img:
            return (img.width / float(screen[0]), img.height / float(screen[1]))
    except OSError:
        return (1.0, 1.0)


def find_episodes(path: Path) -> list[Path]:
    if (path / "steps.jsonl").is_file():
        return [path]
    return sorted(p.parent for p in path.glob("*/steps.jsonl"))
