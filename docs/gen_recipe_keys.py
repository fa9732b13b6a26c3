"""Print the recipe key reference (every key, its type, default and meaning) as markdown.

    .venv/bin/python docs/gen_recipe_keys.py            # print the markdown
    .venv/bin/python docs/gen_recipe_keys.py --write    # replace the key reference in docs/recipes.md

Meanings come from the comment beside each field in synthmix/config/*.py, else from ``MEANINGS`` below;
keys with neither are listed with an empty meaning, which is the cue to write one.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthmix.config.curate import CurateConfig, MixConfig
from synthmix.config.evaluate import ConditionConfig, EvalConfig, GateConfig
from synthmix.config.sources import (
    FilesSourceConfig,
    HubSourceConfig,
    WikipediaSourceConfig,
    _SourceCommon,
)
from synthmix.config.synth import SynthJobConfig
from synthmix.config.train import TrainConfig

MEANINGS = {
    "kind": "record kind: translation | qa | instruction | passage",
    "lang": "language of every side (qa, instruction, passage), ISO 639-1 or FLORES code",
    "src_lang": "source language of a translation pair",
    "tgt_lang": "target language of a translation pair",
    "license": "license recorded in every record's meta and the data card",
    "split.test": "share of the (limited) records held out as the test split",
    "split.dev": "share held out as the dev split",
    "split.seed": "seed of the split (recorded in the manifest)",
    "path": "local file (files) or off-topic questions file (gate)",
    "format": "file format; auto picks by extension",
    "dataset": "Hub dataset id (or a local dataset directory)",
    "config": "Hub dataset config name (Samanantar: the target language, e.g. te)",
    "revision": "Hub revision (branch, tag or commit) to pin",
    "titles": "article titles to fetch",
    "search": "a search query whose results are fetched",
    "category": "a category whose members are fetched",
    "category_depth": "how many levels of subcategories to follow",
    "max_pages": "cap on fetched articles",
    "passage_sentences": "sentences per passage (passages never cross sections)",
    "passage_max_chars": "cap on passage length in characters (0 = none)",
    "requests_per_second": "polite request rate to the MediaWiki API",
    "generator": "translation | qa | instruction",
    "from": "the source whose train split seeds the prompts (few-shot examples or passages)",
    "records": "records to generate",
    "per_request": "pairs / QA items asked for in one request",
    "few_shot": "examples shown per request (synth) or in-context shots (eval default few-shot and multiple choice)",
    "template": "prompt template id name@vN (empty = the generator's default)",
    "topics": "topics to steer generation across",
    "registers": "registers / styles to steer generation across",
    "question_types": "question types the QA generator asks for",
    "llm.backend": "groq | openai | transformers | recorded",
    "llm.model": "model name, hub id or local path",
    "llm.temperature": "sampling temperature",
    "llm.top_p": "nucleus sampling",
    "llm.max_tokens": "completion tokens per request (also the plan's upper bound)",
    "llm.seed": "sampling seed (part of the cache key)",
    "llm.json_mode": "ask for JSON output where the backend supports it",
    "llm.timeout_s": "seconds per request",
    "llm.max_retries": "retries on 429/5xx/timeouts",
    "llm.concurrency": "requests in flight",
    "llm.requests_per_minute": "client-side request rate limit",
    "price.prompt_per_million": "USD per million prompt tokens (cost estimates)",
    "price.completion_per_million": "USD per million completion tokens",
    "r": "LoRA rank",
    "alpha": "LoRA alpha (scaling = alpha / r)",
    "dropout": "LoRA dropout",
    "bias": "which biases LoRA trains",
    "model": "base model: Hub id or local directory",
    "quantization": "4bit (QLoRA, nf4) | 8bit | none (plain LoRA)",
    "compute_dtype": "compute dtype of the quantized layers; auto picks bf16 where supported",
    "double_quant": "nested quantization of the 4-bit constants",
    "prompt_format": "chat_template | inst ([INST]) | human_assistant (### Human:) | chatml | plain",
    "system_prompt": "system message in every prompt (training and evaluation)",
    "epochs": "training epochs",
    "batch_size": "per-device train batch size",
    "eval_batch_size": "per-device dev-loss batch size",
    "grad_accum": "gradient accumulation steps",
    "learning_rate": "peak learning rate",
    "weight_decay": "AdamW weight decay",
    "scheduler": "learning-rate schedule",
    "warmup_ratio": "share of steps spent warming up",
    "max_grad_norm": "gradient clipping",
    "max_length": "tokens per example (prompt + answer); longer ones are truncated and counted",
    "packing": "pack several examples into one sequence",
    "group_by_length": "batch examples of similar length (less padding)",
    "gradient_checkpointing": "trade compute for memory",
    "eval_steps": "steps between dev-loss evaluations",
    "logging_steps": "steps between log lines / learning-curve points",
    "save_steps": "steps between checkpoints",
    "save_total_limit": "checkpoints kept",
    "seed": "random seed",
    "normalize": "Unicode NFC, whitespace and markup clean-up",
    "exact": "exact dedup on normalized fields",
    "near": "near-dup with MinHash + LSH",
    "num_perm": "MinHash permutations",
    "dedup.threshold": "estimated Jaccard similarity at or above which two records are near-duplicates",
    "gate.threshold": "on-topic probability at or above which a question counts as on-topic",
    "type": "source type: files | hub | wikipedia",
    "budget_usd": "0 = unlimited; the job stops cleanly when the estimated cost reaches it",
    "retry_max_s": "cap on one backoff wait",
    "max_repeated_char_run": "longest run of one repeated character kept",
    "max_repeated_line_fraction": "largest share of repeated lines kept",
    "max_markup_fraction": "largest share of markup/code characters kept in prose",
    "executor": "local (in-process, the default) or ray (Ray Data; identical output)",
    "ray_address": "connect to this Ray cluster instead of starting a local Ray",
    "randomization_trials": "approximate-randomization trials (significance = randomization)",
    "pairwise_template": "judge prompt id for pairwise comparisons",
    "gate.seed": "seed of the gate's held-out split and of the classifier",
    "gate.enabled": "train the relevance gate with the recipe (`synthmix gate`) and report its metrics",
    "judge.enabled": "score every generated answer 1-5 with an LLM judge",
    "langid.enabled": "check every side's language",
    "decontam.enabled": "drop training records that overlap a registered eval split",
    "word_ngram": "word shingle length",
    "char_ngram": "character shingle length",
    "enabled": "turn this step on or off",
    "engine": "language-ID engine",
    "min_confidence": "minimum detector confidence for the declared language",
    "min_chars": "shortest text that is judged / kept",
    "max_chars": "longest text kept",
    "min_words": "fewest words kept",
    "ngram": "word n-gram length of the overlap test",
    "budget_unit": "what the budget counts",
    "name": "condition name (its directory under reports/<recipe>/conditions/)",
    "mix": "the mix a condition trains on (empty = the base model)",
    "shots": "in-context examples from the train split (base conditions)",
    "seeds": "seeds every condition is run with",
    "batch_size@eval": "generation batch size",
    "max_new_tokens": "generation cap per answer",
    "bootstrap_samples": "paired bootstrap resamples",
    "significance": "significance test",
    "alpha@eval": "significance level (Holm-corrected)",
    "judge.pairwise": "also compare each condition with the base, both orders",
    "judge.llm": "the judge model (same keys as synth.<job>.llm)",
    "test_fraction": "share of the gate's questions held out for its metrics",
    "topic_source": "the QA source whose questions are on-topic",
}


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is typing.Literal:
        return " \\| ".join(repr(a).replace("'", '"') for a in get_args(tp))
    if origin in (typing.Union, __import__("types").UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None)) + (
            " (optional)" if type(None) in get_args(tp) else ""
        )
    if origin in (list, tuple):
        return f"list of {_type_name(get_args(tp)[0])}" if get_args(tp) else "list"
    if origin is dict:
        return "table"
    if dataclasses.is_dataclass(tp):
        return "table"
    return getattr(tp, "__name__", str(tp))


def _comments(cls: type) -> dict[str, str]:
    """Field name -> the comment on its line, or on the comment lines just above it."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        above: list[str] = []
        for line in inspect.getsource(klass).splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                above.append(stripped.lstrip("# ").strip())
                continue
            m = re.match(r"\s+(\w+):\s[^=]+(?:=.*?)?(?:#\s*(.*))?$", line)
            if m and not stripped.startswith(("def ", "require", "return", '"""')):
                text = " ".join([*above, m.group(2) or ""]).strip()
                if text:
                    out[m.group(1)] = text
            above = []
    return out


