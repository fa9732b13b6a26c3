from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval import evaluate
from eval.evaluate import run_eval, select_shots
from synthmix.errors import ConfigError, SynthmixError
from synthmix.layout import Layout
from synthmix.record import Record
from tests.eval.helpers import make_recipe, sample_pairs, write_curated


def _rec(src: str, tgt: str, split: str) -> Record:
    return Record(
        kind="translation", origin="real", source="flores", fields={"src": src, "tgt": tgt}, split=split
    )


def test_few_shot_examples_come_from_train_fixed_by_seed_and_never_a_test_item():
    train = [_rec(f"Satz {i}.", f"Phrase {i}.", "train") for i in range(30)]
    # a train record that is a test item under another id (same source sentence, other translation)
    leaked = _rec("Satz 3.", "Une autre phrase.", "train")
    test = [_rec("Satz 3.", "Phrase 3.", "test"), _rec("Satz 7.", "Phrase 7.", "test")]
    pool = [*train, leaked, *test]
    for seed in range(20):
        shots = select_shots(pool, 5, seed, test, "flores")
        assert len(shots) == 5 and all(s.split == "train" for s in shots)
        assert not {s.fields["src"] for s in shots} & {"Satz 3.", "Satz 7."}
        assert select_shots(pool, 5, seed, test, "flores") == shots  # fixed by seed
    assert select_shots(pool, 5, 1, test, "flores") != select_shots(pool, 5, 2, test, "flores")
    with pytest.raises(SynthmixError, match="usable train examples"):
        select_shots(pool[:3], 5, 0, test, "flores")


MC_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "eval" / "mc_small.jsonl"


def _project(tmp_path: Path, model_dir: Path, eval_table: str):
    recipe = make_recipe(tmp_path, model_dir, eval_table)
    layout = Layout(recipe.name, tmp_path)
    write_curated(layout, "flores", sample_pairs(20), sample_pairs(8, offset=100))
    return recipe, layout


