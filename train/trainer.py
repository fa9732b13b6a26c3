"""QLoRA trainer: fine-tune a causal LM on a mix and leave an adapter with a run card.

    synthmix train --recipe recipes/sample.toml --mix flores [--model data/tiny-model] [--resume]
    synthmix train --recipe recipes/sample.toml --mix flores --show-masking   # one example, masked span marked
    synthmix train --recipe recipes/sample.toml --merge runs/sample/<run id>  # 16-bit merged copy

    from train.trainer import run_train
    run_dir = run_train(recipe, layout, "synthetic+flores", seed=13)

The run directory ``runs/<recipe>/<run id>/`` holds the adapter (safetensors), the tokenizer, ``run.json``
(written last: a run with it is finished and reused), ``README.md``, ``learning_curve.png``,
``trainer_state.json``, ``log_history.json`` and ``checkpoints/`` (resume points). The run id is derived
from the recipe name, the mix, the model, the train config and the seed, so the same request finds the
same run. Training is the transformers ``Trainer`` with peft LoRA, so ``accelerate launch`` scales it to
several GPUs unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthmix import code_version
from synthmix.config.base import as_table
from synthmix.config.train import TrainConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.hashing import stable_hash
from synthmix.layout import Layout, safe_dirname
from synthmix.mixspec import parse_mix
from synthmix.recipe import Recipe
from synthmix.record import Record
from synthmix.status import config_hash_for
from synthmix.store import is_complete, read_manifest, read_records
from train.collate import CompletionCollator, pack_examples, render_masking, tokenize_records
from train.runcard import RUN_JSON, is_finished, read_run, write_run_card

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
DEV_METRIC = "eval_dev_loss"
_LAYER_INDEX = re.compile(r"\.(?:layers|h|blocks|block|layer)\.(\d+)\.")


# ---------------------------------------------------------------------------------------------- run identity


def effective_config(recipe: Recipe, model: str | None = None, seed: int | None = None) -> TrainConfig:
    """The recipe's ``[train]`` with the command-line model and seed applied."""
    cfg = recipe.train
    changes: dict[str, Any] = {}
    if model:
        changes["model"] = model
    if seed is not None:
        changes["seed"] = seed
    return dataclasses.replace(cfg, **changes) if changes else cfg


def run_id(recipe: Recipe, mix: str, cfg: TrainConfig) -> str:
    """Deterministic: the same recipe, mix, model, train config and seed give the same run id."""
    canonical = parse_mix(mix).canonical
    digest = stable_hash(["train-run", recipe.name, canonical, as_table(cfg)], length=10)
    model_slug = safe_dirname(Path(cfg.model.rstrip("/")).name)[:40]
    return f"{safe_dirname(canonical)}--{model_slug}--seed{cfg.seed}--{digest}"


def run_dir_for(
    recipe: Recipe,
    layout: Layout,
    mix: str,
    *,
    model: str | None = None,
    seed: int | None = None,
    run_name: str | None = None,
) -> Path:
    """Where ``run_train`` with these arguments writes (and finds) its run."""
    cfg = effective_config(recipe, model, seed)
    return layout.runs / (safe_dirname(run_name) if run_name else run_id(recipe, mix, cfg))


# ---------------------------------------------------------------------------------------------- data


def ensure_mix(recipe: Recipe, layout: Layout, mix: str) -> Path:
    """The mix dataset directory with its card, built by curate and data_cards when missing."""
    canonical = parse_mix(mix).canonical
    mix_dir = layout.mix(canonical)
    if not is_complete(mix_dir):
        log.info("mix %s not built yet; building it", canonical)
        from curate.mixing import build_mix

        mix_dir = Path(build_mix(recipe, layout, mix, force=False))
        if not is_complete(mix_dir):
            raise SynthmixError(f"mix {canonical}: building it left no complete dataset at {mix_dir}")
    if not (mix_dir / "card.json").is_file():
        # The run card records the hash of the card of the data it trained on; a mix built on the fly gets
        # its card here, so that hash is never "none" for a mix synthmix built.
        from data_cards.cards import write_cards

        write_cards(recipe, layout, only=mix_dir)
    return mix_dir


