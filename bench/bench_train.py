"""Training benchmark: padding and throughput with length grouping / packing, and 4-bit vs plain LoRA memory.

    .venv/bin/python bench/bench_train.py          # (make bench runs every bench/bench_*.py)

Same data for every variant: the sample German-French pairs and QA pairs formatted as training examples
(plain prompt format) with a tiny model and tokenizer built on the spot. Prints:

1. the share of pad tokens per batch in random order (the baseline), with length grouping (the Trainer's
   mega-batch sort) and with packing (target: under 5%);
2. trained (non-pad) tokens per second of a real 4-bit QLoRA step loop over those batches, as ratios;
3. peak memory (max RSS above the post-import baseline, each in a fresh process) and weight footprint of
   a small model (hidden 768, 4 blocks) trained with 4-bit QLoRA vs plain LoRA on fp32 weights.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BATCH = 8
MAX_LENGTH = 128
STEPS = 6


def sample_records() -> list[Any]:
    from synthmix.record import Record

    records = []
    for line in (ROOT / "samples/parallel/de-fr.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        de, fr = line.split("\t")[:2]
        records.append(
            Record(
                kind="translation",
                origin="real",
                source="flores",
                fields={"src": de, "tgt": fr},
                src_lang="de",
                tgt_lang="fr",
            )
        )
    qa_file = ROOT / "samples/qa/gutenberg_qa.tsv"
    if qa_file.is_file():
        lines = qa_file.read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        for line in lines[1:]:
            row = dict(zip(header, line.split("\t"), strict=False))
            if row.get("question") and row.get("answer"):
                records.append(
                    Record(
                        kind="qa",
                        origin="real",
                        source="qa",
                        fields={"question": row["question"], "answer": row["answer"]},
                        lang="de",
                    )
                )
    return records


def batches_random(examples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    order = list(range(len(examples)))
    random.Random(0).shuffle(order)
    return [[examples[i] for i in order[k : k + BATCH]] for k in range(0, len(order), BATCH)]


def batches_grouped(examples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    import torch
    from transformers.trainer_pt_utils import get_length_grouped_indices

    lengths = [len(e["input_ids"]) for e in examples]
    order = get_length_grouped_indices(lengths, BATCH, generator=torch.Generator().manual_seed(0))
    return [[examples[i] for i in order[k : k + BATCH]] for k in range(0, len(order), BATCH)]


def batches_packed(examples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    from train.collate import pack_examples

    rows = pack_examples(examples, MAX_LENGTH)
    random.Random(0).shuffle(rows)
    return [rows[k : k + BATCH] for k in range(0, len(rows), BATCH)]


def batches_packed_grouped(examples: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """What the trainer does with packing = true and group_by_length = true: packed rows, grouped."""
    from train.collate import pack_examples

    return batches_grouped(pack_examples(examples, MAX_LENGTH))


def tokens_per_second(
    model_dir: Path, variants: dict[str, list[list[dict[str, Any]]]], pad_id: int
) -> dict[str, float]:
    """Median trained (non-pad) tokens/s per step of real 4-bit QLoRA steps, one model per variant.

    Steps of the variants are interleaved (A1 B1 C1 A2 B2 ...) and the median taken, so load from other
    processes on the machine hits every variant alike.
    """
    import statistics

    import torch

    from synthmix.recipe import load_recipe
    from train.collate import CompletionCollator
    from train.model import load_model
    from train.trainer import build_peft_model

    recipe = load_recipe(ROOT / "tests/fixtures/train/recipe.toml", check_files=False)
    collate = CompletionCollator(pad_id)
    runs = {}
    for name, batches in variants.items():
        model, _ = load_model(str(model_dir), quantization="4bit")
        model = build_peft_model(model, recipe.train)
        model.train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        runs[name] = (model, opt, [(collate(b), sum(len(f["input_ids"]) for f in b)) for b in batches])
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(STEPS + 1):
        for name, (model, opt, collated) in runs.items():
            batch, useful = collated[i % len(collated)]
            t0 = time.perf_counter()
            model(**batch).loss.backward()
            opt.step()
            opt.zero_grad()
            seconds = time.perf_counter() - t0
            if i:  # the first step of each warms up kernels and allocations
                rates[name].append(useful / seconds)
    return {name: statistics.median(r) for name, r in rates.items()}


def _train_steps(model_dir: str, quantization: str, steps: int) -> Any:
    import torch

    from synthmix.recipe import load_recipe
    from train.collate import CompletionCollator
    from train.model import load_model
    from train.trainer import build_peft_model

    recipe = load_recipe(ROOT / "tests/fixtures/train/recipe.toml", check_files=False)
    model, tok = load_model(model_dir, quantization=quantization)
    footprint = model.get_memory_footprint()
    model = build_peft_model(model, recipe.train)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = list(range(5, 69))
    batch = CompletionCollator(tok.pad_token_id)([{"input_ids": ids, "labels": ids, "source": "x"}] * 4)
    for _ in range(steps):
        model(**batch).loss.backward()
        opt.step()
        opt.zero_grad()
    return model, opt, footprint


def memory_worker(quantization: str, model_dir: str, warm_dir: str) -> None:
    """In a fresh process: RSS the small model adds (peak while loading + training, and after).

    A tiny model is trained first with the same quantization, so lazily loaded libraries and kernels
    (oneDNN, bitsandbytes) are in the baseline and only the model's own memory is measured.
    """
    import ctypes
    import gc
    import threading

    import torch

    torch.set_num_threads(2)
    libc = ctypes.CDLL("libc.so.6")
    warm = _train_steps(warm_dir, quantization, 2)
    del warm
    gc.collect()
    libc.malloc_trim(0)  # hand freed heap back, so RSS shows live memory
    base = current_rss_kb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], current_rss_kb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _model, _opt, footprint = _train_steps(model_dir, quantization, 4)  # kept alive for the reading
    gc.collect()
    libc.malloc_trim(0)
    after = current_rss_kb()
    done.set()
    sampler.join()
    print(
        json.dumps(
            {
                "peak_delta_mb": (peak[0] - base) / 1024,
                "after_delta_mb": (after - base) / 1024,
                "footprint_mb": footprint / 2**20,
            }
        )
    )


def current_rss_kb() -> int:
    """Resident set size now (Linux), including mapped checkpoint pages: physical memory in use."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def measure_memory(quantization: str, model_dir: Path, warm_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", quantization, str(model_dir), str(warm_dir)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    import torch
    from transformers import AutoTokenizer

    from train.collate import padding_share, tokenize_records
    from train.tiny import build_tiny_model, read_texts

    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp(prefix="bench_train-"))
    texts = read_texts(
        [p for p in (ROOT / "samples/parallel/de-fr.tsv", ROOT / "samples/wiki") if p.exists()]
    )
    tiny = build_tiny_model(tmp / "tiny", texts, hidden=64, layers=2)
    tok = AutoTokenizer.from_pretrained(tiny)
    examples, stats = tokenize_records(sample_records(), tok, prompt_format="plain", max_length=MAX_LENGTH)
    print(
        f"data: {stats.examples} examples ({stats.truncated} truncated), batch {BATCH}, max_length {MAX_LENGTH}"
    )

    variants = {
        "random order": batches_random(examples),
        "length-grouped": batches_grouped(examples),
        "packed": batches_packed(examples),
        "packed+grouped": batches_packed_grouped(examples),
    }
    shares = {name: padding_share(b) for name, b in variants.items()}
    print("\n1. pad share of batch positions (lower is better; target with grouping/packing < 5%)")
    for name, share in shares.items():
        print(f"   {name:15} {share:6.1%}   ratio vs random order {share / shares['random order']:.2f}x")

    print(
        f"\n2. trained tokens/s, 4-bit QLoRA, {STEPS} steps of batch {BATCH} (tiny model, hidden 64; median per step)"
    )
    speeds = tokens_per_second(tiny, variants, tok.pad_token_id)
    for name, speed in speeds.items():
        print(
            f"   {name:15} {speed:8.0f} tok/s   ratio vs random order {speed / speeds['random order']:.2f}x"
        )

    print(
        "\n3. memory of a small model (hidden 512, 4 blocks, 12.6M linear params): 4-bit QLoRA vs plain LoRA"
    )
    small = build_tiny_model(tmp / "small", texts, hidden=512, layers=4, heads=8, intermediate=1024)
    mem = {q: measure_memory(q, small, tiny) for q in ("none", "4bit")}
    for q, m in mem.items():
        print(
            f"   {q:5} weights {m['footprint_mb']:6.1f} MB   RSS after training {m['after_delta_mb']:6.1f} MB   "
            f"peak RSS {m['peak_delta_mb']:6.1f} MB (added by the model)"
        )
    r = {
        k: mem["4bit"][k] / max(mem["none"][k], 1e-9)
        for k in ("footprint_mb", "after_delta_mb", "peak_delta_mb")
    }
    print(
        f"   ratio 4bit/none: weights {r['footprint_mb']:.2f}x, RSS after training {r['after_delta_mb']:.2f}x, "
        f"peak {r['peak_delta_mb']:.2f}x"
    )
    print(
        "   (on CPU the 4-bit weights are 1/6 of fp32, but loading reads the fp32 checkpoint before quantizing\n"
        "    and every step dequantizes into temporaries, so process RSS of a model this small does not shrink;\n"
        "    the weight ratio is what QLoRA saves in GPU memory)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--memory-worker":
        memory_worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
