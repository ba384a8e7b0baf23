"""The asynchronous collector: N slots run whole episodes on their own; each finished episode is handed
out the moment it ends. No barrier anywhere: a slow evaluation or a stalled VM holds only its own slot.

    from arena_gym.rollout import Collector, local_slots
    with Collector(local_slots(2), policy) as collector:
        collector.submit_many(["click-red", "calc-total-column"], seed=0)
        for episode in collector.episodes():
            ...  # in the order they finish

Health: a slot whose episodes infrastructure cuts short ``quarantine_after`` times in a row is
quarantined (its work goes to the others, a warm spare takes its place), re-probed every ``reprobe_s``
seconds (restarting it when the probe fails) and declared dead after ``max_probes`` failed probes. An
episode cut short by infrastructure is re-run on another slot up to ``max_retries`` times; the record
that comes out lists the earlier failures. A policy that raises stops the collection with its error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from PIL import Image

from ..envs.catalog import TaskNotFound, UnscorableTask
from ..jsonable import jsonable
from .policies import Policy, as_policy
from .records import EpisodeRecord, StepRecord, WorkItem, fingerprint
from .slots import EnvHandle, SlotSpec, SlotState

log = logging.getLogger(__name__)


class CollectorError(RuntimeError):
    """The collection cannot go on (every slot is dead, or the policy raised)."""


class _WorkQueue:
    """Work items in order; a slot is not given an item that already failed on it while another slot
    could take it."""

    def __init__(self) -> None:
        self._items: list[WorkItem] = []
        self._cond = threading.Condition()

    def put(self, item: WorkItem, front: bool = False) -> None:
        with self._cond:
            self._items.insert(0, item) if front else self._items.append(item)
            self._cond.notify_all()

    def take(self, slot: str, others_alive: bool, timeout: float) -> WorkItem | None:
        with self._cond:
            end = time.monotonic() + timeout
            while True:
                for i, item in enumerate(self._items):
                    if slot not in item.avoid or not others_alive:
                        return self._items.pop(i)
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


@dataclass
class _Slot:
    spec: SlotSpec
    state: SlotState = SlotState.STARTING
    handle: EnvHandle | None = None
    failures: int = 0  # consecutive episodes cut short by infrastructure
    probes: int = 0  # failed probes while quarantined
    episodes: int = 0
    busy_s: float = 0.0  # in finished episodes
    busy_since: float | None = None  # the running episode's start
    where: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    thread: threading.Thread | None = None


class Collector:
    def __init__(self, slots: list[SlotSpec], policy: Any, *, max_in_flight: int | None = None,
                 quarantine_after: int = 2, reprobe_s: float = 30.0, max_probes: int = 10, max_retries: int = 2,
                 screenshots: str | Path | None = None) -> None:
        if not slots:
            raise ValueError("a collector needs at least one slot")
        names = [s.name for s in slots]
        if len(set(names)) != len(names):
            raise ValueError(f"slot names must differ: {names}")
        self.policy: Policy = as_policy(policy)
        self.quarantine_after, self.reprobe_s, self.max_probes = quarantine_after, reprobe_s, max_probes
        self.max_retries = max_retries
        self.screenshots = Path(screenshots) if screenshots is not None else None
        self.policy_version = 0  # a trainer bumps it after each update; each record says which acted
        workers = sum(1 for s in slots if not s.spare) or len(slots)
        self.max_in_flight = min(max_in_flight or workers, workers)
        self._permits = threading.BoundedSemaphore(self.max_in_flight)
        self._slots = [_Slot(s) for s in slots]
        self._queue = _WorkQueue()
        self._out: Queue[EpisodeRecord] = Queue()
        self._outstanding = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._started: float | None = None  # the first submit: utilisation counts from there
        self.policy.waiting = lambda: sum(1 for s in self._slots if s.state == SlotState.BUSY)
        for slot in self._slots:
            slot.thread = threading.Thread(target=self._run_slot, args=(slot,), name=f"slot-{slot.spec.name}",
                                           daemon=True)
            slot.thread.start()

    # ---- work in, episodes out
    def submit(self, task_id: str | None, seed: int | None = None, group: str | None = None) -> None:
        with self._lock:
            self._outstanding += 1
            if self._started is None:
                self._started = time.monotonic()
        self._queue.put(WorkItem(task_id, seed, group))

    def submit_many(self, task_ids: Iterable[str | None], seed: int | None = None) -> None:
        for i, task_id in enumerate(task_ids):
            self.submit(task_id, None if seed is None else seed + i)

    @property
    def outstanding(self) -> int:
        """Episodes submitted and not yet handed out."""
        with self._lock:
            return self._outstanding

    def next_episode(self, timeout: float | None = None) -> EpisodeRecord:
        """The next episode to finish; ``TimeoutError`` after ``timeout`` seconds without one."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._error is not None:
                raise CollectorError(f"the collection stopped: {self._error}") from self._error
            try:
                record = self._out.get(timeout=0.2)
            except Empty:
                if self.outstanding and not self._alive():
                    raise CollectorError(f"every slot is dead ({self._slot_errors()}); "
                                         f"{self.outstanding} episodes not run") from None
                if end is not None and time.monotonic() > end:
                    raise TimeoutError(f"no episode finished within {timeout:g} s") from None
                continue
            with self._lock:
                self._outstanding -= 1
            return record

    def episodes(self, timeout: float | None = None) -> Iterator[EpisodeRecord]:
        """Every submitted episode, in the order they finish (submitting more while iterating is fine)."""
        while self.outstanding:
            yield self.next_episode(timeout)

    def run(self, task_ids: Iterable[str | None], seed: int | None = None) -> list[EpisodeRecord]:
        self.submit_many(task_ids, seed)
        return list(self.episodes())

    def stats(self) -> dict[str, Any]:
        """Per slot: state, episodes, consecutive failures, and its utilisation: the share of the time since
        the first submit that it spent in episodes (the one running included)."""
        now = time.monotonic()
        wall = max(1e-9, now - (self._started or now))

        def busy(s: _Slot) -> float:
            since = s.busy_since
            return s.busy_s + (now - since if since is not None else 0.0)

        return {"wall_s": round(wall, 2), "queued": len(self._queue), "outstanding": self.outstanding,
                "slots": {s.spec.name: {"state": s.state.value, "episodes": s.episodes, "failures": s.failures,
                                        "utilisation": round(busy(s) / wall, 3), "where": s.where,
                                        "last_error": s.last_error} for s in self._slots}}

    def handle(self, name: str) -> EnvHandle | None:
        """The env handle slot ``name`` drives now (None while it has none)."""
        for slot in self._slots:
            if slot.spec.name == name:
                return slot.handle
        raise KeyError(f"no slot {name!r}; slots: {[s.spec.name for s in self._slots]}")

    def slot_states(self) -> dict[str, str]:
        return {s.spec.name: s.state.value for s in self._slots}

    def close(self) -> None:
        """Stop taking work, let running episodes end (their env calls have deadlines), close the envs."""
        self._stop.set()
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join(timeout=600)
                if slot.thread.is_alive():
                    log.warning("slot %s did not stop within 10 minutes; leaving it", slot.spec.name)
        self.policy.close()

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- a slot's life
    def _alive(self) -> bool:
        return any(s.state != SlotState.DEAD for s in self._slots)

    def _slot_errors(self) -> str:
        return "; ".join(f"{s.spec.name}: {s.last_error}" for s in self._slots if s.last_error) or "no error seen"

    def _others_alive(self, me: _Slot) -> bool:
        return any(s is not me and s.state in (SlotState.READY, SlotState.BUSY, SlotState.STARTING)
                   for s in self._slots)

    def _run_slot(self, slot: _Slot) -> None:
        try:
            slot.handle = slot.spec.make()
            slot.where = {**slot.spec.labels, **slot.handle.where()}
            # Probed before it takes work: a VM that is down from the start is quarantined now, not only
            # once an episode of its fails (which it may never get while the others keep up).
            slot.handle.probe()
            slot.state = SlotState.READY
        except Exception as exc:  # its VM cannot even be reached: probe again later
            self._quarantine(slot, f"start: {type(exc).__name__}: {exc}")
        while not self._stop.is_set():
            if slot.state == SlotState.QUARANTINED:
                if self._stop.wait(self.reprobe_s):
                    break
                self._reprobe(slot)
                if slot.state == SlotState.DEAD:
                    break
                continue
            if not self._permits.acquire(timeout=0.2):
                continue
            try:
                item = self._queue.take(slot.spec.name, self._others_alive(slot), timeout=0.2)
                if item is None:
                    continue
                slot.state = SlotState.BUSY
                slot.busy_since = t0 = time.monotonic()
                try:
                    record = self._episode(slot, item)
                except BaseException as exc:  # the policy's error: stop and say so
                    self._error = exc
                    self._stop.set()
                    break
                finally:
                    slot.busy_s += time.monotonic() - t0
                    slot.busy_since = None
                    if slot.state == SlotState.BUSY:
                        slot.state = SlotState.READY
            finally:
                self._permits.release()
            self._finish(slot, item, record)
        if slot.handle is not None:
            try:
                slot.handle.close()
            except Exception as exc:  # closing a broken VM's env must not hide the others' results
                log.warning("slot %s: close failed: %s", slot.spec.name, exc)

    def _finish(self, slot: _Slot, item: WorkItem, record: EpisodeRecord) -> None:
        slot.episodes += 1
        if record.retryable:
            slot.failures += 1
            slot.last_error = record.infra_error
            log.warning("slot %s: episode of %s cut short: %s", slot.spec.name, item.task_id, record.infra_error)
            if slot.failures >= self.quarantine_after:
                self._quarantine(slot, record.infra_error or "")
            if item.attempt < self.max_retries:
                item.attempt += 1
                item.avoid.add(slot.spec.name)
                item.earlier_failures.append(f"{slot.spec.name}: {record.infra_error}")
                self._queue.put(item, front=True)  # before newer work: its group is waiting for it
                return
        else:
            slot.failures = 0
        self._out.put(record)

    def _quarantine(self, slot: _Slot, why: str) -> None:
        log.warning("slot %s quarantined: %s", slot.spec.name, why)
        slot.state, slot.last_error, slot.probes = SlotState.QUARANTINED, why, 0

    def _reprobe(self, slot: _Slot) -> None:
        """Probe; when that fails, restart the slot's env (or VM) and probe again."""
        try:
            if slot.handle is None:
                raise RuntimeError("not started")
            slot.handle.probe()
        except Exception:
            try:
                slot.handle = self._restart(slot)
                slot.where = {**slot.spec.labels, **slot.handle.where()}
                slot.handle.probe()
            except Exception as exc:
                slot.probes += 1
                slot.last_error = f"probe: {type(exc).__name__}: {exc}"
                if slot.probes >= self.max_probes:
                    log.error("slot %s is dead after %d failed probes: %s", slot.spec.name, slot.probes, exc)
                    slot.state = SlotState.DEAD
                return
        log.info("slot %s is healthy again", slot.spec.name)
        slot.state, slot.failures = SlotState.READY, 0

    def _restart(self, slot: _Slot) -> EnvHandle:
        if slot.spec.restart is not None:
            return slot.spec.restart(slot.handle)
        if slot.handle is not None:
            try:
                slot.handle.close()
            except Exception as exc:
                log.info("slot %s: closing the old env failed: %s", slot.spec.name, exc)
            slot.handle = None
        return slot.spec.make()

    # ---- one episode
    def _episode(self, slot: _Slot, item: WorkItem) -> EpisodeRecord:
        assert slot.handle is not None
        record = EpisodeRecord(task_id=item.task_id, seed=item.seed, group=item.group, slot=slot.spec.name,
                               where=slot.where, policy_version=self.policy_version, attempt=item.attempt,
                               earlier_failures=list(item.earlier_failures), started=time.time())
        t0 = time.monotonic()
        try:
            self._play(slot.handle, record)
        except _PolicyError as exc:
            raise exc.error from None
        except (UnscorableTask, TaskNotFound) as exc:  # the task's, not the VM's: no retry elsewhere helps
            record.unscorable = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # the env (or its actor) broke: infrastructure, not a score
            record.infra_error = f"{type(exc).__name__}: {exc}"
        record.reward_valid = record.reward_valid and not record.infra_error and not record.unscorable
        record.seconds = round(time.monotonic() - t0, 3)
        return record

    def _play(self, handle: EnvHandle, record: EpisodeRecord) -> None:
        options = {"task_id": record.task_id} if record.task_id else {}
        obs, info = handle.reset(record.seed, options)
        record.task_id = info.get("task_id") or record.task_id
        record.domain = info.get("domain")
        if info.get("infra_error"):
            record.infra_error = str(info["infra_error"])
            return
        record.instruction = str(obs.get("instruction", "")) if isinstance(obs, dict) else ""
        record.start_fingerprint = fingerprint(obs)
        base = {"slot": record.slot, "episode_id": record.episode_id, "task_id": record.task_id,
                "policy_version": record.policy_version}
        try:
            self.policy.episode_started({**info, **base})
        except Exception as exc:
            raise _PolicyError(exc) from exc
        while True:
            t_policy = time.perf_counter()
            try:
                decision = self.policy.decide(obs, {**info, **base})
            except Exception as exc:
                raise _PolicyError(exc) from exc
            policy_ms = (time.perf_counter() - t_policy) * 1000
            obs, reward, terminated, truncated, info = handle.step(decision.action)
            step = StepRecord(step=len(record.steps) + 1, action=jsonable(decision.action),
                              extras=jsonable(decision.extras), reward=reward, terminated=terminated,
                              truncated=truncated, action_error=info.get("action_error"),
                              invalid_action=info.get("invalid_action"), timings=info.get("timings", {}),
                              policy_ms=round(policy_ms, 2))
            step.screenshot = self._save_screenshot(record, step.step, obs)
            record.steps.append(step)
            if terminated or truncated:
                record.reward = reward
                record.reward_valid = bool(info.get("reward_valid", True))
                record.infra_error = info.get("infra_error")
                record.unscorable = info.get("unscorable")
                return

    def _save_screenshot(self, record: EpisodeRecord, step: int, obs: Any) -> str | None:
        if self.screenshots is None or not isinstance(obs, dict) or "screenshot" not in obs:
            return None
        folder = self.screenshots / f"{record.episode_id:06d}-{record.task_id}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"step-{step:03d}.png"
        Image.fromarray(obs["screenshot"]).save(path, compress_level=1)
        return str(path)


class _PolicyError(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error