def mix_facts(mix_dir: Path) -> dict[str, Any]:
    """Mix id (from its manifest) and card hash (from card.json, 'none' without a card)."""
    manifest = read_manifest(mix_dir)
    mix_id = (manifest.get("mix") or {}).get("mix_id") or manifest.get("output_hash", "unknown")
    card_hash = "none"
    card_file = mix_dir / "card.json"
    if card_file.is_file():
        try:
            card_hash = json.loads(card_file.read_text(encoding="utf-8")).get("card_hash") or "none"
        except (json.JSONDecodeError, AttributeError):
            log.warning("%s is not valid JSON; recording card hash 'none'", card_file)
    return {"mix_id": mix_id, "card_hash": card_hash, "output_hash": manifest.get("output_hash", "")}


def split_records(
    records: list[Record], *, dev_fraction: float, seed: int, max_dev: int = 0
) -> tuple[list[Record], list[Record]]:
    """(train, dev): the mix's dev split, or a seeded ``dev_fraction`` of its train split held out.

    Test records are never used for training. The hold-out is seeded by the recipe seed, not the run
    seed, so runs with different seeds see the same dev examples.
    """
    train = [r for r in records if r.split == "train"]
    dev = [r for r in records if r.split == "dev"]
    if not dev and dev_fraction > 0 and len(train) >= 2:
        order = sorted(train, key=lambda r: r.id)
        random.Random(seed).shuffle(order)
        n_dev = max(1, round(len(order) * dev_fraction))
        dev_ids = {r.id for r in order[:n_dev]}
        dev = [r for r in train if r.id in dev_ids]
        train = [r for r in train if r.id not in dev_ids]
    if max_dev and len(dev) > max_dev:
        dev = sorted(dev, key=lambda r: r.id)
        random.Random(seed).shuffle(dev)
        dev = dev[:max_dev]
    return train, dev


# ---------------------------------------------------------------------------------------------- model


def freeze_first_layers(model: Any, n_layers: int) -> int:
    """Freeze the LoRA parameters of the first ``n_layers`` transformer blocks; returns how many froze."""
    if n_layers <= 0:
        return 0
    frozen = 0
    for name, param in model.named_parameters():
        if "lora_" not in name:
            continue
        match = _LAYER_INDEX.search(name)
        if match and int(match.group(1)) < n_layers:
            param.requires_grad = False
            frozen += 1
    return frozen


def num_layers(model: Any) -> int:
    config = model.config
    return int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or 0)


def build_peft_model(model: Any, cfg: TrainConfig) -> Any:
    """LoRA on ``model`` (the RNG is seeded before, so adapter init is reproducible)."""
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    set_seed(cfg.seed)
    lora = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        bias=cfg.lora.bias,
        target_modules=cfg.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    try:
        with warnings.catch_warnings():
            # peft 0.21 still asks transformers 5 for a renamed attribute; nothing for users to act on.
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            peft_model = get_peft_model(model, lora)
    except ValueError as e:
        raise ConfigError(f"train.lora.target_modules: {e}") from None
    if cfg.freeze_layers:
        total = num_layers(model)
        if total and cfg.freeze_layers >= total:
            raise ConfigError(
                f"train.freeze_layers: {cfg.freeze_layers} freezes every one of the model's {total} blocks"
            )
        n = freeze_first_layers(peft_model, cfg.freeze_layers)
        log.info("froze %d LoRA tensors in the first %d blocks", n, cfg.freeze_layers)
    return peft_model


def check_optimizer(name: str) -> None:
    """``ConfigError`` naming train.optimizer for a name the Trainer does not know (before any loading)."""
    import difflib

    from transformers.training_args import OptimizerNames

    known = [o.value for o in OptimizerNames]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = (
            f"did you mean {' or '.join(map(repr, close))}?"
            if close
            else "e.g. 'adamw_torch' or 'paged_adamw_32bit'"
        )
        raise ConfigError(f"train.optimizer: unknown optimizer {name!r}; {hint}")


def choose_optimizer(name: str) -> str:
    """Paged optimizers page to GPU memory; without CUDA they fall back to adamw_torch (with a warning)."""
    import torch

    if "paged" in name and not torch.cuda.is_available():
        log.warning("optimizer %s needs CUDA; using adamw_torch on this machine", name)
        return "adamw_torch"
    return name


