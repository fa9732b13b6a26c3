"""Benchmark eval: batched generation vs one prompt at a time, and vectorized paired bootstrap.

    .venv/bin/python bench/bench_eval.py          # part of `make bench`; ~1 minute on 2 cores

1. Greedy generation on the same tiny model and the same 32 prompts, batch size 1 (baseline) vs 8 and 16
   (left-padded, length-sorted batches): generated tokens per second and the ratio to batch size 1. The
   outputs must be identical, so the speed-up is free.
2. Paired bootstrap, 1,000 resamples over 1,000 sentences on corpus BLEU: eval.significance (one count
   matrix times the sufficient-statistics matrix) vs a loop that sums the resampled rows and scores each
   resample with sacrebleu's own ``_compute_score_from_stats``, as sacrebleu/significance.py does (baseline).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sacrebleu.metrics import BLEU

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import metrics, significance  # noqa: E402
from eval.generation import generate  # noqa: E402


def bench_generation() -> None:
    import torch

    from train.model import load_model

    # One thread: on a shared CPU, torch's OpenMP workers spin on each other and the timings swing 10x.
    torch.set_num_threads(1)
    from train.tiny import build_tiny_model, read_texts

    lines = (ROOT / "samples/parallel/de-fr.tsv").read_text(encoding="utf-8").splitlines()[1:]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", read_texts([ROOT / "samples/parallel/de-fr.tsv"]))
        model, tokenizer = load_model(str(model_dir), quantization="none", for_training=False)
        prompts = [f"Translate from German to French.\n{line.split(chr(9))[0]}\n" for line in lines[:32]]
        new_tokens = 32
        generate(model, tokenizer, prompts[:2], batch_size=2, max_new_tokens=4, progress=False)  # warm-up
        print(
            f"generation: tiny Llama, {len(prompts)} prompts, {new_tokens} new tokens, torch threads {torch.get_num_threads()}"
        )
        baseline_tps = 0.0
        reference = None
        for batch_size in (1, 8, 16):
            stats: list = []
            outs = generate(
                model,
                tokenizer,
                prompts,
                batch_size=batch_size,
                max_new_tokens=new_tokens,
                progress=False,
                stats=stats,
            )
            texts = [o.text for o in outs]
            reference = reference or texts
            tps = stats[0].tokens_per_second
            baseline_tps = baseline_tps or tps
            same = "identical outputs" if texts == reference else "OUTPUTS DIFFER"
            print(
                f"  batch {batch_size:2}: {tps:8.1f} tokens/s  {stats[0].seconds:6.2f} s  "
                f"ratio vs batch 1: {tps / baseline_tps:5.2f}x  ({same})"
            )


def bench_bootstrap() -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    refs = [" ".join(rng.choice(words, rng.integers(5, 25))) for _ in range(1000)]
    hyp_a = [r if rng.random() < 0.4 else " ".join(rng.choice(words, 12)) for r in refs]
    hyp_b = [" ".join(rng.choice(words, 12)) for _ in refs]
    bleu = metrics.get("bleu")
    a, b = bleu.sentence_stats(hyp_a, refs), bleu.sentence_stats(hyp_b, refs)
    n = 1000

    start = time.perf_counter()
    # Baseline: what sacrebleu/significance.py does per resample (index, sum, score in Python).
    idx = np.random.default_rng(13).choice(len(a), size=(n, len(a)), replace=True)
    sacre = BLEU()
    a32, b32 = a.astype("float32"), b.astype("float32")
    base_a = [sacre._compute_score_from_stats(s.sum(0)).score for s in a32[idx]]
    base_b = [sacre._compute_score_from_stats(s.sum(0)).score for s in b32[idx]]
    loop_s = time.perf_counter() - start

    start = time.perf_counter()
    result = significance.paired_bootstrap(bleu, a, b, n_samples=n, seed=13)
    vec_s = time.perf_counter() - start

    print(f"paired bootstrap: {n} resamples x {len(a)} sentences, corpus BLEU, both systems")
    print(f"  per-resample loop (sacrebleu style): {loop_s:7.3f} s")
    print(f"  eval.significance (vectorized):      {vec_s:7.3f} s   speed-up {loop_s / vec_s:6.1f}x")
    print(
        f"  BLEU A {result.score_a:.2f} vs B {result.score_b:.2f}, p = {result.p_value:.4f}; "
        f"loop mean A {np.mean(base_a):.2f}, B {np.mean(base_b):.2f}"
    )


if __name__ == "__main__":
    bench_bootstrap()
    bench_generation()
