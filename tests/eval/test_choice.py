from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.choice import ChoiceItem, as_record, load_items, pick_shots, score_items
from synthmix.errors import SynthmixError

ROOT = Path(__file__).resolve().parents[2]
MC_SAMPLE = ROOT / "samples" / "mc" / "mmlu_sample.jsonl"


def _write(tmp_path: Path, rows: list[object]) -> Path:
    p = tmp_path / "mc.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return p


def test_load_items_accepts_index_letter_or_text_answers(tmp_path: Path):
    p = _write(
        tmp_path,
        [
            {"question": "2+2?", "choices": ["3", "4"], "answer": 1, "category": "STEM"},
            {"question": "Capital of France?", "choices": ["Lyon", "Paris", "Nice"], "answer": "B"},
            {"question": "Farbe des Himmels?", "choices": ["blau", "grün"], "answer": "blau", "split": "dev"},
        ],
    )
    items = load_items(p)
    assert [i.answer for i in items] == [1, 1, 0]
    assert [i.category for i in items] == ["STEM", "all", "all"]
    assert items[2].split == "dev"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "mc.jsonl:1: not valid JSON"),
        ({"question": "", "choices": ["a", "b"], "answer": 0}, "'question'"),
        ({"question": "q", "choices": ["a"], "answer": 0}, "'choices'"),
        ({"question": "q", "choices": ["a", "b"], "answer": 5}, "mc.jsonl:1: 'answer'"),
    ],
)
def test_load_items_names_the_line_of_a_bad_row(tmp_path: Path, row, message):
    with pytest.raises(SynthmixError, match=message):
        load_items(_write(tmp_path, [row]))


def test_shots_never_include_the_scored_item_and_prefer_its_category():
    items = [ChoiceItem(f"i{n}", f"q{n}", ("a", "b"), 0, "STEM" if n < 6 else "other") for n in range(12)]
    for target in items:
        shots = pick_shots(items, target, 3, seed=13)
        assert len(shots) == 3 and target not in shots
        assert {s.category for s in shots} == {target.category}
        assert shots == pick_shots(items, target, 3, seed=13)  # fixed by seed
    assert pick_shots(items, items[0], 0, seed=13) == []


def test_question_is_formatted_with_lettered_choices():
    r = as_record(ChoiceItem("x", "Wie viel ist 7 mal 8?", ("54", "56"), 1), with_answer=True)
    assert r.fields == {"question": "Wie viel ist 7 mal 8?\nA. 54\nB. 56", "answer": "56"}


def test_scoring_the_shipped_sample_k_shot_per_category(tiny_model_dir: Path):
    from train.model import load_model

    model, tokenizer = load_model(str(tiny_model_dir), quantization="none", for_training=False)
    items = load_items(MC_SAMPLE)[:12]
    result = score_items(model, tokenizer, items, shots=2, prompt_format="plain", progress=False)
    scored = [i for i in items if i.split not in ("dev", "train")]
    assert len(result.samples) == len(scored)
    for s, item in zip(result.samples, scored, strict=True):
        assert len(s["loglik"]) == len(item.choices)
        assert s["prediction"] == max(range(len(s["loglik"])), key=lambda c: s["loglik"][c])
        assert s["correct"] == int(s["prediction"] == item.answer)
        assert item.id not in s["shots"] and len(s["shots"]) == 2
    assert result.accuracy == pytest.approx(100 * sum(s["correct"] for s in result.samples) / len(scored))
    assert sum(c["n"] for c in result.by_category.values()) == len(scored)
