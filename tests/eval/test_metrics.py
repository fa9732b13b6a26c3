from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

from eval import metrics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def _cli_scores(system: str, *extra: str) -> dict[str, dict]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sacrebleu",
            str(FIXTURES / "refs.fr"),
            "-i",
            str(FIXTURES / system),
            "-w",
            "4",
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    # one metric prints one object, several print a list
    return {d["name"]: d for d in (data if isinstance(data, list) else [data])}


@pytest.mark.parametrize("system", ["system_a.fr", "system_b.fr"])
def test_bleu_and_chrf_equal_the_sacrebleu_cli_on_the_same_files(system: str):
    refs, hyps = _lines("refs.fr"), _lines(system)
    cli = _cli_scores(system, "-m", "bleu", "chrf")
    cli_pp = _cli_scores(system, "-m", "chrf", "--chrf-word-order", "2")
    for ours, theirs in [("bleu", cli["BLEU"]), ("chrf", cli["chrF2"]), ("chrf++", cli_pp["chrF2++"])]:
        m = metrics.get(ours)
        assert round(m.corpus_score(hyps, refs), 4) == pytest.approx(theirs["score"], abs=1e-4)
        assert m.signature == theirs["signature"]


def test_vectorized_scores_match_sacrebleu_on_every_subset_shape():
    rng = np.random.default_rng(0)
    words = ["le", "la", "chat", "chien", "mange", "une", "pomme", "rouge", "vite", "très", "bien", ",", "."]
    refs = [" ".join(rng.choice(words, rng.integers(1, 10))) for _ in range(80)]
    # includes empty hypotheses and one-word ones: the zero-total and no-match branches of BLEU
    hyps = [" ".join(rng.choice(words, rng.integers(0, 10))) for _ in range(80)]
    for name, fn in [
        ("bleu", sacrebleu.corpus_bleu),
        ("chrf", sacrebleu.corpus_chrf),
        ("chrf++", lambda h, r: sacrebleu.corpus_chrf(h, r, word_order=2)),
    ]:
        m = metrics.get(name)
        stats = m.sentence_stats(hyps, refs)
        for size in (1, 2, 7, 80):
            for _ in range(15):
                idx = rng.integers(0, len(refs), size)
                expected = fn([hyps[i] for i in idx], [[refs[i] for i in idx]]).score
                assert float(m.score(stats[idx].sum(0))) == pytest.approx(expected, abs=1e-9)
        # many resamples at once: rows are scored independently
        batch = np.stack([stats[:10].sum(0), stats[10:].sum(0)])
        assert m.score(batch) == pytest.approx(
            [fn(hyps[:10], [refs[:10]]).score, fn(hyps[10:], [refs[10:]]).score]
        )


def test_squad_normalization_exact_match_and_token_f1():
    assert metrics.normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert metrics.normalize_answer("« Gutenberg »,  1450.") == "gutenberg 1450"
    assert metrics.exact_match("the Mainz.", "Mainz") == 1.0
    assert metrics.exact_match("in Mainz", "Mainz") == 0.0
    assert metrics.token_f1("in Mainz", "Mainz") == pytest.approx(2 / 3)
    assert metrics.token_f1("", "") == 1.0 and metrics.token_f1("x", "") == 0.0
    m = metrics.get("token_f1")
    assert m.corpus_score(["in Mainz", "Paris"], ["Mainz", "Paris"]) == pytest.approx(100 * (2 / 3 + 1) / 2)


def test_perplexity_is_token_weighted():
    m = metrics.get("perplexity")
    stats = np.array([[2.0, 1.0], [2.0, 3.0]])  # NLL sums and token counts
    assert float(m.score(stats.sum(0))) == pytest.approx(np.exp(4.0 / 4.0))
    assert not m.higher_is_better


def test_lengths_must_match_and_unknown_metric_is_named():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        metrics.get("bleu").sentence_stats(["a", "b"], ["a"])
    with pytest.raises(KeyError, match="rouge"):
        metrics.get("rouge")


def test_comet_is_skipped_cleanly_when_not_installed():
    ok, why = metrics.comet_available()
    if ok:
        pytest.skip("comet is installed here")
    assert "unbabel-comet" in why
    assert metrics.comet_stats(["a"], ["b"], ["c"], "Unbabel/wmt22-comet-da") is None
