from __future__ import annotations

import numpy as np
import pytest

from eval import metrics, significance


def _systems(n: int = 200, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    rng = np.random.default_rng(seed)
    words = ["le", "la", "chat", "chien", "mange", "une", "pomme", "rouge", "vite", "très", "bien"]
    refs = [" ".join(rng.choice(words, rng.integers(4, 12))) for _ in range(n)]
    good = [r if rng.random() < 0.6 else " ".join(rng.choice(words, 6)) for r in refs]
    noise = [" ".join(rng.choice(words, 6)) for _ in refs]
    return refs, good, noise


@pytest.mark.parametrize("test", ["bootstrap", "randomization"])
def test_better_system_is_significant_and_identical_systems_are_not(test):
    refs, good, noise = _systems()
    for name in ("bleu", "chrf"):
        m = metrics.get(name)
        a, b = m.sentence_stats(good, refs), m.sentence_stats(noise, refs)
        better = significance.compare_pair(m, a, b, test=test, samples=1000)
        assert better.delta > 10 and better.p_value < 0.01
        assert better.ci_delta[0] > 0  # the 95% CI of the difference excludes 0
        assert better.ci_a[0] <= better.score_a <= better.ci_a[1]
        same = significance.compare_pair(m, a, a.copy(), test=test, samples=1000)
        assert same.delta == 0 and same.p_value == pytest.approx(1.0)


def test_two_similar_random_systems_are_not_significant():
    refs, _, noise = _systems(seed=1)
    _, _, other = _systems(seed=2)
    m = metrics.get("bleu")
    r = significance.paired_bootstrap(m, m.sentence_stats(noise, refs), m.sentence_stats(other, refs))
    assert r.p_value > 0.05


def test_bootstrap_resamples_corpus_statistics_not_sentence_averages():
    refs, good, _ = _systems(n=50)
    m = metrics.get("bleu")
    stats = m.sentence_stats(good, refs)
    weights = significance.bootstrap_weights(len(stats), 5, seed=3)
    assert weights.sum(1) == pytest.approx([50] * 5)  # each resample has n sentences
    scores = significance.resampled_scores(m, stats, weights)
    for row, score in zip(weights.astype(int), scores, strict=True):
        idx = np.repeat(np.arange(50), row)
        expected = m.corpus_score([good[i] for i in idx], [refs[i] for i in idx])
        assert score == pytest.approx(expected)


def test_paired_tests_need_the_same_items():
    m = metrics.get("bleu")
    with pytest.raises(ValueError, match="same test items"):
        significance.paired_bootstrap(m, np.ones((3, 10)), np.ones((4, 10)))


def test_holm_adjustment():
    assert significance.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert significance.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert significance.holm([]) == []
