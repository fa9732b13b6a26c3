from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import precision_recall_fscore_support

from curate.relevance import (
    OFF_TOPIC,
    ON_TOPIC,
    RelevanceFilter,
    RelevanceGate,
    filter_questions,
    gate_report_section,
    load_out_of_fold,
    prepare_data,
    read_questions,
    topic_questions,
    train_gate,
)
from synthmix.cli import main
from synthmix.errors import SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from synthmix.record import Record
from synthmix.store import write_dataset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "curate" / "relevance"
TOPIC = FIXTURES / "topic_qa.tsv"
OFFTOPIC = FIXTURES / "offtopic.txt"

# Planted questions the gate never saw in training.
PLANTED_ON = [
    "In what year did Gutenberg finish printing his Bible in Mainz?",
    "How did the printer Gutenberg cast his metal letters?",
    "Why did Johann Fust sue Gutenberg?",
]
PLANTED_OFF = [
    "How many legs does a spider have?",
    "What is the capital of Peru?",
    "How do I cook rice in a pressure cooker?",
]


@pytest.fixture(scope="module")
def trained():
    return train_gate(read_questions(TOPIC), read_questions(OFFTOPIC), test_fraction=0.25, seed=13)


def test_read_questions_formats(tmp_path: Path):
    assert read_questions(TOPIC)[:2] == ["Who was Johannes Gutenberg?", "When was Gutenberg born?"]
    assert len(read_questions(TOPIC)) == 55
    assert len(read_questions(OFFTOPIC)) == 80
    (tmp_path / "q.jsonl").write_text('{"question": "A?"}\n\n{"question": "B?", "x": 1}\n', encoding="utf-8")
    assert read_questions(tmp_path / "q.jsonl") == ["A?", "B?"]
    (tmp_path / "q.csv").write_text('question,answer\n"Why, though?",x\n', encoding="utf-8")
    assert read_questions(tmp_path / "q.csv") == ["Why, though?"]
    (tmp_path / "bad.tsv").write_text("q\ta\nA?\tb\n", encoding="utf-8")
    with pytest.raises(SynthmixError, match=r"bad.tsv:1: header has no 'question' column"):
        read_questions(tmp_path / "bad.tsv")
    (tmp_path / "bad.jsonl").write_text('{"question": "A?"}\n{oops\n', encoding="utf-8")
    with pytest.raises(SynthmixError, match=r"bad.jsonl:2: not valid JSON"):
        read_questions(tmp_path / "bad.jsonl")


def test_held_out_split_is_disjoint_stratified_and_seeded():
    on = [*read_questions(TOPIC), "Who was Johannes Gutenberg?", "  who was johannes   GUTENBERG? "]
    off = [*read_questions(OFFTOPIC), "What is the Gutenberg Bible?"]  # listed as both: dropped
    data = prepare_data(on, off, test_fraction=0.25, seed=13)
    assert data.dropped_ambiguous == 1
    train, test = set(data.train_texts), set(data.test_texts)
    assert not train & test
    assert len(data.train_texts) + len(data.test_texts) == 54 + 80  # duplicates and the ambiguous one gone
    assert "What is the Gutenberg Bible?" not in train | test
    assert len(data.test_texts) == round(134 * 0.25)
    # Stratified: the held-out share of each class matches the overall share within one question.
    assert abs(sum(data.test_labels) - 54 * 0.25) <= 1
    again = prepare_data(on, off, test_fraction=0.25, seed=13)
    assert again.test_texts == data.test_texts
    assert prepare_data(on, off, test_fraction=0.25, seed=14).test_texts != data.test_texts