@pytest.fixture
def project(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    table = f'metrics = ["bleu", "chrf", "chrf++", "perplexity"]\nmultiple_choice = "{MC_FILE}"\nfew_shot = 2'
    return _project(tmp_path, tiny_model_dir, table)


def test_run_eval_writes_per_sample_outputs_and_scores_and_reuses_them(project):
    recipe, layout = project
    scores = run_eval(recipe, layout, shots=2, progress=False)
    out = layout.reports / "conditions" / "base-2shot"
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and scores["n_items"] == 8
    test_inputs = {r["input"] for r in rows}
    for row in rows:
        assert row["prompt"].endswith(row["input"] + "\n")
        assert row["prompt"].startswith("Translate from German to French.")
        assert row["prompt"].count("Translate from German to French.") == 3  # 2 shots + the item
        # no other test item appears in the prompt as a shot
        assert not any(other in row["prompt"] for other in test_inputs - {row["input"]})
        assert row["tokens"] > 0 and row["nll"] > 0
        assert row["perplexity"] == pytest.approx(math.exp(row["nll"] / row["tokens"]), rel=1e-3)
        assert "output" in row and "raw_output" in row
    assert set(scores["metrics"]) == {"bleu", "chrf", "chrf++", "perplexity", "accuracy"}
    assert scores["metrics"]["bleu"]["signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    # scores are recomputable from the stored samples (what compare relies on)
    assert evaluate.score_rows(rows, "chrf")["score"] == pytest.approx(scores["metrics"]["chrf"]["score"])
    assert scores["by_source"]["flores"]["bleu"]["n"] == 8
    assert len(scores["shots_used"]["flores"]) == 2
    mc = scores["multiple_choice"]
    assert mc["shots"] == 2 and sum(c["n"] for c in mc["by_category"].values()) == 12
    assert (out / "mc_samples.jsonl").is_file()
    # a second call with the same inputs reuses the result; a changed recipe key does not
    mtime = (out / "scores.json").stat().st_mtime_ns
    assert run_eval(recipe, layout, shots=2, progress=False)["eval_key"] == scores["eval_key"]
    assert (out / "scores.json").stat().st_mtime_ns == mtime


def test_adapter_is_loaded_without_merging_and_changes_outputs(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    import torch
    from peft import LoraConfig, get_peft_model

    from train.model import load_model

    monkeypatch.chdir(tmp_path)
    recipe, layout = _project(tmp_path, tiny_model_dir, 'metrics = ["chrf", "perplexity"]')
    model, _tok = load_model(recipe.train.model, quantization="none", for_training=False)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(0)
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:  # LoRA B starts at zero (a no-op adapter); make it do something
            p.data.normal_(0, 0.5)
    run_dir = tmp_path / "runs" / "fake-run"
    peft_model.save_pretrained(run_dir)
    base = run_eval(recipe, layout, progress=False)
    tuned = run_eval(recipe, layout, adapter=run_dir, progress=False)
    assert tuned["condition"] == "adapter-fake-run" and tuned["adapter"].endswith("fake-run")
    assert tuned["metrics"]["perplexity"]["score"] != pytest.approx(base["metrics"]["perplexity"]["score"])
    loaded, _ = evaluate.load_condition_model(recipe, run_dir)
    from peft import PeftModel

    assert isinstance(loaded, PeftModel)  # not merged into the base weights
    assert any("lora_A" in n for n, _ in loaded.named_parameters())


def test_missing_test_split_and_bad_adapter_are_user_errors(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(tmp_path, tiny_model_dir)
    layout = Layout(recipe.name, tmp_path)
    with pytest.raises(SynthmixError, match="synthmix corpus"):
        run_eval(recipe, layout, progress=False)
    with pytest.raises(ConfigError, match="adapter_config.json"):
        run_eval(recipe, layout, adapter=tmp_path, progress=False)
    with pytest.raises(ConfigError, match="not in \\[eval\\].conditions"):
        run_eval(recipe, layout, condition="nope", progress=False)


def test_qa_sources_get_exact_match_and_token_f1_translation_sources_do_not(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    from synthmix.store import write_dataset

    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        'metrics = ["bleu", "exact_match", "token_f1"]',
        sources_table='[sources.wiki_qa]\ntype = "files"\npath = "pairs.tsv"\nkind = "qa"\nlang = "de"',
    )
    layout = Layout(recipe.name, tmp_path)
    write_curated(layout, "flores", sample_pairs(20), sample_pairs(8, offset=100))
    qa = [
        Record(
            kind="qa",
            origin="synthetic",
            source="wiki_qa",
            fields={"question": q, "answer": a},
            split=s,
            lang="de",
        )
        for q, a, s in [
            ("Wo wurde Gutenberg geboren?", "In Mainz.", "test"),
            ("Was erfand Gutenberg?", "Den Buchdruck mit beweglichen Lettern.", "test"),
            ("Welcher Fluss fließt durch Köln?", "Der Rhein.", "train"),
        ]
    ]
    write_dataset(layout.curate("wiki_qa"), qa, stage="curate", config_hash="test")
    scores = run_eval(recipe, layout, progress=False)
    assert scores["n_items"] == 8 + 2
    assert set(scores["by_source"]["flores"]) == {"bleu"}
    assert set(scores["by_source"]["wiki_qa"]) == {"bleu", "exact_match", "token_f1"}
    assert scores["metrics"]["exact_match"]["n"] == 2 and scores["metrics"]["bleu"]["n"] == 10
    rows = evaluate.read_samples(layout, "base-0shot")
    qa_rows = [r for r in rows if r["source"] == "wiki_qa"]
    assert qa_rows[0]["prompt"] == "Answer the question.\nWo wurde Gutenberg geboren?\n"
    assert evaluate.score_rows(qa_rows, "token_f1")["score"] == pytest.approx(
        scores["metrics"]["token_f1"]["score"]
    )


def test_condition_train_overrides_reach_nested_tables_and_are_validated():
    from synthmix.config.evaluate import ConditionConfig
    from synthmix.recipe import Recipe

    recipe = Recipe(name="x")
    cond = ConditionConfig(name="r8", mix="m", train={"lora.r": 8, "lora.alpha": 48, "learning_rate": 1.6e-5})
    tuned = evaluate.recipe_for_condition(recipe, cond)
    assert (tuned.train.lora.r, tuned.train.lora.alpha, tuned.train.learning_rate) == (8, 48, 1.6e-5)
    assert recipe.train.lora.r == 16  # the recipe itself is untouched
    with pytest.raises(ConfigError, match=r"eval.conditions.bad.train: train.lora.r: must be > 0"):
        evaluate.recipe_for_condition(recipe, ConditionConfig(name="bad", mix="m", train={"lora.r": 0}))
    with pytest.raises(ConfigError, match="'epochs' is not a \\[train\\] table"):
        evaluate.recipe_for_condition(recipe, ConditionConfig(name="bad", mix="m", train={"epochs.x": 1}))


def test_chat_template_prompts_for_base_few_shot(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        'metrics = ["chrf", "perplexity"]',
        train_table='system_prompt = "Du bist ein Übersetzer."',
    )
    recipe = evaluate.recipe_for_condition(
        recipe, evaluate.ConditionConfig(name="x", train={"prompt_format": "chat_template"})
    )
    layout = Layout(recipe.name, tmp_path)
    write_curated(layout, "flores", sample_pairs(10), sample_pairs(3, offset=100))
    scores = run_eval(recipe, layout, shots=1, progress=False)
    rows = evaluate.read_samples(layout, "base-1shot")
    for row in rows:
        # system, one solved example as an earlier user/assistant turn, then the item, then the answer cue
        assert row["prompt"].startswith("<|im_start|>system\nDu bist ein Übersetzer.<|im_end|>")
        assert row["prompt"].count("<|im_start|>user") == 2
        assert row["prompt"].endswith("<|im_start|>assistant\n")
        assert "<|im_end|>" not in row["output"]
    assert scores["prompt_format"] == "chat_template" and scores["metrics"]["perplexity"]["n"] == 3
