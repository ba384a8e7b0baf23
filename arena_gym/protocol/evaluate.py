"""Client of the evaluate server (stock WAA/OpenAdapt routes: /probe, /task/<id>, /setup, /evaluate)."""

from __future__ import annotations

from typing import Any

from .calls import Call, Kind, _json
from .client import ArenaClient, Timeouts


class EvaluateClient:
    """Setup and scoring next to a VM. Both change the VM (postconfig saves files): never retried."""

    def __init__(self, base_url: str, *, token: str | None = None, timeouts: Timeouts | None = None) -> None:
        self._client = ArenaClient(base_url, dialect="waa", token=token, timeouts=timeouts)
        self.base_url = self._client.base_url

    def probe(self) -> dict[str, Any]:
        return self._client.call(Call("evaluate/probe", "GET", "/probe", Kind.PROBE, True, _json))

    def task(self, task_id: str) -> dict[str, Any] | None:
        """The task JSON the server holds for this id, or None (404)."""
        return self._client.call(Call(
            "evaluate/task", "GET", f"/task/{task_id}", Kind.PROBE, True,
            lambda r: _json(r) if r.status_code == 200 else None, accept=(200, 404),
        ))

    def setup(self, config: list[dict[str, Any]], task_id: str | None = None) -> dict[str, Any]:
        """``{"status": "ok"|"error", "results": [...]}``; 422 (a step failed) is an answer, not an error."""
        body: dict[str, Any] = {"config": config}
        if task_id:
            body["id"] = task_id
        return self._client.call(Call(
            "evaluate/setup", "POST", "/setup", Kind.EXECUTE, False, _json, json=body, accept=(200, 422),
        ))

    def evaluate(self, task: dict[str, Any], last_action: str | None) -> dict[str, Any]:
        body = {**task, "agent_last_action": last_action}
        return self._client.call(Call(
            "evaluate/evaluate", "POST", "/evaluate", Kind.EXECUTE, False, _json, json=body, accept=(200,),
        ))

    def close(self) -> None:
        self._client.close()
