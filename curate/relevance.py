"""Question relevance gate: tells on-topic questions from off-topic ones, for a topic QA bot.

TF-IDF features (word 1-2-grams + character 2-5-grams) and a logistic regression with balanced class
weights (scikit-learn), trained on the topic's QA questions (on-topic) against questions from an unrelated
QA set (off-topic), scored on a seeded, stratified held-out split. This is reference experiment 2's
"Related / Not Related" classifier as a stage.

    synthmix gate --recipe recipes/wiki-topic-qa.toml                    # train (or reuse), print metrics
    synthmix gate --recipe recipes/wiki-topic-qa.toml "Who was Gutenberg?"  # score questions

The gate lives in ``runs/<recipe>/gate/``: ``gate.joblib`` (the fitted sklearn pipeline), ``gate.json``
(training counts, seed, threshold, data fingerprint, library versions), ``metrics.json`` (per-class
precision, recall, F1 on the held-out split, as ``sklearn.metrics.classification_report`` gives them; the
report of ``synthmix compare`` renders it through ``gate_report_lines``) and, with ``gate.filter_qa``,
``out_of_fold.jsonl`` (every topic question scored by a gate that did not see it, lowest first).

``filter_questions(records, gate, out_of_fold)`` drops QA records whose question the gate calls off-topic
(reason ``off_topic``); ``RelevanceFilter`` is the same as a curate-style ``keep(record) -> (bool, reason)``.
"""

from __future__ import annotations

import csv
import json
import logging
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config.evaluate import GateConfig
from synthmix.config.sources import FilesSourceConfig
from synthmix.errors import ConfigError, SynthmixError
from synthmix.hashing import stable_hash
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.record import Record, normalize_text
from synthmix.redact import redact
from synthmix.store import Rejection, is_complete, read_records

log = logging.getLogger(__name__)

ON_TOPIC = "on_topic"
OFF_TOPIC = "off_topic"
LABELS = (OFF_TOPIC, ON_TOPIC)  # class 0 and class 1 of the classifier
REASON = "off_topic"  # rejection reason written to rejected.parquet

MODEL_FILE = "gate.joblib"
META_FILE = "gate.json"
METRICS_FILE = "metrics.json"
OUT_OF_FOLD_FILE = "out_of_fold.jsonl"  # with gate.filter_qa: every topic question's out-of-fold score
GATE_VERSION = "1"  # bump when features or model change, so old gates are retrained, not reused


def gate_dir_for(layout: Layout) -> Path:
    """Where a recipe's gate lives: ``runs/<recipe>/gate`` (the report reads ``metrics.json`` there)."""
    return layout.runs / "gate"


# ----------------------------------------------------------------------------------------------------------
# Reading questions


def read_questions(path: str | Path, column: str = "question") -> list[str]:
    """Questions from a file: ``.txt`` one per line; ``.tsv``/``.csv``/``.jsonl``/``.parquet`` by column.

    Blank lines are skipped. A table without the column, or a malformed JSON line, stops with a message
    naming the file (and line) and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise SynthmixError(f"{path}: questions file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            if column not in table.column_names:
                raise SynthmixError(
                    f"{path}: no column {column!r} (columns: {', '.join(table.column_names)}); "
                    "name the question column in the source's columns table"
                )
            return [q for q in (str(v or "").strip() for v in table.column(column).to_pylist()) if q]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SynthmixError(f"{path}: not UTF-8 text; re-save it as UTF-8") from None
    if suffix in (".tsv", ".csv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        if column not in (reader.fieldnames or []):
            raise SynthmixError(
                f"{path}:1: header has no {column!r} column (found: {', '.join(reader.fieldnames or [])}); "
                f"add a header line with a {column!r} column"
            )
        return [q for q in ((row.get(column) or "").strip() for row in reader) if q]
    if suffix == ".jsonl":
        out = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise SynthmixError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(obj, dict) or column not in obj:
                raise SynthmixError(f"{path}:{lineno}: expected an object with a {column!r} key")
            q = str(obj[column] or "").strip()
            if q:
                out.append(q)
        return out
    # Plain text: one question per line.
    return [line.strip() for line in text.splitlines() if line.strip()]


def topic_questions(recipe: Recipe, layout: Layout, source: str) -> tuple[list[str], str]:
    """The on-topic questions of ``source`` and where they were read from.

    The curated source is preferred, then the synth or ingest output; a ``files`` source that has not been
    ingested yet is read straight from its file, so the gate can be trained before ``make corpus``.
    """
    for path in (layout.curate(source), layout.synth(source), layout.ingest(source)):
        if is_complete(path):
            questions = [
                r.fields["question"]
                for r in read_records(path)
                if r.kind == "qa" and (r.fields.get("question") or "").strip()
            ]
            if not questions:
                raise SynthmixError(
                    f"{path}: source {source!r} has no QA records with a question; "
                    "gate.topic_source must name a qa source"
                )
            return questions, str(path)
    src = recipe.sources.get(source)
    if isinstance(src, FilesSourceConfig):
        return read_questions(src.path, src.columns.get("question", "question")), src.path
    raise SynthmixError(
        f"gate.topic_source: source {source!r} has no output yet under {layout.data}; "
        f"run `synthmix corpus --recipe {recipe.path or recipe.name}` first"
    )


# ----------------------------------------------------------------------------------------------------------
# Training and scoring


def build_pipeline(seed: int) -> Any:
    """TF-IDF (word 1-2-grams + char 2-5-grams within word bounds) + balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    # Character n-grams carry the topic's names through inflection and typos ("Gutenbergs", "Gutenburg");
    # word n-grams carry phrasing. Balanced weights because off-topic questions usually outnumber on-topic
    # ones many times over (37.6k vs ~700 in the reference experiment).
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
        ]
    )
    model = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed)
    return Pipeline([("tfidf", features), ("logreg", model)])


