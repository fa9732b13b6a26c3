"""Evaluation metrics as per-sentence sufficient statistics plus a vectorized corpus score.

Every metric turns (hypotheses, references) into a ``(n_sentences, n_stats)`` array and scores any sum of
those rows. That is what paired bootstrap and approximate randomization need (eval.significance): a
resample's corpus BLEU is computed from the summed n-gram counts of the resampled sentences, exactly like
``sacrebleu/significance.py`` does, never from an average of sentence scores.

    from eval import metrics
    m = metrics.get("bleu")
    stats = m.sentence_stats(hyps, refs)        # (n, 10) for BLEU
    m.score(stats.sum(0))                       # == sacrebleu.corpus_bleu(hyps, [refs]).score
    m.signature                                 # nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0

BLEU, chrF and chrF++ use sacrebleu's own statistics extraction and default settings (13a tokenizer,
exp smoothing, chrF β=2), so scores equal ``python -m sacrebleu``. Exact match and token F1 follow the
SQuAD evaluation script's normalization. Perplexity's statistics are (summed NLL, token count) so the
corpus value is the token-weighted exp(mean NLL). COMET is used only when the ``comet`` package and its
model are available; otherwise ``comet_available()`` says why and the metric is skipped.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

log = logging.getLogger(__name__)

# Which metrics make sense for which record kind (generated text vs. a reference answer).
TEXT_METRICS = ("bleu", "chrf", "chrf++", "comet")
QA_METRICS = ("exact_match", "token_f1")
LOWER_IS_BETTER = frozenset({"perplexity"})


@dataclass(frozen=True)
class CorpusMetric:
    """A metric as sufficient statistics: ``score`` maps summed stats ``(..., k)`` to scores ``(...)``."""

    name: str
    signature: str
    sentence_stats: Callable[[Sequence[str], Sequence[str]], np.ndarray]
    score: Callable[[np.ndarray], Any]
    higher_is_better: bool = True

    def corpus_score(self, hyps: Sequence[str], refs: Sequence[str]) -> float:
        stats = self.sentence_stats(hyps, refs)
        return float(self.score(stats.sum(0)))


# --- BLEU -----------------------------------------------------------------------------------------------


def _bleu_from_sums(sums: np.ndarray, max_order: int = 4) -> np.ndarray:
    """sacrebleu's ``BLEU.compute_bleu`` (exp smoothing, no effective order), vectorized over rows.

    Columns: sys_len, ref_len, correct_1..n, total_1..n.
    """
    s = np.asarray(sums, dtype=np.float64)
    sys_len, ref_len = s[..., 0], s[..., 1]
    correct = s[..., 2 : 2 + max_order]
    total = s[..., 2 + max_order : 2 + 2 * max_order]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
        # 'exp' smoothing: the k-th order with no match gets precision 100 / (2^k * total).
        zero_matches = np.cumsum(correct == 0, axis=-1)
        prec = np.where(correct > 0, 100.0 * correct / total, 100.0 / (np.power(2.0, zero_matches) * total))
        # An order with no n-grams at all ends the loop in sacrebleu: its precision stays 0 (log -> -1e10).
        prec = np.where(total > 0, prec, 0.0)
        logs = np.where(prec > 0, np.log(np.where(prec > 0, prec, 1.0)), -9999999999.0)
        score = bp * np.exp(logs.sum(-1) / max_order)
    return np.where(correct.sum(-1) > 0, score, 0.0)


def _chrf_from_sums(sums: np.ndarray, beta: int = 2) -> np.ndarray:
    """sacrebleu's ``CHRF._compute_f_score`` (default, non-eps smoothing), vectorized over rows.

    Columns: (hyp, ref, match) counts for each character order, then each word order.
    """
    s = np.asarray(sums, dtype=np.float64)
    n_hyp, n_ref, n_match = s[..., 0::3], s[..., 1::3], s[..., 2::3]
    eps = 1e-16
    factor = beta**2
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(n_hyp > 0, n_match / np.where(n_hyp > 0, n_hyp, 1), eps)
        rec = np.where(n_ref > 0, n_match / np.where(n_ref > 0, n_ref, 1), eps)
        effective = (n_hyp > 0) & (n_ref > 0)
        n_eff = effective.sum(-1)
        avg_prec = np.where(n_eff > 0, (prec * effective).sum(-1) / np.maximum(n_eff, 1), 0.0)
        avg_rec = np.where(n_eff > 0, (rec * effective).sum(-1) / np.maximum(n_eff, 1), 0.0)
        denom = factor * avg_prec + avg_rec
        score = np.where(
            avg_prec + avg_rec > 0,
            100 * (1 + factor) * avg_prec * avg_rec / np.where(denom > 0, denom, 1),
            0.0,
        )
    return score


def _sacrebleu_stats(metric: BLEU | CHRF) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    def stats(hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
        _check_lengths(hyps, refs)
        if not hyps:
            return np.zeros((0, _n_stats(metric)))
        # The same extraction sacrebleu's own paired tests use (one reference stream).
        rows = metric._extract_corpus_statistics(list(hyps), [list(refs)])
        return np.asarray(rows, dtype=np.float64)

    return stats


def _n_stats(metric: BLEU | CHRF) -> int:
    if isinstance(metric, BLEU):
        return 2 + 2 * metric.max_ngram_order
    return 3 * (metric.char_order + metric.word_order)


def _signature(metric: BLEU | CHRF) -> str:
    # sacrebleu learns nrefs from the references it has seen; every synthmix test set has exactly one.
    metric.num_refs = 1
    return str(metric.get_signature())


def _check_lengths(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} references")


# --- QA: SQuAD-style exact match and token F1 -------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalization: lower case, no punctuation, no English articles, single spaces.

    Punctuation is every Unicode P* character (SQuAD's ASCII set misses « » „ “ ¿ and friends).
    """
    text = text.lower()
    text = "".join(
        ch for ch in text if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(hyp: str, ref: str) -> float:
    return float(normalize_answer(hyp) == normalize_answer(ref))


def token_f1(hyp: str, ref: str) -> float:
    hyp_tokens, ref_tokens = normalize_answer(hyp).split(), normalize_answer(ref).split()
    if not hyp_tokens or not ref_tokens:
        # SQuAD: F1 is 1 when both are empty, 0 when only one is.
        return float(hyp_tokens == ref_tokens)
    common = Counter(hyp_tokens) & Counter(ref_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(hyp_tokens), same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def _mean_stats(fn: Callable[[str, str], float]) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    def stats(hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
        _check_lengths(hyps, refs)
        # (value, 1): the corpus score is a ratio of sums, so it survives resampling and seed pooling.
        return np.array([[fn(h, r), 1.0] for h, r in zip(hyps, refs, strict=True)]).reshape(-1, 2)

    return stats


def mean_score(sums: np.ndarray) -> np.ndarray:
    """Percent of a (value, count) pair: exact match, token F1, accuracy."""
    s = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[..., 1] > 0, 100.0 * s[..., 0] / np.where(s[..., 1] > 0, s[..., 1], 1), 0.0)


def plain_mean(sums: np.ndarray) -> np.ndarray:
    """Mean of a (value, count) pair without scaling: judge ratings 1-5, COMET scores."""
    s = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[..., 1] > 0, s[..., 0] / np.where(s[..., 1] > 0, s[..., 1], 1), np.nan)


def perplexity_score(sums: np.ndarray) -> np.ndarray:
    """Token-weighted perplexity from (summed NLL in nats, token count)."""
    s = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(s[..., 1] > 0, np.exp(s[..., 0] / np.where(s[..., 1] > 0, s[..., 1], 1)), np.nan)


# --- registry ---------------------------------------------------------------------------------------------


def _no_text_stats(name: str) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    def stats(hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
        raise ValueError(f"{name} is not computed from text pairs; its statistics come from the model")

    return stats


def get(name: str) -> CorpusMetric:
    """The metric called ``name`` in recipes (``eval.metrics``)."""
    if name == "bleu":
        bleu = BLEU()
        return CorpusMetric("bleu", _signature(bleu), _sacrebleu_stats(bleu), _bleu_from_sums)
    if name in ("chrf", "chrf++"):
        chrf = CHRF(word_order=2 if name == "chrf++" else 0)
        return CorpusMetric(name, _signature(chrf), _sacrebleu_stats(chrf), _chrf_from_sums)
    if name == "exact_match":
        return CorpusMetric(name, "squad-normalized|unicode-punct", _mean_stats(exact_match), mean_score)
    if name == "token_f1":
        return CorpusMetric(name, "squad-normalized|unicode-punct", _mean_stats(token_f1), mean_score)
    if name == "accuracy":
        return CorpusMetric(name, "loglik-argmax", _no_text_stats(name), mean_score)
    if name == "perplexity":
        return CorpusMetric(
            name, "token-weighted|completion-only", _no_text_stats(name), perplexity_score, False
        )
    if name == "judge":
        return CorpusMetric(name, "mean-rating-1-5", _no_text_stats(name), plain_mean)
    if name == "comet":
        return CorpusMetric(name, "comet", _no_text_stats(name), plain_mean)
    raise KeyError(f"unknown metric {name!r}")


def format_score(name: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.2f}" if name != "perplexity" or value < 1e4 else f"{value:.3g}"


# --- COMET (optional) -------------------------------------------------------------------------------------


def comet_available() -> tuple[bool, str]:
    """Whether COMET can run here, and why not (package missing); the model load may still fail offline."""
    if importlib.util.find_spec("comet") is None:
        return False, "the 'unbabel-comet' package is not installed (pip install unbabel-comet)"
    return True, ""


def comet_stats(
    srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str], model_name: str, batch_size: int = 8
) -> np.ndarray | None:
    """Per-sentence COMET scores as (score, 1) rows, or None (logged) when COMET cannot run here."""
    ok, why = comet_available()
    if not ok:
        log.warning("comet skipped: %s", why)
        return None
    try:
        from comet import download_model, load_from_checkpoint

        model = load_from_checkpoint(download_model(model_name))
        data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs, hyps, refs, strict=True)]
        out = model.predict(data, batch_size=batch_size, gpus=0, progress_bar=False)
    except Exception as e:  # the model download needs the Hub; offline this is expected
        log.warning("comet skipped: could not load or run %s: %s", model_name, e)
        return None
    return np.array([[float(x), 1.0] for x in out.scores]).reshape(-1, 2)
