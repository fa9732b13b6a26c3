"""Paired significance tests and confidence intervals on per-sentence sufficient statistics.

Both tests resample *sentences* and recompute the corpus metric from the summed statistics of the
resample (eval.metrics), so corpus BLEU stays corpus BLEU (sacrebleu/significance.py does the same). They
are vectorized: a bootstrap is a ``(samples, sentences)`` count matrix times the ``(sentences, stats)``
matrix, so 1,000 resamples of 1,000 sentences take milliseconds.

- ``paired_bootstrap``: resample the test set with replacement, the same resample for both systems;
  the two-sided p-value is the share of resampled differences at least ``|delta|`` away from the observed
  ``delta`` (the bootstrap distribution shifted to the null, Koehn 2004 / Berg-Kirkpatrick et al. 2012),
  with sacrebleu's ``(c + 1) / (n + 1)`` correction. Two identical systems get p = 1.
- ``approximate_randomization``: swap the two systems' outputs per sentence at random; p is the share of
  shuffles whose absolute difference is at least the observed one (Riezler & Maxwell 2005).
- ``holm``: Holm-Bonferroni step-down adjustment over a family of p-values.

    from eval import metrics, significance
    m = metrics.get("bleu")
    r = significance.compare_pair(m, m.sentence_stats(hyp_a, refs), m.sentence_stats(hyp_b, refs))
    r.delta, r.ci_delta, r.p_value
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from eval.metrics import CorpusMetric

Test = Literal["bootstrap", "randomization"]


def bootstrap_weights(n_items: int, n_samples: int, seed: int) -> np.ndarray:
    """``(n_samples, n_items)`` counts: how often each sentence is drawn into each resample."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_items, size=(n_samples, n_items))
    flat = idx + (np.arange(n_samples) * n_items)[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_samples * n_items)
    return counts.reshape(n_samples, n_items).astype(np.float64)


def resampled_scores(metric: CorpusMetric, stats: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The corpus score of every resample described by ``weights``."""
    return np.asarray(metric.score(weights @ np.asarray(stats, dtype=np.float64)), dtype=np.float64)


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(finite, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_ci(
    metric: CorpusMetric, stats: np.ndarray, n_samples: int = 1000, seed: int = 13, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of one system's corpus score."""
    if len(stats) == 0:
        return (float("nan"), float("nan"))
    weights = bootstrap_weights(len(stats), n_samples, seed)
    return percentile_ci(resampled_scores(metric, stats, weights), level)


@dataclass(frozen=True)
class PairedResult:
    """System A vs system B on one metric: the observed difference A - B, its CI and the p-value."""

    metric: str
    score_a: float
    score_b: float
    delta: float
    ci_a: tuple[float, float]
    ci_b: tuple[float, float]
    ci_delta: tuple[float, float]
    p_value: float
    test: str
    samples: int
    n_items: int


def _check_paired(stats_a: np.ndarray, stats_b: np.ndarray) -> None:
    if stats_a.shape != stats_b.shape:
        raise ValueError(
            f"paired tests need the same test items for both systems: {stats_a.shape} vs {stats_b.shape}"
        )
    if len(stats_a) == 0:
        raise ValueError("paired tests need at least one test item")


def _paired_scores(
    metric: CorpusMetric, stats_a: np.ndarray, stats_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Both systems' statistics as float arrays (checked to pair up), their corpus scores and the delta."""
    a, b = np.asarray(stats_a, dtype=np.float64), np.asarray(stats_b, dtype=np.float64)
    _check_paired(a, b)
    score_a, score_b = float(metric.score(a.sum(0))), float(metric.score(b.sum(0)))
    return a, b, score_a, score_b, score_a - score_b


def paired_bootstrap(
    metric: CorpusMetric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_samples: int = 1000,
    seed: int = 13,
    level: float = 0.95,
) -> PairedResult:
    a, b, score_a, score_b, delta = _paired_scores(metric, stats_a, stats_b)
    weights = bootstrap_weights(len(a), n_samples, seed)
    boot_a, boot_b = resampled_scores(metric, a, weights), resampled_scores(metric, b, weights)
    deltas = boot_a - boot_b
    # Shift the bootstrap distribution to the null (mean 0) and ask how often it is as extreme as delta.
    # The small tolerance makes exact ties (identical systems: every delta 0) count as "as extreme".
    extreme = np.abs(deltas - delta) >= abs(delta) - 1e-9
    p = (int(np.count_nonzero(extreme[np.isfinite(deltas)])) + 1) / (int(np.isfinite(deltas).sum()) + 1)
    return PairedResult(
        metric.name,
        score_a,
        score_b,
        delta,
        percentile_ci(boot_a, level),
        percentile_ci(boot_b, level),
        percentile_ci(deltas, level),
        min(1.0, p),
        "bootstrap",
        n_samples,
        len(a),
    )


def approximate_randomization(
    metric: CorpusMetric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    trials: int = 1000,
    seed: int = 13,
    ci_samples: int = 1000,
    level: float = 0.95,
) -> PairedResult:
    a, b, score_a, score_b, delta = _paired_scores(metric, stats_a, stats_b)
    rng = np.random.default_rng(seed)
    swap = rng.integers(0, 2, size=(trials, len(a))).astype(np.float64)
    keep = 1.0 - swap
    shuf_a = np.asarray(metric.score(keep @ a + swap @ b), dtype=np.float64)
    shuf_b = np.asarray(metric.score(swap @ a + keep @ b), dtype=np.float64)
    diffs = np.abs(shuf_a - shuf_b)
    finite = np.isfinite(diffs)
    c = int(np.count_nonzero(diffs[finite] >= abs(delta) - 1e-9))
    p = (c + 1) / (int(finite.sum()) + 1)
    weights = bootstrap_weights(len(a), ci_samples, seed + 1)
    boot_a, boot_b = resampled_scores(metric, a, weights), resampled_scores(metric, b, weights)
    return PairedResult(
        metric.name,
        score_a,
        score_b,
        delta,
        percentile_ci(boot_a, level),
        percentile_ci(boot_b, level),
        percentile_ci(boot_a - boot_b, level),
        min(1.0, p),
        "randomization",
        trials,
        len(a),
    )


def compare_pair(
    metric: CorpusMetric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    *,
    test: Test = "bootstrap",
    samples: int = 1000,
    seed: int = 13,
) -> PairedResult:
    if test == "randomization":
        return approximate_randomization(metric, stats_a, stats_b, trials=samples, seed=seed)
    return paired_bootstrap(metric, stats_a, stats_b, n_samples=samples, seed=seed)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given); controls the family-wise error rate."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
