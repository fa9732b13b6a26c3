"""Recipe sections ``[eval]`` and ``[gate]``: the experiment matrix and the question relevance gate."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from synthmix.config.base import require
from synthmix.config.synth import LLMConfig

Metric = Literal[
    "bleu", "chrf", "chrf++", "exact_match", "token_f1", "perplexity", "accuracy", "judge", "comet"
]
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_.-]+@v[0-9]+$")


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
    """LLM-as-judge through the synth client layer (any backend: groq, openai-compatible, transformers)."""

    enabled: bool = False
    llm: LLMConfig = field(
        default_factory=lambda: LLMConfig(temperature=0.0, max_tokens=512, json_mode=False)
    )
    # Versioned prompt ids, files eval/templates/<id>.md; the id and a hash of the text go into every score.
    template: str = "judge_single@v1"
    pairwise: bool = False  # also compare every condition with the base, each pair judged in both orders
    pairwise_template: str = "judge_pairwise@v1"
    few_shot: bool = True  # show the template's worked examples (one good, one bad answer)
    max_items: int = 0  # 0 = every test item; otherwise the first N items (judging costs API tokens)

    def __post_init__(self) -> None:
        require(
            bool(_TEMPLATE_ID.match(self.template)), "template", f"expected name@vN, got {self.template!r}"
        )
        require(
            bool(_TEMPLATE_ID.match(self.pairwise_template)),
            "pairwise_template",
            f"expected name@vN, got {self.pairwise_template!r}",
        )
        require(self.max_items >= 0, "max_items", "must be >= 0")


@dataclass(frozen=True)
class EvalConfig:
    # Which source's test split is scored; empty = every eval-registered source that has a test split.
    test_sources: list[str] = field(default_factory=list)
    # Text metrics apply to generated outputs (exact_match/token_f1 to QA only); perplexity scores the
    # reference under the model; accuracy needs ``multiple_choice``; judge needs ``[eval.judge]``.
    metrics: list[Metric] = field(default_factory=lambda: ["bleu", "chrf"])
    # Empty = base zero-shot, base few-shot (``few_shot`` examples) and one fine-tuned condition per mix.build.
    conditions: list[ConditionConfig] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [13])
    few_shot: int = 3  # shots of the default few-shot condition and of ``multiple_choice`` scoring
    max_examples: int = 0  # 0 = whole test split
    batch_size: int = 8
    max_new_tokens: int = 128
    # Extra strings that end a generated answer (the prompt format's turn markers are always added).
    stop: list[str] = field(default_factory=list)
    bootstrap_samples: int = 1000
    randomization_trials: int = 1000
    significance: Literal["bootstrap", "randomization"] = "bootstrap"
    alpha: float = 0.05
    multiple_choice: str = ""  # path to MMLU-style files (question, choices, answer, category)
    comet_model: str = "Unbabel/wmt22-comet-da"  # used only when "comet" is in metrics and installed
    sample_outputs: int = 5  # test items shown side by side in the report
    judge: JudgeConfig = field(default_factory=JudgeConfig)

    def __post_init__(self) -> None:
        names = [c.name for c in self.conditions]
        require(len(names) == len(set(names)), "conditions", f"condition names must be unique: {names}")
        require(bool(self.seeds), "seeds", "list at least one seed")
        require(self.few_shot >= 0, "few_shot", "must be >= 0")
        require(self.max_examples >= 0, "max_examples", "must be >= 0")
        require(self.batch_size > 0, "batch_size", f"must be > 0, got {self.batch_size}")
        require(self.max_new_tokens > 0, "max_new_tokens", f"must be > 0, got {self.max_new_tokens}")
        require(self.bootstrap_samples >= 100, "bootstrap_samples", "must be >= 100")
        require(self.randomization_trials >= 100, "randomization_trials", "must be >= 100")
        require(0 < self.alpha < 1, "alpha", "must be in (0, 1)")
        require(self.sample_outputs >= 0, "sample_outputs", "must be >= 0")
        require(
            "accuracy" not in self.metrics or bool(self.multiple_choice),
            "metrics",
            "accuracy needs eval.multiple_choice (an MMLU-style JSONL file)",
        )


@dataclass(frozen=True)
class GateConfig:
    """TF-IDF + logistic regression telling on-topic questions from off-topic ones (curate.relevance)."""

    enabled: bool = False  # train it with the recipe's data (`synthmix gate`); the report shows its metrics
    topic_source: str = ""  # the QA source whose questions are on-topic
    # Questions from an unrelated QA set: one per line (.txt), or a tsv/csv/jsonl/parquet file.
    offtopic_path: str = ""
    offtopic_column: str = "question"  # the question column of a tsv/csv/jsonl/parquet off-topic file
    test_fraction: float = 0.2  # share of the questions held out (stratified, seeded) for the metrics
    threshold: float = 0.5  # on-topic probability at or above which a question counts as on-topic
    seed: int = 13
    # Score every topic question with a gate that did not see it (k-fold) and list the ones that look
    # off-topic in runs/<recipe>/gate/out_of_fold.jsonl; curation then drops off-topic train QA
    # (stage `relevance`, reason `off_topic`).
    filter_qa: bool = False
    folds: int = 5  # k of the out-of-fold scoring

    def __post_init__(self) -> None:
        require(0 < self.test_fraction < 1, "test_fraction", "must be in (0, 1)")
        require(bool(self.offtopic_column), "offtopic_column", "name the question column")
        require(self.folds >= 2, "folds", f"must be >= 2, got {self.folds}")
        require(0 < self.threshold < 1, "threshold", "must be in (0, 1)")