def test_metrics_match_sklearn_on_the_same_predictions(trained):
    gate, metrics, data = trained
    predicted = [1 if p >= gate.threshold else 0 for p in gate.probabilities(data.test_texts)]
    p, r, f, s = precision_recall_fscore_support(data.test_labels, predicted, labels=[0, 1], zero_division=0)
    report = metrics["report"]
    for i, name in enumerate([OFF_TOPIC, ON_TOPIC]):
        assert report[name]["precision"] == pytest.approx(p[i])
        assert report[name]["recall"] == pytest.approx(r[i])
        assert report[name]["f1-score"] == pytest.approx(f[i])
        assert report[name]["support"] == s[i]
    assert metrics["counts"]["test"] == {ON_TOPIC: int(s[1]), OFF_TOPIC: int(s[0])}
    cm = metrics["confusion_matrix"]["rows_true_cols_predicted"]
    assert cm[1][1] == sum(1 for y, q in zip(data.test_labels, predicted, strict=True) if y == q == 1)
    # The topic is easy to tell apart; the reference experiment reported F1 0.96 / 1.00.
    assert report[ON_TOPIC]["f1-score"] >= 0.8 and report[OFF_TOPIC]["f1-score"] >= 0.9


def test_gate_separates_planted_questions(trained):
    gate, _metrics, _data = trained
    assert gate.labels(PLANTED_ON) == [ON_TOPIC] * 3
    assert gate.labels(PLANTED_OFF) == [OFF_TOPIC] * 3
    assert min(gate.probabilities(PLANTED_ON)) > max(gate.probabilities(PLANTED_OFF))


def test_saved_gate_reloads_with_identical_scores(trained, tmp_path: Path):
    gate, _metrics, _data = trained
    gate.save(tmp_path / "g")
    loaded = RelevanceGate.load(tmp_path / "g")
    questions = PLANTED_ON + PLANTED_OFF
    assert loaded.probabilities(questions) == gate.probabilities(questions)
    meta = json.loads((tmp_path / "g" / "gate.json").read_text(encoding="utf-8"))
    assert meta["threshold"] == 0.5 and meta["seed"] == 13 and "scikit-learn" in meta["versions"]
    with pytest.raises(SynthmixError, match="no trained gate"):
        RelevanceGate.load(tmp_path / "missing")


def _qa(question: str) -> Record:
    return Record(
        kind="qa", origin="synthetic", source="topic_qa", fields={"question": question, "answer": "x"}
    )


def test_filter_drops_planted_off_topic_qa(trained):
    gate, _metrics, _data = trained
    passage = Record(kind="passage", origin="real", source="wiki", fields={"text": "How to cook rice?"})
    records = [_qa(q) for q in PLANTED_ON + PLANTED_OFF] + [passage]
    kept, rejected = filter_questions(records, gate)
    assert [r.fields.get("question") for r in kept] == [*PLANTED_ON, None]
    assert [x.record.fields["question"] for x in rejected] == PLANTED_OFF
    assert {x.reason for x in rejected} == {"off_topic"}
    assert all(x.detail.startswith("p(on_topic)=") for x in rejected)
    keep = RelevanceFilter(gate).keep
    assert keep(_qa(PLANTED_ON[0])) == (True, "")
    assert keep(_qa(PLANTED_OFF[0])) == (False, "off_topic")
    assert keep(passage) == (True, "")


RECIPE = """# synthmix gate --recipe r.toml
name = "gatetest"
[sources.topic_qa]
type = "files"
path = "{topic}"
kind = "qa"
lang = "en"
columns = {{ question = "question", answer = "answer" }}
[gate]
enabled = true
topic_source = "topic_qa"
offtopic_path = "{off}"
test_fraction = 0.25
"""


def _recipe(tmp_path: Path) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(RECIPE.format(topic=TOPIC, off=OFFTOPIC), encoding="utf-8")
    return path


