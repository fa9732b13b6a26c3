"""Recipe section ``[synth.<name>]``: an LLM generation job whose output is the curated source ``<name>``.

[synth.synthetic]
generator = "translation"       # translation | qa | instruction
from = "flores"                 # few-shot examples (train split only) or passages come from here
records = 200
[synth.synthetic.llm]
backend = "groq"                # groq | openai | transformers
model = "llama-3.3-70b-versatile"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require


@dataclass(frozen=True)
class PriceConfig:
    """US dollars per million tokens, for the cost estimate in manifests and cards."""

    prompt_per_million: float = 0.0
    completion_per_million: float = 0.0


@dataclass(frozen=True)
class LLMConfig:
    backend: Literal["groq", "openai", "transformers"] = "groq"
    model: str = "llama-3.3-70b-versatile"
    # Groq: default endpoint when empty; openai: required (e.g. http://localhost:11434/v1 for Ollama);
    # transformers: unused (``model`` is a local path or hub id).
    base_url: str = ""
    api_key_env: str = "GROQ_API_KEY"  # the *name* of the variable; keys never live in recipes
    temperature: float = 0.8
    top_p: float = 1.0
    max_tokens: int = 2048
    seed: int = 13
    json_mode: bool = True
    timeout_s: float = 60.0
    max_retries: int = 4
    concurrency: int = 4
    requests_per_minute: float = 30.0
    tokens_per_minute: float = 0.0  # 0 = no client-side token limit
    budget_tokens: int = 0  # 0 = unlimited; the job stops cleanly when reached
    budget_usd: float = 0.0
    price: PriceConfig = field(default_factory=PriceConfig)

    def __post_init__(self) -> None:
        require(bool(self.model), "model", "an LLM needs a model name or path")
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
    topics: list[str] = field(default_factory=list)
    registers: list[str] = field(default_factory=list)
    question_types: list[str] = field(default_factory=lambda: ["factual", "why", "how"])
    src_lang: str = ""
    tgt_lang: str = ""
    lang: str = ""
    llm: LLMConfig = field(default_factory=LLMConfig)

    def __post_init__(self) -> None:
        require(bool(self.from_), "from", "name the source that seeds the prompts")
        require(self.records > 0, "records", f"must be > 0, got {self.records}")
        require(self.per_request > 0, "per_request", f"must be > 0, got {self.per_request}")
        require(self.few_shot >= 0, "few_shot", f"must be >= 0, got {self.few_shot}")