@dataclass(frozen=True)
class GateData:
    """Deduplicated, labelled questions split into train and held-out test (1 = on-topic)."""

    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    dropped_ambiguous: int = 0  # questions listed as both on- and off-topic, left out of both


def labelled_questions(on_topic: Sequence[str], off_topic: Sequence[str]) -> tuple[list[str], list[int], int]:
    """Deduplicated questions with labels (1 = on-topic) and how many were listed as both (dropped)."""
    on = _unique(on_topic)
    off = _unique(off_topic)
    both = set(on) & set(off)
    on = {k: v for k, v in on.items() if k not in both}
    off = {k: v for k, v in off.items() if k not in both}
    for name, group in (("on-topic", on), ("off-topic", off)):
        if len(group) < 2:
            raise SynthmixError(
                f"gate: only {len(group)} distinct {name} question(s); the gate needs at least 2 of each "
                "(check gate.topic_source and gate.offtopic_path)"
            )
    return [*on.values(), *off.values()], [1] * len(on) + [0] * len(off), len(both)


def prepare_data(
    on_topic: Sequence[str], off_topic: Sequence[str], *, test_fraction: float, seed: int
) -> GateData:
    """Label, deduplicate and split with a seeded stratified split, so no question is in train and test."""
    from sklearn.model_selection import train_test_split

    texts, labels, ambiguous = labelled_questions(on_topic, off_topic)
    n_test = max(2, round(len(texts) * test_fraction))
    if len(texts) - n_test < 2:
        raise SynthmixError(f"gate: {len(texts)} questions are too few for a held-out split")
    tr_x, te_x, tr_y, te_y = train_test_split(
        texts, labels, test_size=n_test, random_state=seed, stratify=labels
    )
    return GateData(list(tr_x), list(tr_y), list(te_x), list(te_y), dropped_ambiguous=ambiguous)


