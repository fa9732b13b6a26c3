"""Every recipe: validates, prints a plan for every command with --dry-run, and runs offline end to end.

The offline runs substitute, through ``--set`` only (no edited recipe files): Hub and Wikipedia sources by
the local files and saved pages in samples/, Groq generation and the LLM judge by the ``recorded`` backend
(hand-written responses), the 2B-8B models by a tiny Llama built from a config, and the long trainings by
one step. Each recipe's own conditions, prompt format, metrics, gate and curation settings stay as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmix.cli import main
from synthmix.recipe import load_recipe

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(p.stem for p in (ROOT / "recipes").glob("*.toml"))
REFERENCE_RECIPES = ["wiki-topic-qa", "classical-chinese", "telugu-samanantar", "turkish-instruct-mix"]
DRY_RUN_COMMANDS = ["corpus", "ingest", "synth", "curate", "mix", "card", "train", "eval", "compare"]
FIXTURES = ROOT / "tests" / "fixtures" / "recipes"


def test_the_reference_recipes_exist():
    assert set(REFERENCE_RECIPES) | {"default", "sample"} <= set(RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_validates_and_its_header_says_how_to_run_it(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    recipe = load_recipe(ROOT / "recipes" / f"{name}.toml")
    assert recipe.name == name
    header = []
    for line in (ROOT / "recipes" / f"{name}.toml").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert header[0].startswith("# make corpus"), header[0]
    if name != "default":
        assert f"RECIPE=recipes/{name}.toml" in header[0]
    if name in REFERENCE_RECIPES:
        text = "\n".join(header)
        assert "Reference experiment" in text and "Hardware:" in text


@pytest.mark.parametrize("command", DRY_RUN_COMMANDS)
@pytest.mark.parametrize("name", RECIPES)
def test_dry_run_prints_the_plan(
    name: str, command: str, in_tmp_project: Path, capsys: pytest.CaptureFixture[str]
):
    assert main([command, "--recipe", f"recipes/{name}.toml", "--dry-run"]) == 0
    out = capsys.readouterr().out
    recipe = load_recipe(f"recipes/{name}.toml")
    assert out.startswith(f"plan for `synthmix {command}` with recipe {name!r}")
    assert "this command runs: " in out and "stages and outputs:" in out
    for source in recipe.sources:
        assert f"  {source}: " in out
    for job in recipe.synth:
        assert f"  {job}: {recipe.synth[job].generator} from " in out
    for cond in recipe.eval.conditions:
        assert f"{cond.name}({cond.mix or 'base'}, {cond.shots}-shot" in out
    assert "estimated API tokens: <= " in out and "runs: " in out and "evaluations: " in out
    assert not (in_tmp_project / "data").exists() and not (in_tmp_project / "runs").exists()


def _plan(command: str, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([command, "--recipe", f"recipes/{name}.toml", "--dry-run"]) == 0
    return capsys.readouterr().out


def test_dry_run_token_estimates_follow_the_command(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]):
    # wiki_qa: 720 records / 4 per request = 180 requests x (350 + 5 x 80) prompt + 180 x 1024 completion.
    assert "estimated API tokens: <= 319320 (135000 prompt, 184320 completion) for `corpus`" in _plan(
        "corpus", "wiki-topic-qa", capsys
    )
    # Training and evaluation spend no API tokens without a judge; compare builds a missing corpus first.
    assert "estimated API tokens: <= 0 (0 prompt, 0 completion) for `train`" in _plan(
        "train", "wiki-topic-qa", capsys
    )
    assert "estimated API tokens: <= 319320 (135000 prompt, 184320 completion) for `compare`" in _plan(
        "compare", "wiki-topic-qa", capsys
    )
    # The judge: 4 conditions x 80 items (judge.max_items) = 320 requests of (700 + 512) prompt + 512 completion.
    plan = _plan("compare", "turkish-instruct-mix", capsys)
    assert "judge: openai:gpt-4o, 320 requests, <= 387840 prompt + 163840 completion tokens" in plan
    assert "estimated API tokens: <= 551680 (387840 prompt, 163840 completion) for `compare`" in plan
    assert "estimated API tokens: <= 0 (0 prompt, 0 completion) for `corpus`" in _plan(
        "corpus", "turkish-instruct-mix", capsys
    )
    # Recorded responses are local: the offline sample spends nothing.
    plan = _plan("corpus", "sample", capsys)
    assert "local (no API tokens)" in plan and "estimated API tokens: <= 0 " in plan
    plan = _plan("corpus", "wiki-topic-qa", capsys)
    assert "gate    wiki_qa" in plan and "runs/wiki-topic-qa/gate/metrics.json" in plan


# ---- offline end to end ------------------------------------------------------------------------------------

SAMPLE_PAIRS = 'path = "samples/parallel/de-fr.tsv", kind = "translation", columns = { src = "de", tgt = "fr" }, src_lang = "de", tgt_lang = "fr"'
SAMPLE_QA_AS_INSTRUCTIONS = 'path = "samples/qa/gutenberg_qa.tsv", kind = "instruction", lang = "de", columns = { instruction = "question", response = "answer" }'
SAMPLE_PAIRS_AS_INSTRUCTIONS = 'path = "samples/parallel/de-fr.tsv", kind = "instruction", lang = "de", columns = { instruction = "de", response = "fr" }'


def _recorded(job: str, responses: str, records: int, per_request: int) -> list[str]:
    return [
        f"synth.{job}.llm.backend=recorded",
        f"synth.{job}.llm.model=hand-written-sample",
        f"synth.{job}.llm.responses={responses}",
        f"synth.{job}.llm.requests_per_minute=6000",
        f"synth.{job}.records={records}",
        f"synth.{job}.per_request={per_request}",
    ]


# Per recipe: what replaces the network (sources, generators, judge) and what is shrunk to fit a test.
OFFLINE: dict[str, list[str]] = {
    "sample": [],
    "default": [
        f"sources.flores={{ type = 'files', {SAMPLE_PAIRS}, split = {{ test = 0.2, seed = 13 }} }}".replace(
            "'", '"'
        ),
        "sources.wiki.html_dir=samples/wiki/de",
        *_recorded("synthetic", "samples/synth/translation_de_fr.jsonl", 40, 10),
        *_recorded("wiki_qa", "samples/synth/qa_de.jsonl", 24, 3),
        "mix.budget=30",
    ],
    "wiki-topic-qa": [
        "sources.wiki.html_dir=samples/wiki/de",
        *_recorded("wiki_qa", "samples/synth/qa_de.jsonl", 24, 3),
        "train.freeze_layers=1",  # the tiny model has 2 blocks, Falcon-7B 32
    ],
    "classical-chinese": [
        f'sources.classical={{ type = "files", {SAMPLE_PAIRS}, limit = 60, split = {{ test = 0.2, seed = 13 }} }}',
    ],
    "telugu-samanantar": [
        f'sources.samanantar_1m={{ type = "files", {SAMPLE_PAIRS}, limit = 80, split = {{ test = 0.2, seed = 13 }} }}',
        f'sources.samanantar_100k={{ type = "files", {SAMPLE_PAIRS}, limit = 40, eval = false }}',
        f'sources.samanantar_10k={{ type = "files", {SAMPLE_PAIRS}, limit = 20, eval = false }}',
        f'sources.guanaco={{ type = "files", {SAMPLE_QA_AS_INSTRUCTIONS}, split = {{ test = 0.2, seed = 13 }} }}',
    ],
    "turkish-instruct-mix": [
        f'sources.aya_tr={{ type = "files", {SAMPLE_QA_AS_INSTRUCTIONS}, limit = 40, split = {{ test = 0.2, seed = 13 }} }}',
        f'sources.no_robots_tr={{ type = "files", {SAMPLE_PAIRS_AS_INSTRUCTIONS}, limit = 30, split = {{ test = 0.2, seed = 1 }} }}',
        f'sources.lima_tr={{ type = "files", {SAMPLE_PAIRS_AS_INSTRUCTIONS}, limit = 30, split = {{ test = 0.2, seed = 2 }} }}',
        f'sources.instructions_tr={{ type = "files", {SAMPLE_PAIRS_AS_INSTRUCTIONS}, limit = 30, split = {{ test = 0.2, seed = 3 }} }}',
        f'sources.alpaca_tr={{ type = "files", {SAMPLE_QA_AS_INSTRUCTIONS}, limit = 30, split = {{ test = 0.2, seed = 4 }} }}',
        "curate.langid.enabled=false",  # the stand-in responses are French for German instructions
        "mix.budget=40",
        f'eval.judge.llm={{ backend = "recorded", model = "recorded-judge", responses = "{FIXTURES / "judge_responses.jsonl"}", json_mode = false, requests_per_minute = 6000 }}',
        "eval.judge.max_items=3",
        f"eval.multiple_choice={FIXTURES / 'mc_tiny.jsonl'}",  # 8 of the sample's 44 items, 2 per category
        "eval.few_shot=1",
    ],
}


def _shrink(tiny_model: Path) -> list[str]:
    """The same for every recipe: a tiny model, one training step, a few short test items."""
    return [
        f"train.model={tiny_model}",
        "train.max_steps=1",
        "train.batch_size=2",
        "train.grad_accum=1",
        "train.max_length=512",  # the tiny model's context
        "train.optimizer=adamw_torch",  # paged optimizers need CUDA
        "train.lora.target_modules=all-linear",  # Falcon's module names do not exist in the tiny Llama
        "train.eval_steps=1",
        "eval.max_examples=3",
        "eval.max_new_tokens=8",
        "eval.bootstrap_samples=100",
        "eval.randomization_trials=100",
    ]


def test_every_recipe_has_an_offline_substitution():
    assert set(OFFLINE) == set(RECIPES)


@pytest.mark.slow
@pytest.mark.parametrize("name", RECIPES)
def test_recipe_runs_offline_end_to_end(
    name: str, in_tmp_project: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
):
    sets = [*_shrink(tiny_model_dir), *OFFLINE[name]]
    args = ["--recipe", f"recipes/{name}.toml", *(a for s in sets for a in ("--set", s))]
    recipe = load_recipe(f"recipes/{name}.toml", sets)

    assert main(["corpus", "--offline", *args]) == 0
    for source in recipe.source_names:
        manifest = json.loads((in_tmp_project / f"data/{name}/curate/{source}/manifest.json").read_text())
        assert manifest["counts"]["records"] > 0, source

    if recipe.gate.enabled:
        assert main(["gate", *args]) == 0
        metrics = json.loads((in_tmp_project / f"runs/{name}/gate/metrics.json").read_text())
        assert set(metrics["report"]) >= {"on_topic", "off_topic", "accuracy"}
        assert main(["gate", *args, "Wann starb Gutenberg?"]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1].endswith("Wann starb Gutenberg?")

    assert main(["compare", *args]) == 0
    report = in_tmp_project / f"reports/{name}/report.md"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    if recipe.gate.enabled:
        on = metrics["report"]["on_topic"]
        assert "## Question relevance gate" in text
        assert f"| on_topic | {on['precision']:.3f} | {on['recall']:.3f} | {on['f1-score']:.3f} |" in text
    for cond in recipe.eval.conditions:
        assert cond.name in text
        scores = in_tmp_project / f"reports/{name}/conditions/{cond.name}/scores.json"
        assert scores.is_file(), cond.name
    runs = [p for p in (in_tmp_project / f"runs/{name}").iterdir() if p.name != "gate"]
    n_trained = len({(c.mix, tuple(sorted(c.train.items()))) for c in recipe.eval.conditions if c.mix})
    assert len(runs) >= n_trained