def peak_memory() -> tuple[float, str]:
    """Peak memory in MB: CUDA allocator peak on GPU, else the process's max resident set size."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20, "cuda max allocated"
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process max RSS"


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"synthmix": code_version()}
    for name in ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "tokenizers"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------------------------- entry point


def run_train(
    recipe: Recipe,
    layout: Layout,
    mix: str | None,
    *,
    model: str | None = None,
    show_masking: bool = False,
    resume: bool = False,
    merge: Path | str | None = None,
    seed: int | None = None,
    run_name: str | None = None,
    callbacks: Sequence[Any] = (),
) -> Path:
    """Train LoRA on ``mix`` and return the run directory (reused as is when already finished).

    ``callbacks`` are extra ``transformers.TrainerCallback`` objects (progress hooks, custom stopping).
    """
    if merge is not None:
        from train.merge import merge_run

        return merge_run(Path(merge))
    if not mix:
        raise ConfigError("MIX: name the mix to train on, e.g. make train MIX=synthetic+flores")
    recipe.check_mix(mix, "MIX")  # ConfigError naming MIX for a malformed spec or unknown source
    cfg = effective_config(recipe, model, seed)
    run_dir = run_dir_for(recipe, layout, mix, model=model, seed=seed, run_name=run_name)
    if is_finished(run_dir) and not show_masking:
        log.info("run %s is finished (has %s); reusing it", run_dir, RUN_JSON)
        _warn_if_mix_changed(run_dir, layout.mix(parse_mix(mix).canonical))
        return run_dir

    from train.model import resolve_model

    # Fail on a bad optimizer name or an unloadable model in seconds, before a mix is built or data tokenized.
    resolve_model(cfg.model, cfg.revision)  # first: it needs no torch import, so it answers fastest
    check_optimizer(cfg.optimizer)
    mix_dir = ensure_mix(recipe, layout, mix)
    train_records, dev_records = split_records(
        read_records(mix_dir), dev_fraction=cfg.dev_fraction, seed=recipe.seed, max_dev=cfg.max_dev_examples
    )
    if not train_records:
        raise SynthmixError(f"mix {mix_dir} has no train records; check the mix and its sources")

    if show_masking:
        from train.model import load_tokenizer

        source, local_only = resolve_model(cfg.model, cfg.revision)
        tokenizer = load_tokenizer(source, revision=cfg.revision, local_only=local_only)
        examples, _ = tokenize_records(
            train_records[:1],
            tokenizer,
            prompt_format=cfg.prompt_format,
            max_length=cfg.max_length,
            system_prompt=cfg.system_prompt,
            max_target_length=cfg.max_target_length,
        )
        if not examples:
            raise SynthmixError(
                f"the first example's prompt is longer than train.max_length={cfg.max_length}"
            )
        # The one place train prints: --show-masking is a request for this text on stdout.
        sys.stdout.write(render_masking(examples[0], tokenizer, color=sys.stdout.isatty()) + "\n")
        return run_dir

    return _train(
        recipe, cfg, mix, mix_dir, run_dir, train_records, dev_records, resume=resume, callbacks=callbacks
    )


def _warn_if_mix_changed(run_dir: Path, mix_dir: Path) -> None:
    """A reused run trained on an older build of its mix says so (the run id names the mix, not its data)."""
    if not is_complete(mix_dir):
        return
    trained_on = read_run(run_dir).get("mix", {}).get("output_hash")
    current = read_manifest(mix_dir).get("output_hash")
    if trained_on and current and trained_on != current:
        log.warning(
            "run %s was trained on an older build of mix %s (data hash %s, now %s); "
            "delete the run directory to retrain on the current data",
            run_dir.name, mix_dir.name, trained_on, current,
        )  # fmt: skip


def _portable(path: Path, run_dir: Path) -> str:
    """``path`` relative to the synthmix home (the folder holding runs/ and data/), not absolute."""
    home = run_dir.parent.parent.parent  # <home>/runs/<recipe>/<run id>
    try:
        return str(path.resolve().relative_to(home.resolve()))
    except ValueError:
        return str(path)


def _train(
    recipe: Recipe,
    cfg: TrainConfig,
    mix: str,
    mix_dir: Path,
    run_dir: Path,
    train_records: list[Record],
    dev_records: list[Record],
    *,
    resume: bool,
    callbacks: Sequence[Any] = (),
) -> Path:
    import torch
    from transformers import EarlyStoppingCallback, ProgressCallback, Trainer, TrainingArguments

    from train.model import load_model, pick_compute_dtype
    from train.plots import plot_learning_curve
    from train.progress import LoggingProgress

    started = time.time()
    checkpoints = run_dir / CHECKPOINTS
    has_checkpoint = any(checkpoints.glob("checkpoint-*"))
    if resume and not has_checkpoint:
        log.warning("--resume: %s has no checkpoint yet; starting from step 0", run_dir)
    if not resume and run_dir.exists():
        # An unfinished run from an earlier attempt: start clean rather than mix two runs' state.
        log.info("removing the unfinished run in %s (pass --resume to continue it)", run_dir)
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    model, tokenizer = load_model(
        cfg.model,
        quantization=cfg.quantization,
        compute_dtype=cfg.compute_dtype,
        revision=cfg.revision,
        double_quant=cfg.double_quant,
        for_training=True,
        gradient_checkpointing=cfg.gradient_checkpointing,
    )
    tok_kwargs: dict[str, Any] = {
        "prompt_format": cfg.prompt_format,
        "max_length": cfg.max_length,
        "system_prompt": cfg.system_prompt,
        "max_target_length": cfg.max_target_length,
    }
    train_examples, train_stats = tokenize_records(train_records, tokenizer, **tok_kwargs)
    dev_examples, dev_stats = tokenize_records(dev_records, tokenizer, **tok_kwargs)
    if not train_examples:
        raise SynthmixError(
            f"every training example's prompt fills train.max_length={cfg.max_length} tokens; raise max_length"
        )
    for split, stats in (("train", train_stats), ("dev", dev_stats)):
        if stats.truncated or stats.prompt_too_long:
            log.warning(
                "%s: %d of %d examples truncated to max_length=%d, %d dropped (prompt alone too long)",
                split, stats.truncated, stats.examples + stats.prompt_too_long, cfg.max_length, stats.prompt_too_long,
            )  # fmt: skip
    train_dataset = pack_examples(train_examples, cfg.max_length) if cfg.packing else train_examples
    eval_datasets: dict[str, list[dict[str, Any]]] = {}
    if dev_examples:
        eval_datasets["dev"] = dev_examples
        sources = sorted({ex["source"] for ex in dev_examples})
        if len(sources) > 1:
            # Per-source dev loss shows whether one source's gain is another's loss.
            for src in sources:
                eval_datasets[f"dev_{safe_dirname(src)}"] = [ex for ex in dev_examples if ex["source"] == src]
    early_stop = cfg.early_stopping_patience > 0
    if early_stop and not dev_examples:
        raise SynthmixError("train.early_stopping_patience is set but the mix yields no dev examples")

    peft_model = build_peft_model(model, cfg)
    trainable, total = peft_model.get_nb_trainable_parameters()
    log.info(
        "LoRA: %d trainable of %d parameters (%.3f%%)", trainable, total, 100 * trainable / max(total, 1)
    )

    cuda = torch.cuda.is_available()
    dtype = pick_compute_dtype(cfg.compute_dtype)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        lr_scheduler_type=cfg.scheduler,
        lr_scheduler_kwargs={"num_cycles": cfg.lr_cycles} if cfg.scheduler == "cosine_with_restarts" else {},
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        max_grad_norm=cfg.max_grad_norm,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        optim=choose_optimizer(cfg.optimizer),
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if eval_datasets else "no",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        # Best-model tracking needs a checkpoint at every evaluation.
        save_steps=cfg.eval_steps if early_stop else cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        load_best_model_at_end=early_stop,
        metric_for_best_model=DEV_METRIC if early_stop else None,
        greater_is_better=False if early_stop else None,
        seed=cfg.seed,
        data_seed=cfg.seed,
        # Grouping packed rows too: partly filled rows then share batches and padding stays near zero.
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        bf16=cuda and dtype == torch.bfloat16,
        fp16=cuda and dtype == torch.float16,
        use_cpu=not cuda,
        include_num_input_tokens_seen="non_padding",
        remove_unused_columns=False,
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    all_callbacks = list(callbacks)
    if early_stop:
        all_callbacks.append(EarlyStoppingCallback(cfg.early_stopping_patience, cfg.early_stopping_threshold))
    trainer = Trainer(
        model=peft_model,
        args=args,
        train_dataset=train_dataset,  # type: ignore[arg-type]
        eval_dataset=eval_datasets or None,  # type: ignore[arg-type]
        data_collator=CompletionCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=all_callbacks,
    )
    # Trainer's progress callback prints metric dicts to stdout; ours logs them (stdout stays for results).
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LoggingProgress())
    result = trainer.train(resume_from_checkpoint=True if resume and has_checkpoint else None)
    # The Trainer already evaluates at the last step; evaluate again only when that did not happen or
    # when the best checkpoint was loaded back (early stopping), so the card reports the adapter it saves.
    last_eval = next((e for e in reversed(trainer.state.log_history) if DEV_METRIC in e), None)
    final_dev: dict[str, Any] = {}
    if eval_datasets and (early_stop or not last_eval or last_eval.get("step") != trainer.state.global_step):
        final_dev = trainer.evaluate()
    else:  # one log entry per dev set (total and each source) at the last step
        for entry in trainer.state.log_history:
            if entry.get("step") == trainer.state.global_step:
                final_dev.update({k: v for k, v in entry.items() if k.startswith("eval_")})

    if not trainer.is_world_process_zero():
        return run_dir
    final_model: Any = trainer.model
    final_model.save_pretrained(run_dir)  # adapter_model.safetensors + adapter_config.json
    tokenizer.save_pretrained(run_dir)
    state = trainer.state
    state.save_to_json(str(run_dir / "trainer_state.json"))
    (run_dir / "log_history.json").write_text(
        json.dumps(state.log_history, indent=1) + "\n", encoding="utf-8"
    )
    plot_learning_curve(state.log_history, run_dir / "learning_curve.png", title=f"{mix} on {cfg.model}")

    train_losses = [e["loss"] for e in state.log_history if "loss" in e]
    metrics: dict[str, Any] = {"train_loss_final": train_losses[-1] if train_losses else None}
    metrics["train_loss_mean"] = result.training_loss
    metrics.update({k.removeprefix("eval_"): v for k, v in final_dev.items() if k.endswith("_loss")})
    if state.best_metric is not None:
        metrics["best_dev_loss"] = state.best_metric
    stopped_early = bool(early_stop and state.global_step < state.max_steps)
    peak_mb, peak_kind = peak_memory()
    info = {
        "run_id": run_dir.name,
        "recipe": {
            "name": recipe.name,
            "path": recipe.path,
            "config_hash": config_hash_for(recipe, "train", run_dir.name),
        },
        "base_model": {
            "name": cfg.model,
            "revision": cfg.revision or getattr(model.config, "_commit_hash", None) or "local",
            "quantization": cfg.quantization,
            "compute_dtype": str(dtype).removeprefix("torch."),
            "memory_footprint_mb": round(model.get_memory_footprint() / 2**20, 3),
        },
        "mix": {"spec": parse_mix(mix).canonical, "dir": _portable(mix_dir, run_dir), **mix_facts(mix_dir)},
        "seed": cfg.seed,
        "train_config": as_table(cfg),
        "train_config_hash": stable_hash(as_table(cfg)),
        "data": {"train": train_stats.as_dict(), "dev": dev_stats.as_dict()},
        "packed_rows": len(train_dataset) if cfg.packing else None,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "global_step": state.global_step,
        "epochs_done": state.epoch,
        "stopped_early": stopped_early,
        "best_checkpoint": Path(state.best_model_checkpoint).name if state.best_model_checkpoint else None,
        "tokens_seen": int(state.num_input_tokens_seen),
        "metrics": metrics,
        "wall_seconds": round(time.time() - started, 2),
        "peak_memory_mb": round(peak_mb, 1),
        "peak_memory_kind": peak_kind,
        "device": "cuda" if cuda else "cpu",
        "versions": library_versions(),
        "command": f"synthmix train --recipe {recipe.path or recipe.name} --mix '{mix}' --model {cfg.model}"
        + (f" --set train.seed={cfg.seed}" if cfg.seed != recipe.train.seed else ""),
        "created_unix": round(time.time(), 3),
    }
    write_run_card(run_dir, info)
    log.info(
        "run finished: %s (train loss %s, dev loss %s)",
        run_dir,
        metrics["train_loss_final"],
        metrics.get("dev_loss"),
    )
    return run_dir
