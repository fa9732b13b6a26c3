"""The trainer end to end on CPU: real 4-bit QLoRA steps on a tiny model loaded with from_pretrained.

Each test trains for a handful of steps on a mix written with the real store into a tmp Layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from synthmix.errors import ConfigError, MissingRequirementError, SynthmixError
from synthmix.store import read_records
from tests.train.conftest import MakeProject, pair_records, qa_records
from train.collate import CompletionCollator, tokenize_records
from train.model import load_adapter, load_model
from train.runcard import read_run
from train.trainer import choose_optimizer, run_dir_for, run_id, run_train, split_records


def test_qlora_memorizes_and_writes_a_complete_run(make_project: MakeProject) -> None:
    recipe, layout = make_project(
        overrides=["train.max_steps=16", "train.learning_rate=1e-2", "train.eval_steps=8"]
    )
    run_dir = run_train(recipe, layout, "flores")

    assert run_dir.parent == layout.runs
    info = read_run(run_dir)
    history = json.loads((run_dir / "log_history.json").read_text())
    losses = [e["loss"] for e in history if "loss" in e]
    assert len(losses) == 16
    assert [e["step"] for e in history if "eval_dev_loss" in e] == [8, 16]  # no duplicate final evaluation
    # Memorizing 8 short pairs: the completion loss falls to a fraction of where it started.
    assert losses[-1] < 0.3 * losses[0]
    assert info["metrics"]["train_loss_final"] == losses[-1]
    assert info["global_step"] == 16
    assert info["base_model"]["quantization"] == "4bit"
    # The mix had no card: training wrote one and recorded its hash.
    card = json.loads((layout.mix("flores") / "card.json").read_text())
    assert info["mix"] == {
        **info["mix"],
        "spec": "flores",
        "mix_id": "mix-fixture-1",
        "card_hash": card["card_hash"],
    }
    assert len(card["card_hash"]) >= 12
    assert info["mix"]["dir"] == "data/train-fixture/mix/flores"
    assert info["data"]["train"]["examples"] == 8 and info["data"]["dev"]["examples"] == 2
    assert info["data"]["train"]["truncated"] == 0
    assert info["tokens_seen"] > 16 * 4 * 15  # non-padding tokens of 16 batches of 4 examples
    assert info["metrics"]["dev_loss"] > 0 and info["peak_memory_mb"] > 0
    assert info["versions"]["bitsandbytes"].startswith("0.")
    assert (run_dir / "adapter_model.safetensors").is_file()
    assert (run_dir / "tokenizer.json").is_file()
    assert (run_dir / "learning_curve.png").stat().st_size > 10_000
    readme = (run_dir / "README.md").read_text()
    assert "mix-fixture-1" in readme and "library_name: peft" in readme
    assert str(Path.home()) not in readme + (run_dir / "run.json").read_text()


def test_adapter_reloads_onto_a_fresh_base_and_reproduces_the_trained_model(
    make_project: MakeProject,
) -> None:
    recipe, layout = make_project(overrides=["train.max_steps=8"])
    run_dir = run_train(recipe, layout, "flores")
    info = read_run(run_dir)
    # The final dev loss was computed by the in-memory trained model; recompute it on a fresh 4-bit base.
    model, tok = load_model(info["base_model"]["name"], quantization="4bit", for_training=False)
    base_logits_input = tok("Guten Morgen.", return_tensors="pt")
    with torch.no_grad():
        base_logits = model(**base_logits_input).logits
    peft_model = load_adapter(model, run_dir)
    _, dev = split_records(read_records(layout.mix("flores")), dev_fraction=0.2, seed=recipe.seed)
    examples, _ = tokenize_records(dev, tok, prompt_format="plain", max_length=64)
    batch = CompletionCollator(tok.pad_token_id)(examples)
    with torch.no_grad():
        loss = peft_model(**batch).loss.item()
        tuned_logits = peft_model(**base_logits_input).logits
    assert loss == pytest.approx(info["metrics"]["dev_loss"], rel=1e-4)
    assert not torch.allclose(base_logits, tuned_logits, atol=1e-3)  # the adapter changes the model


def test_resume_continues_from_the_last_checkpoint(make_project: MakeProject) -> None:
    recipe, layout = make_project(overrides=["train.max_steps=10", "train.save_steps=4"])

    class Crash(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == 6:
                raise KeyboardInterrupt("simulated crash after step 6")

    class FirstStep(TrainerCallback):
        first: int | None = None

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.first is None:
                self.first = state.global_step

    with pytest.raises(KeyboardInterrupt):
        run_train(recipe, layout, "flores", callbacks=[Crash()])
    run_dir = run_dir_for(recipe, layout, "flores")
    assert not (run_dir / "run.json").exists()
    assert (run_dir / "checkpoints" / "checkpoint-4").is_dir()

    probe = FirstStep()
    assert run_train(recipe, layout, "flores", resume=True, callbacks=[probe]) == run_dir
    assert probe.first == 5  # continues after checkpoint-4, not from step 1
    info = read_run(run_dir)
    assert info["global_step"] == 10
    steps = [e["step"] for e in json.loads((run_dir / "log_history.json").read_text()) if "loss" in e]
    assert steps == list(range(1, 11))  # the history up to the checkpoint is kept


def test_early_stopping_stops_before_max_steps(make_project: MakeProject) -> None:
    # A threshold no dev-loss change can meet: every evaluation counts as no improvement.
    recipe, layout = make_project(
        overrides=[
            "train.max_steps=40",
            "train.eval_steps=2",
            "train.early_stopping_patience=2",
            "train.early_stopping_threshold=100.0",
            "train.logging_steps=2",
        ]
    )
    info = read_run(run_train(recipe, layout, "flores"))
    assert info["stopped_early"] is True
    assert info["global_step"] < 10
    # The adapter saved is the best one evaluated (load_best_model_at_end), named in the run card.
    assert int(info["best_checkpoint"].split("-")[1]) <= info["global_step"]
    assert info["metrics"]["best_dev_loss"] == pytest.approx(info["metrics"]["dev_loss"], rel=1e-4)


def test_finished_run_is_reused_and_seed_changes_the_run(
    make_project: MakeProject, caplog: pytest.LogCaptureFixture
) -> None:
    recipe, layout = make_project(overrides=["train.max_steps=2", "train.eval_steps=2"])
    first = run_train(recipe, layout, "flores")
    mtime = (first / "run.json").stat().st_mtime_ns
    assert run_train(recipe, layout, "flores") == first
    assert (first / "run.json").stat().st_mtime_ns == mtime
    # The mix is rebuilt with other data: the run is still reused, with a warning that says so.
    from synthmix.store import write_dataset

    write_dataset(layout.mix("flores"), pair_records()[:6], stage="mix")
    with caplog.at_level("WARNING", logger="train.trainer"):
        assert run_train(recipe, layout, "flores") == first
    assert "older build of mix flores" in caplog.text
    assert run_id(recipe, "flores", recipe.train) == first.name
    other = run_dir_for(recipe, layout, "flores", seed=7)
    assert other != first and "seed7" in other.name


def test_freeze_layers_leaves_the_first_block_untrained(make_project: MakeProject) -> None:
    recipe, layout = make_project(
        overrides=["train.max_steps=3", "train.freeze_layers=1", "train.eval_steps=3"]
    )
    run_dir = run_train(recipe, layout, "flores")
    weights = load_file(run_dir / "adapter_model.safetensors")
    first = [v for k, v in weights.items() if ".layers.0." in k and "lora_B" in k]
    second = [v for k, v in weights.items() if ".layers.1." in k and "lora_B" in k]
    assert first and second
    assert all(bool((w == 0).all()) for w in first)  # lora_B starts at zero and was never updated
    assert any(bool((w != 0).any()) for w in second)


def test_two_source_mix_reports_dev_loss_per_source(make_project: MakeProject) -> None:
    records = pair_records() + qa_records(6)
    recipe, layout = make_project(
        records,
        mix="flores+qa",
        overrides=[
            "train.max_steps=2",
            "train.eval_steps=2",
            "train.packing=true",
            "train.scheduler='cosine_with_restarts'",
        ],
    )
    (layout.mix("flores+qa") / "card.json").write_text(
        json.dumps({"card_hash": "card-abc"}), encoding="utf-8"
    )
    info = read_run(run_train(recipe, layout, "qa+flores"))
    assert info["mix"]["card_hash"] == "card-abc"
    assert {"dev_loss", "dev_flores_loss", "dev_qa_loss"} <= set(info["metrics"])
    assert info["packed_rows"] < info["data"]["train"]["examples"]
    assert set(info["data"]["train"]["by_source"]) == {"flores", "qa"}


def test_plain_lora_and_merge_into_16bit(make_project: MakeProject) -> None:
    recipe, layout = make_project(
        overrides=["train.max_steps=4", "train.quantization='none'", "train.eval_steps=4"]
    )
    run_dir = run_train(recipe, layout, "flores")
    assert read_run(run_dir)["base_model"]["quantization"] == "none"
    merged_dir = run_train(recipe, layout, None, merge=run_dir)
    assert merged_dir == run_dir / "merged"

    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    assert merged.dtype == torch.bfloat16
    assert not any("lora" in name for name, _ in merged.named_parameters())
    base, tok = load_model(read_run(run_dir)["base_model"]["name"], quantization="none", for_training=False)
    tuned = load_adapter(base, run_dir)
    ids = tok("Guten Morgen.", return_tensors="pt")
    with torch.no_grad():
        want = tuned(**ids).logits
        got = merged(**ids).logits.float()
    # bf16 rounding only: close everywhere, and far closer than the adapter's own effect.
    assert (got - want).abs().max() < 0.15
    assert (got - want).abs().mean() < 0.02


def test_show_masking_prints_the_masked_prompt(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe, layout = make_project()
    run_dir = run_train(recipe, layout, "flores", show_masking=True)
    out = capsys.readouterr().out
    assert out.startswith("[[Translate from German to French.\n")
    assert "]]" in out and "masked prompt tokens" in out
    assert not (run_dir / "run.json").exists()


def test_prompts_longer_than_max_length_fail_loudly(make_project: MakeProject) -> None:
    long_sources = pair_records([("Hallo " * 30, "Salut."), ("Guten Tag " * 20, "Bonjour.")])
    recipe, layout = make_project(long_sources, overrides=["train.max_length=16"])
    with pytest.raises(SynthmixError, match="max_length=16"):
        run_train(recipe, layout, "flores")


def test_unloadable_model_fails_before_any_work(make_project: MakeProject) -> None:
    recipe, layout = make_project()
    with pytest.raises(MissingRequirementError, match="nobody/no-such-model"):
        run_train(recipe, layout, "flores", model="nobody/no-such-model")
    assert not layout.runs.exists()


def test_missing_mix_name_is_a_config_error(make_project: MakeProject) -> None:
    recipe, layout = make_project()
    with pytest.raises(ConfigError, match="MIX"):
        run_train(recipe, layout, None)
    with pytest.raises(ConfigError, match="unknown source"):
        run_train(recipe, layout, "nonexistent")


def test_unknown_optimizer_is_a_config_error_before_loading(make_project: MakeProject) -> None:
    recipe, layout = make_project(overrides=["train.optimizer='paged_adamw32bit'"])
    with pytest.raises(ConfigError, match="train.optimizer.*paged_adamw_32bit"):
        run_train(recipe, layout, "flores")
    assert not layout.runs.exists()


def test_paged_optimizer_falls_back_on_cpu() -> None:
    if not torch.cuda.is_available():
        assert choose_optimizer("paged_adamw_32bit") == "adamw_torch"
    assert choose_optimizer("adamw_torch") == "adamw_torch"


@pytest.mark.parametrize(
    "overrides",
    [
        ["train.quantization='8bit'"],
        ["train.gradient_checkpointing=true", "train.optimizer='paged_adamw_32bit'"],
    ],
    ids=["8bit", "4bit-checkpointing-paged"],
)
def test_other_training_modes_learn(make_project: MakeProject, overrides: list[str]) -> None:
    recipe, layout = make_project(overrides=["train.max_steps=6", "train.eval_steps=6", *overrides])
    run_dir = run_train(recipe, layout, "flores")
    info = read_run(run_dir)
    losses = [e["loss"] for e in json.loads((run_dir / "log_history.json").read_text()) if "loss" in e]
    assert info["base_model"]["quantization"] == recipe.train.quantization
    assert info["global_step"] == 6
    assert losses[-1] < losses[0]


def test_a_missing_mix_is_built_by_curate_first(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthmix.layout import Layout
    from synthmix.recipe import load_recipe
    from synthmix.store import is_complete, write_dataset
    from tests.train.conftest import FIXTURE_RECIPE

    recipe = load_recipe(FIXTURE_RECIPE, overrides=[f"train.model='{tiny_model_dir}'"], check_files=False)
    layout = Layout(recipe.name, tmp_path)
    write_dataset(layout.curate("flores"), pair_records(), stage="curate")  # a curated source, no mix yet
    assert not is_complete(layout.mix("flores"))
    run_train(recipe, layout, "flores", show_masking=True)
    assert is_complete(layout.mix("flores"))
    assert "[[Translate from German to French." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.lora.target_modules=['query_key_value']", "train.lora.target_modules"),
        ("train.freeze_layers=2", "train.freeze_layers"),
    ],
)
def test_lora_settings_the_model_cannot_take_are_config_errors(
    make_project: MakeProject, override: str, key: str
) -> None:
    recipe, layout = make_project(overrides=[override])
    with pytest.raises(ConfigError, match=key):
        run_train(recipe, layout, "flores")