def out_of_fold_probabilities(
    on_topic: Sequence[str], off_topic: Sequence[str], *, seed: int, folds: int = 5
) -> dict[str, float]:
    """On-topic probability of every on-topic question, each from a gate trained without it (k-fold).

    A gate scores the questions it was trained on as on-topic almost always, so filtering the topic
    source with the final gate would keep nearly everything; out-of-fold scores show which of the topic's
    own questions look off-topic to a gate that never saw them. Keys are ``question_key(question)``.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts, labels, _ambiguous = labelled_questions(on_topic, off_topic)
    k = max(2, min(folds, sum(labels), len(labels) - sum(labels)))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    proba = cross_val_predict(build_pipeline(seed), texts, labels, cv=cv, method="predict_proba")
    return {question_key(t): float(p[1]) for t, y, p in zip(texts, labels, proba, strict=True) if y == 1}


def question_key(question: str) -> str:
    """The form that decides whether two questions are the same: NFC, whitespace collapsed, casefolded."""
    return normalize_text(question).casefold()


def _unique(questions: Iterable[str]) -> dict[str, str]:
    """Normalized text -> first original spelling; the normalized form decides duplicates."""
    out: dict[str, str] = {}
    for q in questions:
        key = question_key(q)
        if key and key not in out:
            out[key] = q.strip()
    return out


@dataclass
class RelevanceGate:
    """A fitted gate: on-topic probability per question, and the label at ``threshold``."""

    pipeline: Any
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, questions: Sequence[str]) -> list[float]:
        if not questions:
            return []
        classes = list(self.pipeline.classes_)
        proba = self.pipeline.predict_proba(list(questions))
        return [float(p) for p in proba[:, classes.index(1)]]

    def labels(self, questions: Sequence[str]) -> list[str]:
        return [ON_TOPIC if p >= self.threshold else OFF_TOPIC for p in self.probabilities(questions)]

    def is_on_topic(self, question: str) -> bool:
        return self.probabilities([question])[0] >= self.threshold

    def save(self, directory: Path) -> None:
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{MODEL_FILE}.tmp"
        joblib.dump(self.pipeline, tmp)
        tmp.replace(directory / MODEL_FILE)
        _write_json(directory / META_FILE, {**self.meta, "threshold": self.threshold})

    @classmethod
    def load(cls, directory: Path, threshold: float | None = None) -> RelevanceGate:
        """Load a saved gate. joblib files are pickles: load only gates you trained yourself."""
        import joblib

        model, meta_file = directory / MODEL_FILE, directory / META_FILE
        if not model.is_file() or not meta_file.is_file():
            raise SynthmixError(
                f"{directory}: no trained gate ({MODEL_FILE} + {META_FILE}); "
                "train one with `synthmix gate --recipe <recipe>` (no questions)"
            )
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        import sklearn

        saved = meta.get("versions", {}).get("scikit-learn")
        if saved and saved != sklearn.__version__:
            log.warning(
                "%s was trained with scikit-learn %s, this is %s; retrain it if scores look wrong "
                "(synthmix gate --recipe <recipe>)",
                directory,
                saved,
                sklearn.__version__,
            )
        return cls(joblib.load(model), threshold if threshold is not None else meta["threshold"], meta)


def evaluate_gate(gate: RelevanceGate, texts: Sequence[str], labels: Sequence[int]) -> dict[str, Any]:
    """Per-class precision/recall/F1 on held-out questions (``classification_report`` as a dict)."""
    from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

    proba = gate.probabilities(texts)
    predicted = [1 if p >= gate.threshold else 0 for p in proba]
    report = classification_report(
        list(labels), predicted, labels=[0, 1], target_names=list(LABELS), output_dict=True, zero_division=0
    )
    return {
        "report": report,
        "confusion_matrix": {
            "labels": list(LABELS),
            "rows_true_cols_predicted": confusion_matrix(list(labels), predicted, labels=[0, 1]).tolist(),
        },
        "roc_auc": float(roc_auc_score(list(labels), proba)) if len(set(labels)) == 2 else None,
        "threshold": gate.threshold,
    }


def train_gate(
    on_topic: Sequence[str],
    off_topic: Sequence[str],
    *,
    test_fraction: float = 0.2,
    seed: int = 13,
    threshold: float = 0.5,
) -> tuple[RelevanceGate, dict[str, Any], GateData]:
    """Fit the gate on the train part and score it on the held-out part; returns (gate, metrics, data)."""
    data = prepare_data(on_topic, off_topic, test_fraction=test_fraction, seed=seed)
    pipeline = build_pipeline(seed)
    pipeline.fit(data.train_texts, data.train_labels)
    gate = RelevanceGate(pipeline, threshold)
    metrics = evaluate_gate(gate, data.test_texts, data.test_labels)
    counts = {
        "train": {
            ON_TOPIC: sum(data.train_labels),
            OFF_TOPIC: len(data.train_labels) - sum(data.train_labels),
        },
        "test": {ON_TOPIC: sum(data.test_labels), OFF_TOPIC: len(data.test_labels) - sum(data.test_labels)},
        "dropped_ambiguous": data.dropped_ambiguous,
    }
    metrics["counts"] = counts
    gate.meta = {"counts": counts, "seed": seed, "test_fraction": test_fraction, "versions": _versions()}
    return gate, metrics, data


def _versions() -> dict[str, str]:
    import joblib
    import numpy
    import sklearn

    from synthmix import code_version

    # A pickled pipeline loads reliably only with the same scikit-learn (and close numpy/joblib) versions.
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
        "synthmix": code_version(),
    }


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(redact(obj), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# ----------------------------------------------------------------------------------------------------------
# Filtering QA data


def filter_questions(
    records: Iterable[Record], gate: RelevanceGate, out_of_fold: dict[str, float] | None = None
) -> tuple[list[Record], list[Rejection]]:
    """Keep records whose question the gate calls on-topic; others are rejected with reason ``off_topic``.

    Records without a question (translation, passage, instruction) pass untouched. ``out_of_fold``
    (``load_out_of_fold(gate_dir)``) holds scores of the gate's own training questions from gates that did
    not see them; those are used instead of ``gate`` for the questions they cover.
    """
    records = list(records)
    oof = out_of_fold or {}
    judged = [i for i, r in enumerate(records) if (r.fields.get("question") or "").strip()]
    fresh = [i for i in judged if question_key(records[i].fields["question"]) not in oof]
    proba = dict(zip(fresh, gate.probabilities([records[i].fields["question"] for i in fresh]), strict=True))
    for i in judged:
        if i not in proba:
            proba[i] = oof[question_key(records[i].fields["question"])]
    fresh_set = set(fresh)
    kept: list[Record] = []
    rejected: list[Rejection] = []
    for i, r in enumerate(records):
        p = proba.get(i)
        if p is None or p >= gate.threshold:
            kept.append(r)
        else:
            how = "" if i in fresh_set else "out-of-fold "
            rejected.append(Rejection(r, REASON, f"{how}p(on_topic)={p:.3f} < {gate.threshold:g}"))
    log.info("relevance gate kept %d of %d records (%d off-topic)", len(kept), len(records), len(rejected))
    return kept, rejected


def gate_verdicts(recipe: Recipe, layout: Layout, records: list[Record]) -> dict[int, tuple[str, str]]:
    """The curate hook: train (or reuse) the recipe's gate and return ``{index: (reason, detail)}`` for
    every record whose question it calls off-topic. The topic source's own questions are judged by the
    out-of-fold scores (a gate never calls its own training questions off-topic)."""
    gate, _metrics, _reused = ensure_gate(recipe, layout)
    _kept, rejected = filter_questions(records, gate, load_out_of_fold(gate_dir_for(layout)))
    position = {id(r): i for i, r in enumerate(records)}
    return {position[id(x.record)]: (x.reason, x.detail) for x in rejected}


def load_out_of_fold(directory: Path) -> dict[str, float]:
    """The out-of-fold scores ``synthmix gate`` saved (with ``gate.filter_qa``); empty when there are none."""
    path = Path(directory) / OUT_OF_FOLD_FILE
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {question_key(r["question"]): float(r["p_on_topic"]) for r in rows}


class RelevanceFilter:
    """The gate as a curate filter: ``keep(record) -> (bool, reason)`` (one record at a time)."""

    name = "relevance"

    def __init__(self, gate: RelevanceGate):
        self.gate = gate

    def keep(self, record: Record) -> tuple[bool, str]:
        question = (record.fields.get("question") or "").strip()
        if not question or self.gate.is_on_topic(question):
            return True, ""
        return False, REASON


# ----------------------------------------------------------------------------------------------------------
# The `synthmix gate` command


def _check_config(recipe: Recipe) -> GateConfig:
    gate = recipe.gate
    if not gate.topic_source:
        raise ConfigError(
            f"{recipe.path or recipe.name}: gate.topic_source: name the QA source whose questions are "
            "on-topic (a [gate] table, or --set gate.topic_source=NAME)"
        )
    if gate.topic_source not in recipe.source_names:
        raise ConfigError(
            f"{recipe.path or recipe.name}: gate.topic_source: names unknown source {gate.topic_source!r}; "
            f"known: {', '.join(recipe.source_names) or 'none'}"
        )
    if not gate.offtopic_path:
        raise ConfigError(
            f"{recipe.path or recipe.name}: gate.offtopic_path: name a file of off-topic questions "
            "(one per line, or tsv/csv/jsonl with a 'question' column)"
        )
    if not Path(gate.offtopic_path).is_file():
        raise ConfigError(
            f"{recipe.path or recipe.name}: gate.offtopic_path: file not found: {gate.offtopic_path}"
        )
    return gate


def _fingerprint(cfg: GateConfig, on_topic: Sequence[str], off_topic: Sequence[str]) -> str:
    # The gate is reused only when its training data and settings are unchanged; a new threshold changes
    # the held-out metrics, and retraining is deterministic and takes seconds, so it counts as a change.
    return stable_hash(
        [
            GATE_VERSION,
            cfg.test_fraction,
            cfg.seed,
            cfg.threshold,
            cfg.filter_qa,
            cfg.folds,
            sorted(set(on_topic)),
            sorted(set(off_topic)),
        ]
    )


def ensure_gate(
    recipe: Recipe, layout: Layout, gate_dir: Path | None = None, *, force: bool = False
) -> tuple[RelevanceGate, dict[str, Any], bool]:
    """Train the recipe's gate, or reuse the saved one when its data and settings are unchanged.

    Returns (gate, metrics, reused). Writes ``gate.joblib``, ``gate.json`` and ``metrics.json``.
    """
    cfg = _check_config(recipe)
    directory = Path(gate_dir) if gate_dir else gate_dir_for(layout)
    on_topic, on_from = topic_questions(recipe, layout, cfg.topic_source)
    off_topic = read_questions(cfg.offtopic_path, cfg.offtopic_column)
    fingerprint = _fingerprint(cfg, on_topic, off_topic)
    metrics_file = directory / METRICS_FILE
    if not force and (directory / META_FILE).is_file() and metrics_file.is_file():
        saved = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fingerprint:
            log.info("reusing the gate in %s (data and settings unchanged)", directory)
            metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
            return RelevanceGate.load(directory), metrics, True
    log.info(
        "training the relevance gate: %d on-topic questions (%s), %d off-topic (%s)",
        len(on_topic),
        on_from,
        len(off_topic),
        cfg.offtopic_path,
    )
    gate, metrics, _data = train_gate(
        on_topic, off_topic, test_fraction=cfg.test_fraction, seed=cfg.seed, threshold=cfg.threshold
    )
    gate.meta.update(
        {
            "recipe": recipe.name,
            "topic_source": cfg.topic_source,
            "topic_questions_from": on_from,
            "offtopic_path": cfg.offtopic_path,
            "fingerprint": fingerprint,
            "gate_version": GATE_VERSION,
            "files": {"model": MODEL_FILE, "metrics": METRICS_FILE},
        }
    )
    metrics = {"recipe": recipe.name, "topic_source": cfg.topic_source, **metrics}
    gate.save(directory)
    oof_file = directory / OUT_OF_FOLD_FILE
    oof_file.unlink(missing_ok=True)
    if cfg.filter_qa:
        oof = out_of_fold_probabilities(on_topic, off_topic, seed=cfg.seed, folds=cfg.folds)
        originals = {question_key(q): q.strip() for q in on_topic}
        # Lowest first: the questions most worth a look come at the top.
        ranked = sorted((round(p, 4), originals[k]) for k, p in oof.items())
        tmp = oof_file.with_name(f".{oof_file.name}.tmp")
        tmp.write_text(
            "".join(
                json.dumps({"question": q, "p_on_topic": p}, ensure_ascii=False) + "\n" for p, q in ranked
            ),
            encoding="utf-8",
        )
        tmp.replace(oof_file)
        metrics["out_of_fold"] = {
            "file": OUT_OF_FOLD_FILE,
            "topic_questions": len(ranked),
            "off_topic": sum(1 for p, _q in ranked if p < cfg.threshold),
        }
    _write_json(metrics_file, metrics)
    return gate, metrics, False


def format_metrics(metrics: dict[str, Any]) -> str:
    """The held-out metrics as a plain table (the same numbers as ``metrics.json``)."""
    report = metrics["report"]
    lines = [f"{'class':<13} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for name in (*LABELS, "macro avg", "weighted avg"):
        row = report[name]
        lines.append(
            f"{name:<13} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1-score']:>6.3f} "
            f"{int(row['support']):>8}"
        )
    lines.append(f"accuracy {report['accuracy']:.3f}" + _auc(metrics))
    return "\n".join(lines)


def gate_report_section(recipe: Recipe, layout: Layout) -> list[str]:
    """Markdown lines for the experiment report: the gate's held-out metrics (empty when it has no gate).

    A recipe with ``gate.enabled`` whose gate was never trained gets it trained here (seconds,
    deterministic); otherwise this only reads ``runs/<recipe>/gate/metrics.json``.
    """
    metrics_file = gate_dir_for(layout) / METRICS_FILE
    if not metrics_file.is_file():
        if not recipe.gate.enabled:
            return []
        try:
            ensure_gate(recipe, layout)
        except SynthmixError as e:
            return ["## Question relevance gate", "", f"Not trained: {e}", ""]
    return gate_report_lines(metrics_file, str(metrics_file.relative_to(layout.root)))


def gate_report_lines(metrics_file: Path, shown_as: str = "") -> list[str]:
    """A saved gate's ``metrics.json`` as a markdown section (empty when the file does not exist)."""
    if not metrics_file.is_file():
        return []
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    report, counts = metrics["report"], metrics["counts"]
    lines = [
        "## Question relevance gate",
        "",
        f"TF-IDF + logistic regression (balanced class weights), on-topic = questions of "
        f"`{metrics.get('topic_source', '?')}`, held-out "
        f"{counts['test'][ON_TOPIC]} on-topic + {counts['test'][OFF_TOPIC]} off-topic questions "
        f"(trained on {counts['train'][ON_TOPIC]} + {counts['train'][OFF_TOPIC]}), threshold "
        f"{metrics['threshold']:g}. From `{shown_as or metrics_file.name}`.",
        "",
        "| class | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in LABELS:
        row = report[name]
        lines.append(
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | "
            f"{int(row['support'])} |"
        )
    lines += ["", f"Accuracy {report['accuracy']:.3f}{_auc(metrics)}.", ""]
    return lines


def _auc(metrics: dict[str, Any]) -> str:
    auc = metrics.get("roc_auc")
    return f", ROC AUC {auc:.3f}" if isinstance(auc, float) else ""


def run_gate(
    recipe: Recipe,
    layout: Layout,
    *,
    questions: Sequence[str] = (),
    gate_dir: Path | None = None,
    force: bool = False,
) -> str:
    """``synthmix gate``: with no questions train (or reuse) the gate and return its metrics table; with
    questions return each one's on-topic probability and label. The CLI prints the returned text.

    With an explicit ``gate_dir`` holding a trained gate, questions are scored by that gate without
    needing the recipe's data.
    """
    directory = Path(gate_dir) if gate_dir else gate_dir_for(layout)
    if questions:
        if gate_dir is not None and (directory / MODEL_FILE).is_file():
            gate = RelevanceGate.load(directory)
        else:
            gate, _metrics, _reused = ensure_gate(recipe, layout, directory)
        lines = [f"{'p(on_topic)':>11}  {'label':<9}  question"]
        for q, p in zip(questions, gate.probabilities(list(questions)), strict=True):
            lines.append(f"{p:>11.3f}  {ON_TOPIC if p >= gate.threshold else OFF_TOPIC:<9}  {q}")
        return "\n".join(lines)
    gate, metrics, reused = ensure_gate(recipe, layout, directory, force=force)
    counts = metrics["counts"]
    head = (
        f"relevance gate for recipe {recipe.name!r} ({'reused' if reused else 'trained'}): "
        f"train {counts['train'][ON_TOPIC]} on-topic + {counts['train'][OFF_TOPIC]} off-topic questions, "
        f"held-out {counts['test'][ON_TOPIC]} + {counts['test'][OFF_TOPIC]} "
        f"(seed {recipe.gate.seed}, threshold {gate.threshold:g})"
    )
    text = (
        f"{head}\n{format_metrics(metrics)}\nsaved in {directory} ({MODEL_FILE}, {META_FILE}, {METRICS_FILE})"
    )
    if "out_of_fold" in metrics:
        oof = metrics["out_of_fold"]
        text += (
            f"\nfilter_qa: {oof['off_topic']} of {oof['topic_questions']} {recipe.gate.topic_source} questions "
            f"look off-topic to a gate that did not see them (lowest first in {directory / oof['file']})"
        )
    return text
