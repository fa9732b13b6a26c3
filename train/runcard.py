"""The run card: ``run.json`` (machine-readable, written last: it marks a run finished) and ``README.md``.

The README is a Hugging Face model card (YAML front matter with ``base_model`` and ``library_name: peft``)
so the run directory can be pushed to the Hub as is. Both pass through ``synthmix.redact``: no secrets,
absolute paths or user names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from synthmix.redact import redact

RUN_JSON = "run.json"
README = "README.md"


def is_finished(run_dir: Path) -> bool:
    return (Path(run_dir) / RUN_JSON).is_file()


def read_run(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(run_dir) / RUN_JSON).read_text(encoding="utf-8"))
    return data


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def render_readme(info: dict[str, Any]) -> str:
    base = info["base_model"]
    train = info["train_config"]
    metrics = info["metrics"]
    mix = info["mix"]
    lines = [
        "---",
        f"base_model: {base['name']}",
        "library_name: peft",
        "pipeline_tag: text-generation",
        "tags: [synthmix, lora, " + ("qlora" if train["quantization"] == "4bit" else "peft") + "]",
        "---",
        "",
        f"# {info['run_id']}",
        "",
        f"LoRA adapter for **{base['name']}** (revision `{base['revision']}`) trained by synthmix on the mix "
        f"**{mix['spec']}** (mix id `{mix['mix_id']}`, card hash `{mix['card_hash']}`), recipe "
        f"`{info['recipe']['name']}`, seed {info['seed']}.",
        "",
        "## Load it",
        "",
        "```python",
        "from train.model import load_model, load_adapter",
        f'model, tok = load_model("{base["name"]}", quantization="{train["quantization"]}", for_training=False)',
        'model = load_adapter(model, "<this directory>")',
        "```",
        "",
        "Or with peft alone: `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), dir)`.",
        "",
        "## Data",
        "",
        "| split | examples | truncated | dropped (prompt too long) | prompt tokens | completion tokens |",
        "|---|---|---|---|---|---|",
    ]
    for split, s in info["data"].items():
        lines.append(
            f"| {split} | {s['examples']} | {s['truncated']} | {s['prompt_too_long']} | "
            f"{s['prompt_tokens']} | {s['completion_tokens']} |"
        )
    lines += [
        "",
        "Examples by source (train): "
        + ", ".join(f"{k} {v}" for k, v in info["data"]["train"]["by_source"].items()),
        "",
    ]
    lines += ["## Results", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in metrics.items()]
    lines += [
        "",
        f"Tokens seen: {info['tokens_seen']}; optimizer steps: {info['global_step']}"
        + (" (stopped early)" if info.get("stopped_early") else "")
        + f"; wall time {info['wall_seconds']:.1f} s; peak memory {info['peak_memory_mb']:.0f} MB "
        f"({info['peak_memory_kind']}).",
        "",
        "![learning curve](learning_curve.png)",
        "",
        "## Hyperparameters",
        "",
        "| key | value |",
        "|---|---|",
    ]
    for key, value in train.items():
        if isinstance(value, dict):
            lines += [f"| {key}.{k} | {_fmt(v)} |" for k, v in value.items()]
        else:
            lines.append(f"| {key} | {_fmt(value)} |")
    lines += [
        "",
        "## Environment",
        "",
        ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + f"; device: {info['device']}.",
        "",
        "Reproduce: `" + info["command"] + "`",
        "",
    ]
    return "\n".join(lines)


def write_run_card(run_dir: Path, info: dict[str, Any]) -> None:
    """README.md first, then run.json atomically (a run with run.json is finished)."""
    run_dir = Path(run_dir)
    info = redact(info)
    (run_dir / README).write_text(render_readme(info), encoding="utf-8")
    tmp = run_dir / f".{RUN_JSON}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, run_dir / RUN_JSON)
