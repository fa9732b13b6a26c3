"""Recipe section ``[synth.<name>]``: an LLM generation job whose output is the curated source ``<name>``.

[synth.synthetic]
generator = "translation"       # translation | qa | instruction
from = "flores"                 # few-shot examples (train split only) or passages come from here
records = 200
[synth.synthetic.llm]
backend = "groq"                # groq | openai | transformers | recorded
model = "llama-3.3-70b-versatile"

See docs/synth.md for every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require


@dataclass(frozen=True)
class PriceConfig:
    """US dollars per million tokens, for the cost estimate in manifests and cards."""

    prompt_per_million: float = 0.0  # USD per million prompt tokens
    completion_per_million: float = 0.0  # USD per million completion tokens


@dataclass(frozen=True)
class LLMConfig:
    # groq (official SDK), openai (any OpenAI-compatible endpoint), transformers (local generation), or
    # recorded (replays OpenAI-format responses from the JSONL file ``responses``, for offline runs).
    backend: Literal["groq", "openai", "transformers", "recorded"] = "groq"
    model: str = "llama-3.3-70b-versatile"  # model name, local path (transformers) or author (recorded)
    # Groq: default endpoint when empty; openai: required (e.g. http://localhost:11434/v1 for Ollama);
    # transformers: unused (``model`` is a local path or hub id).
    base_url: str = ""
    api_key_env: str = "GROQ_API_KEY"  # the *name* of the variable; keys never live in recipes
    temperature: float = 0.8  # sampling temperature
    top_p: float = 1.0  # nucleus sampling
    max_tokens: int = (
        2048  # completion tokens per request; answers cut at this limit are rejected as truncated
    )
    seed: int = 13  # request i is sent with seed + i and draws its few-shot sample from (seed, i)
    json_mode: bool = True  # ask groq/openai backends for response_format json_object
    timeout_s: float = 60.0  # per-request timeout (a timeout is retried)
    max_retries: int = 4  # retries of 429 / 5xx / timeouts / lost connections per request
    concurrency: int = 4  # requests in flight at once
    requests_per_minute: float = 30.0  # client-side pacing per model (groq, openai)
    tokens_per_minute: float = 0.0  # 0 = no client-side token limit
    budget_tokens: int = 0  # 0 = unlimited; the job stops cleanly when reached
    budget_usd: float = 0.0  # 0 = unlimited; estimated from price, the job stops cleanly when reached
    price: PriceConfig = field(default_factory=PriceConfig)
    responses: str = ""  # recorded backend: JSONL of chat-completion responses, replayed by request index
    # Backoff between retries of 429/5xx/timeouts when the server sends no Retry-After: base * 2**attempt.
    retry_base_s: float = 1.0  # first backoff in seconds when the server sends no Retry-After
    retry_max_s: float = 60.0  # longest backoff

    def __post_init__(self) -> None:
        require(bool(self.model), "model", "an LLM needs a model name or path")
        require(0 < self.top_p <= 1, "top_p", f"must be in (0, 1], got {self.top_p}")
        require(self.timeout_s > 0, "timeout_s", "must be > 0")
        require(self.max_retries >= 0, "max_retries", "must be >= 0")
        require(self.tokens_per_minute >= 0, "tokens_per_minute", "must be >= 0 (0 = no limit)")
        require(self.budget_tokens >= 0, "budget_tokens", "must be >= 0 (0 = unlimited)")
        require(self.budget_usd >= 0, "budget_usd", "must be >= 0 (0 = unlimited)")
        require(self.retry_base_s >= 0, "retry_base_s", "must be >= 0")
        require(
            self.backend != "recorded" or bool(self.responses),
            "responses",
            "the recorded backend needs a responses file (JSONL of chat-completion responses)",
        )
        require(0 <= self.temperature <= 2, "temperature", f"must be in [0, 2], got {self.temperature}")
        require(self.max_tokens > 0, "max_tokens", "must be > 0")
        require(self.concurrency >= 1, "concurrency", "must be >= 1")
        require(self.requests_per_minute > 0, "requests_per_minute", "must be > 0")
        require(
            self.backend != "openai" or bool(self.base_url), "base_url", "the openai backend needs a base_url"
        )


@dataclass(frozen=True)
class SynthJobConfig:
    generator: Literal["translation", "qa", "instruction"]
    from_: str  # the source name whose records seed the prompts (TOML key ``from``)
    records: int = 100  # how many records to generate
    per_request: int = 10  # pairs / QA items asked for in one request
    few_shot: int = 5  # examples shown per request (translation, instruction)
    template: str = ""  # prompt template id, e.g. "translation_pairs@v1"; empty = the generator's default
    topics: list[str] = field(default_factory=list)  # rotated over requests to steer variety
    registers: list[str] = field(default_factory=list)  # rotated over requests (e.g. formal, colloquial)
    question_types: list[str] = field(default_factory=lambda: ["factual", "why", "how"])  # qa generator
    src_lang: str = ""  # translation: source language; empty = the seeding source's
    tgt_lang: str = ""  # translation: target language; empty = the seeding source's
    lang: str = ""  # qa / instruction: language; empty = the seeding source's
    llm: LLMConfig = field(default_factory=LLMConfig)
    # Requests allowed to make up for rejected output; 0 = twice ceil(records / per_request).
    max_requests: int = 0

    def __post_init__(self) -> None:
        require(bool(self.from_), "from", "name the source that seeds the prompts")
        require(self.max_requests >= 0, "max_requests", f"must be >= 0, got {self.max_requests}")
        require(self.records > 0, "records", f"must be > 0, got {self.records}")
        require(self.per_request > 0, "per_request", f"must be > 0, got {self.per_request}")
        require(self.few_shot >= 0, "few_shot", f"must be >= 0, got {self.few_shot}")
