"""An example policy over an OpenAI-compatible chat endpoint (what vLLM and SGLang serve).

    from arena_gym.rollout import Collector, local_slots
    from arena_gym.rollout.openai_policy import OpenAIChatPolicy

    policy = OpenAIChatPolicy("http://127.0.0.1:8000/v1", model="Qwen/Qwen2.5-VL-7B-Instruct")
    with Collector(local_slots(4), policy) as collector: ...

It is ``async``: every slot's request is in flight at once, and the server batches them. The system
prompt is the action vocabulary's own text (``arena_gym.actions.prompt_text``) for the screenshot's size;
the user turn carries the instruction, the last action's error and the screenshot as a PNG. The reply's
first JSON object is the action. The completion, its logprobs and token ids (when the server returns
them) and the token usage are kept in the step's ``extras`` for the trainer.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import httpx
from PIL import Image

from .. import actions
from .policies import Decision

_JSON = re.compile(r"\{.*\}", re.DOTALL)


def parse_reply(text: str) -> Any:
    """The action in a model's reply: its first JSON object (fenced or not), or the bare word
    DONE/FAIL/WAIT; otherwise the text as it is, which the env refuses as an invalid action (a step)."""
    bare = actions.bare_type(text.strip())
    if bare:
        return {"action_type": bare}
    match = _JSON.search(text)
    if match:
        candidate = match.group(0)
        for end in range(len(candidate), 0, -1):  # the first complete object, if prose follows it
            if candidate[end - 1] != "}":
                continue
            try:
                return json.loads(candidate[:end])
            except json.JSONDecodeError:
                continue
    return text


def _png_data_url(image: Any) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class OpenAIChatPolicy:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, temperature: float = 1.0,
                 max_tokens: int = 256, logprobs: bool = True, timeout_s: float = 120.0) -> None:
        self.base_url, self.model = base_url.rstrip("/"), model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.temperature, self.max_tokens, self.logprobs, self.timeout_s = temperature, max_tokens, logprobs, timeout_s
        self._client: httpx.AsyncClient | None = None

    def messages(self, obs: dict[str, Any]) -> list[dict[str, Any]]:
        height, width = obs["screenshot"].shape[:2]
        text = f"Task: {obs.get('instruction', '')}"
        if obs.get("last_action_error"):
            text += f"\nYour last action failed: {obs['last_action_error']}"
        text += "\nAnswer with one action as a JSON object."
        return [
            {"role": "system", "content": actions.prompt_text(width, height)},
            {"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "image_url", "image_url": {"url": _png_data_url(obs["screenshot"])}}]},
        ]

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Decision:
        if self._client is None:  # made on the policy's event loop, where it is used
            self._client = httpx.AsyncClient(timeout=self.timeout_s, headers=self.headers)
        body: dict[str, Any] = {"model": self.model, "messages": self.messages(obs), "temperature": self.temperature,
                                "max_tokens": self.max_tokens}
        if self.logprobs:
            body["logprobs"] = True
        response = await self._client.post(f"{self.base_url}/chat/completions", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"the model server answered {response.status_code}: {response.text[:300]}")
        answer = response.json()
        choice = answer["choices"][0]
        text = choice["message"].get("content") or ""
        extras = {"completion": text, "usage": answer.get("usage")}
        if choice.get("logprobs") is not None:
            extras["logprobs"] = choice["logprobs"]
        for key in ("token_ids", "prompt_token_ids"):  # vLLM returns them when asked
            if key in choice:
                extras[key] = choice[key]
        return Decision(parse_reply(text), extras)
