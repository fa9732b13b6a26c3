"""One chat-completion interface over four backends: Groq, OpenAI-compatible, local transformers, recorded.

    from synth.client import ChatRequest, make_backend
    backend = make_backend(job.llm, job_key="synth.synthetic.llm")
    response = backend.complete(ChatRequest(messages=(...), max_tokens=512, seed=13), index=0)

Every backend returns a ``ChatResponse`` built from an OpenAI-format response dict (the same dict the
response cache stores and the recorded backend replays), so cached, recorded and live answers go through
one parsing path. Backends raise ``TransientError`` for faults worth retrying (429, 5xx, timeouts; the
caller owns the retry loop so it can count them and feed the rate limiter), ``GenerationFailed`` for a
request the server refused for good, and ``SynthmixError`` subclasses for problems no retry fixes
(missing or rejected key, unknown model).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from synthmix.config.synth import LLMConfig
from synthmix.errors import ConfigError, MissingRequirementError, SynthmixError

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ChatRequest:
    """What is asked: messages plus sampling parameters. ``seed`` is per request (job seed + index)."""

    messages: tuple[dict[str, str], ...]
    temperature: float = 0.8
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    json_mode: bool = True

    def params(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "json_mode": self.json_mode,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [dict(m) for m in self.messages], **self.params()}


@dataclass
class ChatResponse:
    """What was answered: the first choice's text, why it stopped, token usage and the raw response."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    raw: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_dict(cls, data: dict[str, Any], headers: dict[str, str] | None = None) -> ChatResponse:
        """Read an OpenAI-format chat-completion response (live, cached or recorded)."""
        choices = data.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = choice.get("message") or {}
        text = message.get("content") or ""
        usage = data.get("usage") or {}
        completion = usage.get("completion_tokens")
        prompt = usage.get("prompt_tokens")
        return cls(
            text=text if isinstance(text, str) else json.dumps(text, ensure_ascii=False),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            # Some OpenAI-compatible servers omit usage: ~4 characters per token keeps accounting honest.
            prompt_tokens=int(prompt) if prompt is not None else 0,
            completion_tokens=int(completion) if completion is not None else max(1, len(text) // 4),
            model=str(data.get("model") or ""),
            raw=data,
            headers=dict(headers or {}),
        )


class TransientError(Exception):
    """A fault worth retrying: rate limited (429), server error (5xx), timeout or lost connection."""

    def __init__(self, kind: str, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind  # rate_limit | server_error | timeout | connection
        self.status = status
        self.retry_after = retry_after


class GenerationFailed(Exception):
    """The server refused this one request for good (e.g. 400); ``text`` holds any failed generation."""

    def __init__(self, reason: str, message: str, text: str = ""):
        super().__init__(message)
        self.reason = reason
        self.text = text


class ChatBackend(Protocol):
    name: str
    model: str

    @property
    def identity(self) -> str:
        """What besides the model decides the answer; part of the cache key (e.g. a recorded file's hash)."""
        ...

    @property
    def max_requests(self) -> int | None:
        """How many requests this backend can answer at most (recorded responses); None = unbounded."""
        ...

    def complete(self, request: ChatRequest, index: int) -> ChatResponse: ...

    def close(self) -> None: ...


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), if present."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class _SDKBackend:
    """Groq and OpenAI SDKs share one shape (both generated by Stainless): errors, raw responses, params."""

    name = ""
    supports_seed = True

    def __init__(self, llm: LLMConfig, client: Any, errors: Any):
        self.llm = llm
        self.model = llm.model
        self._client = client
        self._errors = errors

    @property
    def identity(self) -> str:
        return f"{self.name}:{self.model}"

    @property
    def max_requests(self) -> int | None:
        return None

    def complete(self, request: ChatRequest, index: int) -> ChatResponse:
        e = self._errors
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        }
        if request.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            raw = self._client.chat.completions.with_raw_response.create(**kwargs)
        except e.RateLimitError as err:
            raise TransientError(
                "rate_limit", str(err), 429, parse_retry_after(err.response.headers)
            ) from None
        except e.InternalServerError as err:
            status = err.status_code
            raise TransientError(
                "server_error", str(err), status, parse_retry_after(err.response.headers)
            ) from None
        except e.APITimeoutError as err:
            raise TransientError("timeout", str(err)) from None
        except e.APIConnectionError as err:
            raise TransientError("connection", f"cannot reach {self._client.base_url}: {err}") from None
        except (e.AuthenticationError, e.PermissionDeniedError) as err:
            raise MissingRequirementError(
                f"{self.name} rejected the API key from ${self.llm.api_key_env} ({err.status_code}); "
                f"set a valid key in that environment variable"
            ) from None
        except e.NotFoundError as err:
            raise SynthmixError(
                f"{self.name} does not know model {self.model!r} ({err.status_code}) at {self._client.base_url}; "
                "fix synth.<job>.llm.model"
            ) from None
        except e.APIStatusError as err:
            body = err.body if isinstance(err.body, dict) else {}
            detail = body.get("error", body) if isinstance(body, dict) else {}
            code = detail.get("code") if isinstance(detail, dict) else None
            if err.status_code in (408, 409):
                raise TransientError("server_error", str(err), err.status_code) from None
            if code == "json_validate_failed":
                # Groq's JSON mode refuses output that is not JSON and returns it as failed_generation.
                text = detail.get("failed_generation", "") if isinstance(detail, dict) else ""
                raise GenerationFailed("malformed_json", str(err), text or "") from None
            raise GenerationFailed(f"http_{err.status_code}", str(err)) from None
        completion = raw.parse()
        data = completion.model_dump(mode="json", exclude_none=True)
        return ChatResponse.from_dict(data, headers={k.lower(): v for k, v in raw.headers.items()})

    def close(self) -> None:
        self._client.close()