def _default_value(f: dataclasses.Field[Any], instance: Any) -> Any:
    if instance is not None:
        return getattr(instance, f.name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _default(f: dataclasses.Field[Any], instance: Any = None) -> str:
    value = _default_value(f, instance)
    if value is dataclasses.MISSING:
        return "(required)"
    if dataclasses.is_dataclass(value):
        return ""
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | tuple):
        return "`[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{value}`"


def rows(cls: type, prefix: str, section: str, instance: Any = None) -> list[str]:
    hints = typing.get_type_hints(cls)
    comments = _comments(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = f.name.rstrip("_")
        full = f"{prefix}{key}"
        tp = hints[f.name]
        # Nested tables (not lists of tables, which get their own section).
        nested = tp if dataclasses.is_dataclass(tp) else None
        if nested is None and get_origin(tp) not in (list, tuple):
            for arg in get_args(tp):
                if dataclasses.is_dataclass(arg):
                    nested = arg
        meaning = comments.get(f.name) or next(
            (MEANINGS[k] for k in (f"{key}@{section}", ".".join(full.split(".")[-2:]), key) if k in MEANINGS),
            "",
        )
        meaning = meaning.replace("|", "\\|")
        if nested is not None:
            out.append(f"| `{full}` | table | | {meaning} |")
            value = _default_value(f, instance)
            sub = value if dataclasses.is_dataclass(value) else None
            out += rows(nested, f"{full}.", section, sub)
            continue
        out.append(f"| `{full}` | {_type_name(tp)} | {_default(f, instance)} | {meaning} |")
    return out


BEGIN, END = "<!-- recipe-keys:begin (generated) -->", "<!-- recipe-keys:end -->"


def main() -> None:
    if "--write" in sys.argv:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            render()
        doc = Path(__file__).resolve().parent / "recipes.md"
        text = doc.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        doc.write_text(text[:start] + "\n\n" + buf.getvalue().strip() + "\n\n" + text[end:], encoding="utf-8")
        return
    render()


def render() -> None:
    head = "| key | type | default | meaning |\n|---|---|---|---|"
    sections = [
        ("Common to every source (`[sources.<name>]`)", _SourceCommon, "sources.<name>.", "sources"),
        ('`type = "files"`', FilesSourceConfig, "sources.<name>.", "sources"),
        ('`type = "hub"`', HubSourceConfig, "sources.<name>.", "sources"),
        ('`type = "wikipedia"`', WikipediaSourceConfig, "sources.<name>.", "sources"),
        ("`[synth.<name>]`", SynthJobConfig, "synth.<name>.", "synth"),
        ("`[curate]`", CurateConfig, "curate.", "curate"),
        ("`[mix]`", MixConfig, "mix.", "mix"),
        ("`[train]`", TrainConfig, "train.", "train"),
        ("`[eval]`", EvalConfig, "eval.", "eval"),
        (
            "`[[eval.conditions]]` (one row of the experiment matrix)",
            ConditionConfig,
            "eval.conditions[].",
            "eval",
        ),
        ("`[gate]`", GateConfig, "gate.", "gate"),
    ]
    common = {f.name for f in dataclasses.fields(_SourceCommon)}
    print("Top level: `name` (default: the file name), `description`, `seed` (default 13).\n")
    for title, cls, prefix, section in sections:
        body = rows(cls, prefix, section)
        if cls in (FilesSourceConfig, HubSourceConfig, WikipediaSourceConfig):
            body = [
                r
                for r in body
                if r.split("`")[1].split(".")[2] not in common
                or (r.startswith("| `sources.<name>.kind`") and cls is WikipediaSourceConfig)
            ]
        print(f"#### {title}\n\n{head}")
        print("\n".join(body))
        print()


if __name__ == "__main__":
    main()
