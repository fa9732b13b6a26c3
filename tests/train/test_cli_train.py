"""``synthmix train`` in-process: exit codes, printed run directory, --show-masking, --resume, --merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.cli import main
from synthmix.layout import Layout
from synthmix.store import write_dataset
from tests.train.conftest import FIXTURE_RECIPE, pair_records

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTHMIX_HOME", str(tmp_path))
    monkeypatch.chdir(ROOT)  # the fixture recipe's source paths are relative to the project root
    write_dataset(Layout("train-fixture", tmp_path).mix("flores"), pair_records(), stage="mix")
    return tmp_path


def test_train_prints_the_run_and_resume_reuses_it(
    home: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "-r", str(FIXTURE_RECIPE), "--mix", "flores", "--model", str(tiny_model_dir)]
    args += ["--set", "train.max_steps=2", "--set", "train.eval_steps=2"]
    assert main(args) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("run: ")
    run_dir = Path(out.removeprefix("run: "))
    assert (run_dir / "run.json").is_file() and run_dir.is_relative_to(home / "runs" / "train-fixture")
    assert main([*args, "--resume"]) == 0
    assert capsys.readouterr().out.strip() == out
    assert main(["train", "-r", str(FIXTURE_RECIPE), "--merge", str(run_dir)]) == 0
    assert (run_dir / "merged" / "config.json").is_file()


def test_show_masking_prints_and_trains_nothing(
    home: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "train",
        "-r",
        str(FIXTURE_RECIPE),
        "--mix",
        "flores",
        "--model",
        str(tiny_model_dir),
        "--show-masking",
    ]
    assert main(args) == 0
    assert "[[Translate from German to French." in capsys.readouterr().out
    assert not (home / "runs").exists()


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--mix", "flores", "--model", "nobody/not-a-model"], 4, "nobody/not-a-model"),
        (["--mix", "unknown_source"], 2, "MIX"),
        ([], 2, "MIX"),
    ],
)
def test_errors_exit_with_a_message_not_a_traceback(
    home: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int, message: str
) -> None:
    assert main(["train", "-r", str(FIXTURE_RECIPE), *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
