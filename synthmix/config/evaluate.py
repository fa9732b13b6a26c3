"""Recipe sections ``[eval]`` and ``[gate]``: the experiment matrix and the question relevance gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require
from synthmix.config.synth import LLMConfig

Metric = Literal["bleu", "chrf", "chrf++", "exact_match", "token_f1", "perplexity", "accuracy", "judge"]


@dataclass(frozen=True)
class ConditionConfig:
    """One row of the experiment matrix: the base model prompted k-shot, or an adapter trained on a mix."""

    name: str
    mix: str = ""  # empty = the base model, no adapter
    shots: int = 0
    train: dict[str, str | int | float | bool] = field(default_factory=dict)  # [train] overrides

    def __post_init__(self) -> None:
        require(bool(self.name), "name", "every condition needs a name")
        require(self.shots >= 0, "shots", "must be >= 0")


@dataclass(frozen=True)
class JudgeConfig:
    enabled: bool = False
    llm: LLMConfig = field(default_factory=LLMConfig)
    template: str = "judge_single@v1"
    pairwise: bool = False


@dataclass(frozen=True)
class EvalConfig:
    # Which source's test split is scored; empty = every eval-registered source that has a test split.
    test_sources: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=lambda: ["bleu", "chrf"])
    conditions: list[ConditionConfig] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [13])
    max_examples: int = 0  # 0 = whole test split
    batch_size: int = 8
    max_new_tokens: int = 128
    bootstrap_samples: int = 1000
    significance: Literal["bootstrap", "randomization"] = "bootstrap"
    alpha: float = 0.05
    multiple_choice: str = ""  # path to MMLU-style files (question, choices, answer, category)
    judge: JudgeConfig = field(default_factory=JudgeConfig)

    def __post_init__(self) -> None:
        names = [c.name for c in self.conditions]
        require(len(names) == len(set(names)), "conditions", f"condition names must be unique: {names}")
        require(bool(self.seeds), "seeds", "list at least one seed")
        require(self.bootstrap_samples >= 100, "bootstrap_samples", "must be >= 100")
        require(0 < self.alpha < 1, "alpha", "must be in (0, 1)")


@dataclass(frozen=True)
class GateConfig:
    """TF-IDF + logistic regression telling on-topic questions from off-topic ones."""

    enabled: bool = False
    topic_source: str = ""  # the QA source whose questions are on-topic
    offtopic_path: str = ""  # questions from an unrelated QA set (one per line, or a files source)
    test_fraction: float = 0.2
    threshold: float = 0.5
    seed: int = 13
    filter_qa: bool = False  # drop generated QA whose question the gate calls off-topic

    def __post_init__(self) -> None:
        require(0 < self.test_fraction < 1, "test_fraction", "must be in (0, 1)")
        require(0 < self.threshold < 1, "threshold", "must be in (0, 1)")
