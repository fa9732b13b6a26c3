from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthmix.cli import build_parser, main

COMMANDS = [
    "corpus",
    "ingest",
    "synth",
    "curate",
    "mix",
    "card",
    "publish",
    "train",
    "eval",
    "compare",
    "status",
    "gate",
]


def test_every_command_is_listed():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: synthmix {command}")
    assert "--recipe" in out


def test_python_dash_m_runs(project_root: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "synthmix", "--help"], capture_output=True, text=True, cwd=project_root
    )
    assert proc.returncode == 0 and "corpus" in proc.stdout


def test_malformed_recipe_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[train]\nlr = 0.1\n', encoding="utf-8")
    assert main(["status", "--recipe", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "train.lr: unknown key" in err and str(bad) in err


def test_missing_recipe_exits_2(capsys: pytest.CaptureFixture[str]):
    assert main(["status", "--recipe", "nope/none.toml"]) == 2
    assert "nope/none.toml: recipe file not found" in capsys.readouterr().err


def test_train_without_mix_exits_2(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["train", "--recipe", "recipes/sample.toml"]) == 2
    assert "MIX" in capsys.readouterr().err


def test_dry_run_prints_plan(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["corpus", "--recipe", "recipes/default.toml", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "synthetic: translation from flores, 800 records" in out
    # synthetic: 80 requests x (350 + 5*80) prompt + 80 x 2048 completion; wiki_qa: 100 x 750 + 100 x 1024.
    assert "estimated API tokens: <= 401240" in out
    assert not Path("data").exists()


def test_status_lists_missing_outputs(in_tmp_project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["status", "--recipe", "recipes/sample.toml"]) == 0
    out = capsys.readouterr().out
    assert "ingest   flores" in out and "missing" in out


def test_default_corpus_without_network_or_key_fails_fast(in_tmp_project: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("GROQ_API_KEY", "HF_TOKEN")}
    env.pop("HF_HUB_OFFLINE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "synthmix", "corpus"],
        capture_output=True,
        text=True,
        cwd=in_tmp_project,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stderr
    assert "GROQ_API_KEY is not set" in proc.stderr
    assert "make corpus RECIPE=recipes/sample.toml" in proc.stderr
    assert not (in_tmp_project / "data").exists()  # nothing half-written