def test_cli_trains_reuses_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    recipe = _recipe(tmp_path)
    assert main(["gate", "--recipe", str(recipe)]) == 0
    out = capsys.readouterr().out
    assert "(trained)" in out and "on_topic" in out and "off_topic" in out
    metrics_file = tmp_path / "runs" / "gatetest" / "gate" / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    f1 = metrics["report"][ON_TOPIC]["f1-score"]
    assert f"{f1:6.3f}" in out  # the printed table shows the saved numbers
    assert metrics["counts"]["train"][ON_TOPIC] + metrics["counts"]["test"][ON_TOPIC] == 55

    assert main(["gate", "--recipe", str(recipe)]) == 0
    assert "(reused)" in capsys.readouterr().out
    assert main(["gate", "--recipe", str(recipe), "--set", "gate.seed=7"]) == 0
    assert "(trained)" in capsys.readouterr().out

    assert main(["gate", "--recipe", str(recipe), PLANTED_ON[0], PLANTED_OFF[1]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].split()[1] == ON_TOPIC and lines[1].endswith(PLANTED_ON[0])
    assert lines[2].split()[1] == OFF_TOPIC and lines[2].endswith(PLANTED_OFF[1])
    p_on = float(lines[1].split()[0])
    assert 0.5 <= p_on <= 1.0


def test_cli_scores_with_an_explicit_gate_dir(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    gate, _metrics, _data = trained
    gate.save(tmp_path / "g")
    # The recipe names a topic source with no data: the saved gate is used as is.
    recipe = _recipe(tmp_path)
    assert main(["gate", "--recipe", str(recipe), "--gate-dir", "g", PLANTED_OFF[0]]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1].split()[1] == OFF_TOPIC
    assert not (tmp_path / "runs").exists()


def test_cli_without_gate_config_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    recipe = _recipe(tmp_path)
    assert (
        main(
            ["gate", "--recipe", str(recipe), "--set", "gate.enabled=false", "--set", "gate.topic_source=''"]
        )
        == 2
    )
    assert "gate.topic_source" in capsys.readouterr().err


def test_topic_questions_prefer_the_curated_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(_recipe(tmp_path))
    layout = Layout("gatetest", tmp_path)
    questions, where = topic_questions(recipe, layout, "topic_qa")
    assert len(questions) == 55 and where == str(TOPIC)
    write_dataset(layout.curate("topic_qa"), [_qa("Curated question about Gutenberg?")], stage="curate")
    questions, where = topic_questions(recipe, layout, "topic_qa")
    assert questions == ["Curated question about Gutenberg?"] and where == str(layout.curate("topic_qa"))


def test_report_section_renders_the_saved_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(_recipe(tmp_path))
    layout = Layout("gatetest", tmp_path)
    # Enabled but never trained: the report section trains it.
    lines = gate_report_section(recipe, layout)
    metrics = json.loads((tmp_path / "runs/gatetest/gate/metrics.json").read_text(encoding="utf-8"))
    on = metrics["report"][ON_TOPIC]
    row = f"| on_topic | {on['precision']:.3f} | {on['recall']:.3f} | {on['f1-score']:.3f} | {int(on['support'])} |"
    assert row in lines
    assert lines[0] == "## Question relevance gate"
    disabled = load_recipe(_recipe(tmp_path), ["gate.enabled=false"])
    assert gate_report_section(disabled, Layout("other", tmp_path)) == []


def test_out_of_fold_scores_find_off_topic_questions_inside_the_topic_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    # Generated topic QA with three planted off-topic questions among the Gutenberg ones.
    topic = tmp_path / "topic.tsv"
    topic.write_text(
        TOPIC.read_text(encoding="utf-8") + "".join(f"{q}\tx\n" for q in PLANTED_OFF), encoding="utf-8"
    )
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(topic=topic, off=OFFTOPIC) + "filter_qa = true\n", encoding="utf-8")
    assert main(["gate", "--recipe", str(recipe)]) == 0
    out = capsys.readouterr().out
    gate_dir = tmp_path / "runs" / "gatetest" / "gate"
    rows = [json.loads(line) for line in (gate_dir / "out_of_fold.jsonl").read_text().splitlines()]
    assert len(rows) == 58
    assert [r["p_on_topic"] for r in rows] == sorted(r["p_on_topic"] for r in rows)
    flagged = {r["question"] for r in rows if r["p_on_topic"] < 0.5}
    assert set(PLANTED_OFF) <= flagged and len(flagged) <= 6
    metrics = json.loads((gate_dir / "metrics.json").read_text())
    assert metrics["out_of_fold"]["off_topic"] == len(flagged)
    assert f"filter_qa: {len(flagged)} of 58 topic_qa questions look off-topic" in out

    # Filtering the topic source itself: out-of-fold scores decide for the gate's own questions.
    gate = RelevanceGate.load(gate_dir)
    records = [_qa(q) for q in read_questions(topic)]
    kept, rejected = filter_questions(records, gate, load_out_of_fold(gate_dir))
    assert {x.record.fields["question"] for x in rejected} == flagged
    assert all(x.detail.startswith("out-of-fold p(on_topic)=") for x in rejected)
    assert len(kept) == 58 - len(flagged)
    # The final gate alone was trained on the planted questions as on-topic and misses some of them.
    _kept, plain = filter_questions(records, gate)
    assert len(plain) < len(rejected)


def test_offtopic_file_with_another_question_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    off = tmp_path / "off.jsonl"
    off.write_text(
        "".join(json.dumps({"q": q, "id": i}) + "\n" for i, q in enumerate(read_questions(OFFTOPIC))),
        encoding="utf-8",
    )
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(topic=TOPIC, off=off), encoding="utf-8")
    assert main(["gate", "--recipe", str(recipe)]) == 1
    assert "off.jsonl:1: expected an object with a 'question' key" in capsys.readouterr().err
    assert main(["gate", "--recipe", str(recipe), "--set", "gate.offtopic_column=q"]) == 0
    metrics = json.loads((tmp_path / "runs/gatetest/gate/metrics.json").read_text())
    assert metrics["counts"]["train"][OFF_TOPIC] + metrics["counts"]["test"][OFF_TOPIC] == 80


