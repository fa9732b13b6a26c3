"""Recipes: one TOML file per experiment, parsed into a frozen ``Recipe`` before anything runs.

    from synthmix.recipe import load_recipe
    recipe = load_recipe("recipes/sample.toml", overrides=["train.lora.r=8"])

Sections: top-level ``name``/``description``/``seed``, ``[sources.<name>]`` (synthmix.config.sources),
``[synth.<name>]`` (synthmix.config.synth), ``[curate]`` and ``[mix]`` (synthmix.config.curate), ``[train]``
(synthmix.config.train), ``[eval]`` and ``[gate]`` (synthmix.config.evaluate). Unknown keys, wrong types,
dangling source names and missing files raise ``ConfigError`` naming the key or path (the CLI exits 2).
Relative paths in a recipe are relative to the directory you run synthmix from (the project root).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config.base import as_table, parse, require
from synthmix.config.curate import CurateConfig, MixConfig
from synthmix.config.evaluate import EvalConfig, GateConfig
from synthmix.config.sources import FilesSourceConfig, SourceConfig, WikipediaSourceConfig
from synthmix.config.synth import SynthJobConfig
from synthmix.config.train import TrainConfig
from synthmix.errors import ConfigError
from synthmix.hashing import stable_hash
from synthmix.mixspec import parse_mix

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str = ""
    seed: int = 13
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    synth: dict[str, SynthJobConfig] = field(default_factory=dict)
    curate: CurateConfig = field(default_factory=CurateConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    # Where the recipe was read from (not a TOML key); set by load_recipe.
    path: str = field(default="", init=False, compare=False)

    def __post_init__(self) -> None:
        require(bool(_NAME.match(self.name)), "name", f"use letters, digits, _ . - only, got {self.name!r}")
        clash = set(self.sources) & set(self.synth)
        require(not clash, "synth", f"synth job names clash with source names: {sorted(clash)}")
        for name in [*self.sources, *self.synth]:
            require(bool(_NAME.match(name)), "sources", f"source name {name!r}: letters, digits, _ . - only")
        for name, job in self.synth.items():
            require(
                job.from_ in self.sources or job.from_ in self.synth,
                f"synth.{name}.from",
                f"names unknown source {job.from_!r}; known: {', '.join(self.source_names) or 'none'}",
            )
        for i, spec in enumerate(self.mix.build):
            self.check_mix(spec, f"mix.build[{i}]")
        for i, cond in enumerate(self.eval.conditions):
            if cond.mix:
                self.check_mix(cond.mix, f"eval.conditions[{i}].mix")
        for name in self.curate.priority:
            require(name in self.source_names, "curate.priority", f"names unknown source {name!r}")
        for name in self.eval.test_sources:
            require(name in self.source_names, "eval.test_sources", f"names unknown source {name!r}")
        if self.gate.enabled:
            require(
                self.gate.topic_source in self.source_names,
                "gate.topic_source",
                f"names unknown source {self.gate.topic_source!r}",
            )

    @property
    def source_names(self) -> list[str]:
        """Every curated source a mix can name: real sources and synth jobs."""
        return [*self.sources, *self.synth]

    def check_mix(self, spec: str, key: str = "MIX") -> None:
        """``ConfigError`` naming ``key`` when ``spec`` is malformed or names a source this recipe lacks."""
        # Raised as ConfigError even inside __post_init__: parse() passes it through unchanged (its message
        # already names the full key) and load_recipe prefixes the recipe path.
        mix = parse_mix(spec, key)
        for name in mix.sources:
            if name not in self.source_names:
                raise ConfigError(
                    f"{key}: mix {spec!r} names unknown source {name!r}; known: {', '.join(self.source_names)}"
                )

    def table(self) -> dict[str, Any]:
        """The recipe as a plain table (for manifests and plans)."""
        data: dict[str, Any] = as_table(self)
        data.pop("path", None)
        return data

    def hash(self) -> str:
        return stable_hash(self.table())


def _set_override(data: dict[str, Any], assignment: str) -> None:
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {assignment!r}: expected key.sub=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string: --set train.model=runs/tiny
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {key}: {part!r} is not a table")
        node = child
    node[parts[-1]] = value


def load_recipe(
    path: str | Path, overrides: list[str] | tuple[str, ...] = (), check_files: bool = True
) -> Recipe:
    """Read, override and validate a recipe. Raises ``ConfigError`` naming the key or path."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: recipe file not found (recipes live in recipes/*.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    for assignment in overrides:
        _set_override(data, assignment)
    data.setdefault("name", path.stem)
    try:
        recipe = parse(Recipe, data, "")
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    recipe = _with_path(recipe, str(path))
    if check_files:
        check_recipe_files(recipe)
    return recipe


def _with_path(recipe: Recipe, path: str) -> Recipe:
    object.__setattr__(recipe, "path", path)
    return recipe


def check_recipe_files(recipe: Recipe) -> None:
    """Local files a recipe names must exist before anything runs."""
    for name, src in recipe.sources.items():
        if isinstance(src, FilesSourceConfig) and not Path(src.path).exists():
            raise ConfigError(f"{recipe.path}: sources.{name}.path: file not found: {src.path}")
        if isinstance(src, WikipediaSourceConfig) and src.html_dir and not Path(src.html_dir).is_dir():
            raise ConfigError(f"{recipe.path}: sources.{name}.html_dir: folder not found: {src.html_dir}")
    if recipe.eval.multiple_choice and not Path(recipe.eval.multiple_choice).exists():
        raise ConfigError(
            f"{recipe.path}: eval.multiple_choice: file not found: {recipe.eval.multiple_choice}"
        )
    if recipe.gate.enabled and recipe.gate.offtopic_path and not Path(recipe.gate.offtopic_path).exists():
        raise ConfigError(f"{recipe.path}: gate.offtopic_path: file not found: {recipe.gate.offtopic_path}")