def _api_key(llm: LLMConfig, job_key: str, required: bool) -> str:
    key = os.environ.get(llm.api_key_env, "")
    if not key and required:
        raise MissingRequirementError(
            f"{job_key}: environment variable {llm.api_key_env} is not set; export your API key in it "
            f"(keys never go in recipes), or run the offline sample: make corpus RECIPE=recipes/sample.toml"
        )
    return key


class GroqBackend(_SDKBackend):
    name = "groq"

    def __init__(self, llm: LLMConfig, job_key: str = "synth.llm"):
        import groq

        key = _api_key(llm, job_key, required=True)
        # max_retries=0: the job's retry loop honours Retry-After itself, counts 429s and pauses the limiter.
        client = groq.Groq(api_key=key, base_url=llm.base_url or None, max_retries=0, timeout=llm.timeout_s)
        super().__init__(llm, client, groq)


class OpenAIBackend(_SDKBackend):
    name = "openai"

    def __init__(self, llm: LLMConfig, job_key: str = "synth.llm"):
        import openai

        host = urlparse(llm.base_url).hostname or ""
        # Local servers (Ollama, vLLM, llama.cpp) usually need no key; remote ones do.
        key = _api_key(llm, job_key, required=host not in LOCAL_HOSTS) or "unused"
        client = openai.OpenAI(api_key=key, base_url=llm.base_url, max_retries=0, timeout=llm.timeout_s)
        super().__init__(llm, client, openai)


class RecordedBackend:
    """Replays OpenAI-format chat-completion responses from a JSONL file, for offline reproducible runs.

    Line i answers request i, whatever was asked. A line may instead carry ``"x_synthmix_match": "<text>"``:
    it then answers the requests whose prompt contains that text (a QA answer fits only its passage);
    when several such lines match one prompt, request i takes match ``i mod count``. The answers go
    through the same parsing, validation, cache and accounting as live ones; a request no line answers
    fails with ``no_recorded_response``.
    """

    name = "recorded"
    MATCH_KEY = "x_synthmix_match"

    def __init__(self, llm: LLMConfig, job_key: str = "synth.llm"):
        self.model = llm.model
        path = Path(llm.responses)
        if not path.is_file():
            raise ConfigError(f"{job_key}.responses: file not found: {llm.responses}")
        data = path.read_bytes()
        self._hash = hashlib.sha256(data).hexdigest()[:16]
        self._in_order: list[dict[str, Any]] = []
        self._matched: list[tuple[str, dict[str, Any]]] = []
        for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{job_key}.responses: {path}:{n}: not a JSON response: {err}") from None
            if not isinstance(obj, dict) or "choices" not in obj:
                raise ConfigError(
                    f"{job_key}.responses: {path}:{n}: expected a chat-completion object with 'choices'"
                )
            match = obj.pop(self.MATCH_KEY, None)
            if match:
                self._matched.append((str(match), obj))
            else:
                self._in_order.append(obj)

    @property
    def identity(self) -> str:
        # A cache entry belongs to this exact file: editing the recording invalidates its answers.
        return f"recorded:{self.model}:{self._hash}"

    @property
    def max_requests(self) -> int | None:
        return None if self._matched else len(self._in_order)

    def complete(self, request: ChatRequest, index: int) -> ChatResponse:
        if self._matched:
            prompt = "\n".join(m["content"] for m in request.messages)
            candidates = [obj for match, obj in self._matched if match in prompt]
            if candidates:
                return ChatResponse.from_dict(json.loads(json.dumps(candidates[index % len(candidates)])))
        if index < len(self._in_order):
            return ChatResponse.from_dict(json.loads(json.dumps(self._in_order[index])))
        raise GenerationFailed("no_recorded_response", f"no recorded response answers request {index}")

    def close(self) -> None:
        pass


