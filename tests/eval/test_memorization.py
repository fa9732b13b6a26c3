"""The end-to-end claim of the issue: an adapter that memorized the test items beats the base, p < 0.05."""

from __future__ import annotations

import json
from pathlib import Path

from eval.compare import run_compare
from synthmix.layout import Layout
from tests.eval.helpers import make_recipe, sample_pairs, write_curated

MEMO_SOURCE = """
[sources.memo]
type = "files"
path = "pairs.tsv"
columns = { src = "de", tgt = "fr" }
"""

MEMO_TRAIN = """learning_rate = 5e-3
max_steps = 70
batch_size = 16
grad_accum = 1
warmup_ratio = 0.0
scheduler = "constant"
dev_fraction = 0.0
logging_steps = 10
group_by_length = false
[train.lora]
r = 16
alpha = 32
dropout = 0.0
# lm_head too: a random tiny model's output layer is too weak for LoRA on the blocks alone to memorize
target_modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"]
"""


def test_adapter_that_memorized_the_test_items_beats_the_base_significantly(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    """A LoRA adapter trained (train.trainer, real peft) on the very pairs it is tested on must win, p < 0.05."""
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        """metrics = ["bleu", "chrf", "perplexity"]
test_sources = ["flores"]
max_new_tokens = 24
conditions = [{ name = "base" }, { name = "memorized", mix = "memo" }]""",
        train_table=MEMO_TRAIN,
        sources_table=MEMO_SOURCE,
    )
    layout = Layout(recipe.name, tmp_path)
    pairs = sorted(sample_pairs(300), key=lambda p: len(p[0]) + len(p[1]))[:16]
    write_curated(layout, "flores", sample_pairs(4, offset=200), pairs)  # test split: the 16 pairs
    write_curated(layout, "memo", pairs, [])  # a source whose train split is exactly those pairs
    run_compare(recipe, layout, build_corpus=False, progress=False)
    comparison = json.loads((layout.reports / "comparison.json").read_text(encoding="utf-8"))
    tests = {t["metric"]: t for t in comparison["tests"]}
    assert tests["chrf"]["a"] == "memorized" and tests["chrf"]["b"] == "base"
    for metric in ("bleu", "chrf"):
        assert tests[metric]["delta"] > 30, tests[metric]
        assert tests[metric]["p_holm"] < 0.05 and tests[metric]["significant"]
    assert tests["perplexity"]["delta"] < 0 and tests["perplexity"]["p_holm"] < 0.05
    (run,) = comparison["runs"]
    assert run["history"] and any("loss" in e for e in run["history"])
    assert (layout.reports / "learning_curves.png").is_file()
    text = (layout.reports / "report.md").read_text(encoding="utf-8")
    assert "run card" in text and "| memorized |" in text
