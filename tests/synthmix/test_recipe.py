from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.config.sources import FilesSourceConfig
from synthmix.errors import ConfigError
from synthmix.mixspec import parse_mix
from synthmix.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.toml"))


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_every_recipe_validates_and_starts_with_its_command(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# make ") or first.startswith("# synthmix "), first


def test_recipes_exist():
    assert {"default.toml", "sample.toml"} <= {p.name for p in RECIPES}


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pairs.tsv").write_text("de\tfr\nHallo\tSalut\n", encoding="utf-8")
    p = tmp_path / "r.toml"
    p.write_text(body, encoding="utf-8")
    return p


BASE = """
name = "t"
[sources.flores]
type = "files"
path = "pairs.tsv"
columns = { src = "de", tgt = "fr" }
"""


def test_minimal_recipe_parses_with_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    r = load_recipe(_write(tmp_path, BASE))
    src = r.sources["flores"]
    assert isinstance(src, FilesSourceConfig) and src.columns == {"src": "de", "tgt": "fr"}
    assert r.train.lora.r == 16 and r.curate.dedup.threshold == 0.8


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[train]\nlora = { rank = 8 }\n", "train.lora.rank: unknown key"),
        ('[train]\nepochs = "three"\n', "train.epochs: expected a number"),
        ("[train.lora]\nr = 0\n", "train.lora.r: must be > 0"),
        ('[curate.dedup]\nshingle = "bytes"\n', "curate.dedup.shingle: must be one of"),
        (
            '[mix]\nbuild = ["synthetic+flores"]\n',
            "mix.build[0]: mix 'synthetic+flores' names unknown source 'synthetic'",
        ),
        ('[mix]\nbuild = ["flores:x"]\n', "mix.build[0]: weight 'x'"),
        (
            '[synth.s]\ngenerator = "translation"\nfrom = "nope"\n',
            "synth.s.from: names unknown source 'nope'",
        ),
        ('[sources.w]\ntype = "web"\n', "sources.w.type: must be one of"),
        (
            '[sources.x]\ntype = "files"\npath = "missing.tsv"\n',
            "sources.x.path: file not found: missing.tsv",
        ),
        ("traine = 1\n", "traine: unknown key (did you mean 'train'?)"),
    ],
)
def test_bad_recipes_name_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, message: str):
    monkeypatch.chdir(tmp_path)
    # Top-level keys must come before the first table in TOML.
    body = extra + BASE if not extra.startswith("[") else BASE + extra
    with pytest.raises(ConfigError) as e:
        load_recipe(_write(tmp_path, body))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_set_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, BASE)
    r = load_recipe(path, ["train.lora.r=8", "train.model=runs/tiny", "mix.build=['flores']", "seed=7"])
    assert (r.train.lora.r, r.train.model, r.mix.build, r.seed) == (8, "runs/tiny", ["flores"], 7)
    with pytest.raises(ConfigError, match="train.lora.r: expected an integer"):
        load_recipe(path, ["train.lora.r='eight'"])
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        load_recipe(path, ["train.lora.r"])


def test_recipe_hash_follows_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, BASE)
    assert load_recipe(path).hash() == load_recipe(path).hash()
    assert load_recipe(path).hash() != load_recipe(path, ["train.lora.r=8"]).hash()


def test_mix_specs():
    assert parse_mix("synthetic+flores").parts == (("synthetic", 0.5), ("flores", 0.5))
    assert (
        parse_mix("flores+synthetic").canonical
        == parse_mix("synthetic+flores").canonical
        == "flores+synthetic"
    )
    w = parse_mix("synthetic:3+flores:7")
    assert dict(w.parts) == pytest.approx({"synthetic": 0.3, "flores": 0.7})
    for bad, msg in [
        ("a+a", "twice"),
        ("a:1+b", "every source"),
        ("a:-1", "> 0"),
        ("a b", "not a source name"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            parse_mix(bad)


def test_check_mix_outside_loading_raises_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    r = load_recipe(_write(tmp_path, BASE))
    r.check_mix("flores")
    with pytest.raises(ConfigError, match="MIX: mix 'flores\\+web' names unknown source 'web'"):
        r.check_mix("flores+web")
    with pytest.raises(ConfigError, match="MIX: weight"):
        r.check_mix("flores:abc")
