"""Shared set-up for eval tests: a recipe on a tiny model and curated datasets written with the real store."""

from __future__ import annotations

from pathlib import Path

from synthmix.layout import Layout
from synthmix.recipe import Recipe, load_recipe
from synthmix.record import Record
from synthmix.store import write_dataset

ROOT = Path(__file__).resolve().parents[2]


def sample_pairs(n: int, offset: int = 0) -> list[tuple[str, str]]:
    lines = (ROOT / "samples" / "parallel" / "de-fr.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(line.split("\t")[:2]) for line in lines[offset : offset + n]]  # type: ignore[misc]


def write_curated(
    layout: Layout,
    source: str,
    train: list[tuple[str, str]],
    test: list[tuple[str, str]],
    origin: str = "real",
) -> Path:
    records = [
        Record(
            kind="translation",
            origin=origin,
            source=source,
            fields={"src": s, "tgt": t},
            split=split,
            src_lang="de",
            tgt_lang="fr",
        )
        for split, pairs in (("train", train), ("test", test))
        for s, t in pairs
    ]
    path = layout.curate(source)
    write_dataset(path, records, stage="curate", config_hash="test")
    return path


def make_recipe(
    tmp_path: Path, model_dir: Path, eval_table: str = "", train_table: str = "", sources_table: str = ""
) -> Recipe:
    """A recipe on ``model_dir`` (unquantized, plain prompts); the tables are TOML lines for each section."""
    (tmp_path / "pairs.tsv").write_text("de\tfr\nHallo\tSalut\n", encoding="utf-8")
    eval_defaults = {"batch_size": "4", "max_new_tokens": "12", "bootstrap_samples": "200"}
    given = {line.split("=")[0].strip() for line in eval_table.splitlines() if "=" in line}
    eval_lines = [f"{k} = {v}" for k, v in eval_defaults.items() if k not in given]
    body = f"""
name = "evaltest"
[sources.flores]
type = "files"
path = "{(tmp_path / "pairs.tsv").as_posix()}"
columns = {{ src = "de", tgt = "fr" }}
src_lang = "de"
tgt_lang = "fr"
{sources_table}
[train]
model = "{model_dir.as_posix()}"
quantization = "none"
prompt_format = "plain"
{train_table}
[eval]
{chr(10).join(eval_lines)}
{eval_table}
"""
    path = tmp_path / "evaltest.toml"
    path.write_text(body, encoding="utf-8")
    return load_recipe(path)