class TransformersBackend:
    """Local generation with ``transformers`` from a model directory or hub id (chat template if any).

    Generation runs one request at a time (a lock), since a CPU model gains nothing from threads; the
    per-request seed makes sampling reproducible.
    """

    name = "transformers"

    def __init__(self, llm: LLMConfig, job_key: str = "synth.llm"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = llm.model
        if not Path(llm.model).exists() and os.environ.get("HF_HUB_OFFLINE") != "1":
            from synthmix.pipeline import HUB_HOST, reachable

            # Fail in seconds, not after the hub client's retry loop, when the hub cannot be reached.
            if not reachable(HUB_HOST):
                raise MissingRequirementError(
                    f"{job_key}.model: {llm.model!r} is not a local directory and {HUB_HOST} cannot be "
                    "reached; download the model elsewhere and give its directory"
                )
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(llm.model)
            self._lm: Any = AutoModelForCausalLM.from_pretrained(llm.model)
        except OSError as err:
            raise MissingRequirementError(
                f"{job_key}.model: cannot load {llm.model!r} with transformers ({err.__class__.__name__}); "
                "give a local model directory, or a hub id with network access"
            ) from None
        self._lm.eval()
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"transformers:{self.model}"

    @property
    def max_requests(self) -> int | None:
        return None

    def _prompt_ids(self, messages: list[dict[str, str]]) -> Any:
        tok: Any = self._tokenizer
        if getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return ids["input_ids"]
        text = "\n\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\n\nassistant:"
        return tok(text, return_tensors="pt")["input_ids"]

    def complete(self, request: ChatRequest, index: int) -> ChatResponse:
        import torch

        with self._lock:
            input_ids = self._prompt_ids([dict(m) for m in request.messages])
            torch.manual_seed(request.seed)
            do_sample = request.temperature > 0
            gen_kwargs: dict[str, Any] = {"max_new_tokens": request.max_tokens, "do_sample": do_sample}
            if do_sample:
                gen_kwargs.update(temperature=request.temperature, top_p=request.top_p)
            eos = self._tokenizer.eos_token_id
            pad = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else eos
            with torch.no_grad():
                out = self._lm.generate(
                    input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    pad_token_id=pad,
                    **gen_kwargs,
                )
            new = out[0, input_ids.shape[1] :].tolist()
        stopped = eos is not None and len(new) > 0 and new[-1] == eos
        finish = "stop" if stopped or len(new) < request.max_tokens else "length"
        text = self._tokenizer.decode(new, skip_special_tokens=True)
        data = {
            "id": f"local-{index}",
            "object": "chat.completion",
            "model": self.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
            ],
            "usage": {
                "prompt_tokens": int(input_ids.shape[1]),
                "completion_tokens": len(new),
                "total_tokens": int(input_ids.shape[1]) + len(new),
            },
        }
        return ChatResponse.from_dict(data)

    def close(self) -> None:
        pass


def make_backend(llm: LLMConfig, job_key: str = "synth.llm") -> ChatBackend:
    """The backend a job's ``[llm]`` table names; raises before any request if a key or file is missing."""
    if llm.backend == "groq":
        return GroqBackend(llm, job_key)
    if llm.backend == "openai":
        return OpenAIBackend(llm, job_key)
    if llm.backend == "recorded":
        return RecordedBackend(llm, job_key)
    return TransformersBackend(llm, job_key)


def supports_json_mode(llm: LLMConfig) -> bool:
    """Ask for ``response_format=json_object`` only where the backend has it (not local generation)."""
    return llm.json_mode and llm.backend in ("groq", "openai")
