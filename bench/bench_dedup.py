"""Near-duplicate detection: quality against brute-force Jaccard, and throughput against a naive loop.

    .venv/bin/python bench/bench_dedup.py          (also run by `make bench`)

Builds a seeded corpus of passages (~60 words) and short sentences (~10 words) from a generated
vocabulary, plants near-duplicates by editing copies (substitutions, deletions, insertions, 1-4 edits, so
similarities straddle the threshold), and then:

- quality: every pair with true Jaccard >= threshold over the same shingle sets (all pairs, computed with
  a sparse matrix product) is the ground truth; curate.dedup's pairs are scored by precision, recall, F1;
- throughput: curate.dedup's path (numpy-batched shingle hashing + bulk signatures + MinHashLSH) against a
  straightforward per-shingle ``MinHash.update`` loop + the same LSH, over the same records, same run.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curate import dedup
from synthmix.config.curate import DedupConfig

SEED = 7
N_PASSAGES = 1500
N_SENTENCES = 1500
PLANT_FRACTION = 0.2


def make_vocab(rng: random.Random, n: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(n)]


def edit(words: list[str], rng: random.Random, vocab: list[str], n_edits: int) -> list[str]:
    out = list(words)
    for _ in range(n_edits):
        op = rng.random()
        i = rng.randrange(len(out))
        if op < 0.5:
            out[i] = rng.choice(vocab)
        elif op < 0.75 and len(out) > 3:
            del out[i]
        else:
            out.insert(i, rng.choice(vocab))
    return out


def make_corpus(n: int, length: tuple[int, int], rng: random.Random, vocab: list[str]) -> list[str]:
    # Zipf-ish word choice so common words recur across unrelated texts, as in real language.
    weights = [1 / (k + 1) for k in range(len(vocab))]
    docs = [rng.choices(vocab, weights, k=rng.randint(*length)) for _ in range(n)]
    planted = []
    for _ in range(int(n * PLANT_FRACTION)):
        base = rng.choice(docs)
        planted.append(edit(base, rng, vocab, rng.randint(1, 4 if len(base) > 20 else 2)))
    texts = [" ".join(d) for d in docs + planted]
    rng.shuffle(texts)
    return texts


def brute_force_pairs(texts: list[str], mode: str, config: DedupConfig) -> set[tuple[int, int]]:
    """All pairs with Jaccard >= threshold, exactly, via |A & B| from a sparse product."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, t in enumerate(texts):
        for sh in set(dedup.shingles(t, mode, config)):
            rows.append(i)
            cols.append(vocab.setdefault(sh, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(texts), len(vocab)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= config.threshold
    return {(int(i), int(j)) for i, j in zip(inter.row[keep], inter.col[keep], strict=True)}


def ours(texts: list[str], mode: str, config: DedupConfig) -> set[tuple[int, int]]:
    signatures, hashes = dedup.sketch(texts, mode, config)
    candidates = dedup.lsh_candidates(signatures, config)
    kept = hashes if config.verify == "exact" else None
    return set(dedup.confirmed_pairs(candidates, signatures, config.threshold, kept))


def naive(texts: list[str], mode: str, config: DedupConfig) -> int:
    """The straightforward way: one MinHash per text, ``update`` per shingle, then the same LSH."""
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    n_candidates = 0
    for i, t in enumerate(texts):
        m = MinHash(num_perm=config.num_perm)
        for sh in dedup.shingles(t, mode, config):
            m.update(sh.encode("utf-8"))
        n_candidates += len(lsh.query(m))
        lsh.insert(i, m)
    return n_candidates


def score(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> int:
    rng = random.Random(SEED)
    vocab = make_vocab(rng)
    config = DedupConfig()
    ok = True
    print(
        f"near-dup at threshold {config.threshold}, num_perm {config.num_perm}, LSH bands/rows {dedup.lsh_params(config)}"
    )
    for label, n, length in (("passages", N_PASSAGES, (40, 80)), ("sentences", N_SENTENCES, (6, 14))):
        texts = make_corpus(n, length, rng, vocab)
        mode = dedup.shingle_mode(texts, config)
        truth = brute_force_pairs(texts, mode, config)
        t0 = time.perf_counter()
        found = ours(texts, mode, config)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        naive(texts, mode, config)
        t_naive = time.perf_counter() - t0
        p, r, f1 = score(found, truth)
        est = DedupConfig(verify="minhash")
        p2, r2, f2 = score(ours(texts, mode, est), truth)
        ratio = t_naive / t_ours
        print(
            f"{label:9} ({len(texts)} texts, {mode} shingles, {len(truth)} true pairs): "
            f"precision {p:.3f} recall {r:.3f} F1 {f1:.3f} (MinHash-estimate verify: F1 {f2:.3f}, "
            f"P {p2:.3f} R {r2:.3f})"
        )
        print(
            f"{'':9} throughput: ours {len(texts) / t_ours:,.0f} texts/s, per-shingle update loop "
            f"{len(texts) / t_naive:,.0f} texts/s -> ratio {ratio:.1f}x (target >= 3x)"
        )
        ok &= f1 >= 0.95 and ratio >= 3
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