def test_curate_drops_off_topic_generated_qa_when_filter_qa_is_on(tmp_path: Path):
    recipe_file = tmp_path / "gated.toml"
    recipe_file.write_text(
        f"""
name = "gated"
[sources.topic]
type = "files"
path = "{TOPIC}"
kind = "qa"
lang = "en"
[synth.gen_qa]
generator = "qa"
from = "topic"
[curate.langid]
enabled = false
[gate]
enabled = true
topic_source = "topic"
offtopic_path = "{OFFTOPIC}"
filter_qa = true
""",
        encoding="utf-8",
    )
    recipe = load_recipe(recipe_file)
    layout = Layout("gated", tmp_path)
    topic = [
        Record(
            kind="qa", origin="real", source="topic", lang="en", fields={"question": q, "answer": "Mainz."}
        )
        for q in read_questions(TOPIC)
    ]
    generated = [
        Record(
            kind="qa",
            origin="synthetic",
            source="gen_qa",
            lang="en",
            fields={"question": q, "answer": "Yes."},
        )
        for q in [*PLANTED_ON, *PLANTED_OFF]
    ]
    write_dataset(layout.ingest("topic"), topic, stage="ingest")
    write_dataset(layout.synth("gen_qa"), generated, stage="synth")

    from curate.stage import run_curate
    from synthmix.store import read_manifest, read_records, read_rejected

    run_curate(recipe, layout)
    kept = {r.fields["question"] for r in read_records(layout.curate("gen_qa"))}
    dropped = {x.record.fields["question"]: x.reason for x in read_rejected(layout.curate("gen_qa"))}
    assert kept == set(PLANTED_ON)
    assert dropped == dict.fromkeys(PLANTED_OFF, "off_topic")
    funnel = read_manifest(layout.curate("gen_qa"))["funnel"]
    relevance = [e for e in funnel if e["stage"] == "relevance"]
    assert relevance and relevance[-1]["rejected_by_reason"] == {"off_topic": 3}
    # The gate it used was trained and saved beside the runs, as `synthmix gate` would.
    assert (layout.runs / "gate" / "metrics.json").is_file()
