"""Decontamination against registered eval splits: exact, n-gram, short sentences, provenance parents."""

from __future__ import annotations

from curate.decontam import EvalIndex
from synthmix.config.curate import DecontamConfig
from synthmix.record import ProvenanceStamp, Record

# A FLORES-devtest-like sentence (written for this test, in the style of the benchmark).
DEVTEST = (
    "Am Montag gaben Wissenschaftler der Stanford University School of Medicine die Erfindung eines "
    "neuen Diagnosewerkzeugs bekannt, mit dem sich Zellen nach Typ sortieren lassen."
)
DEVTEST_FR = (
    "Lundi, des scientifiques de l'école de médecine de l'université de Stanford ont annoncé "
    "l'invention d'un nouvel outil de diagnostic permettant de trier les cellules par type."
)


def pair(src: str, tgt: str, *, parents: tuple[str, ...] = ()) -> Record:
    stamps = (ProvenanceStamp("synth", "0", "h", parents),) if parents else ()
    return Record(
        kind="translation",
        origin="synthetic",
        source="synthetic",
        fields={"src": src, "tgt": tgt},
        provenance=stamps,
    )


EVAL = Record(
    kind="translation",
    origin="real",
    source="flores",
    split="test",
    fields={"src": DEVTEST, "tgt": DEVTEST_FR},
)
SHORT_EVAL = Record(
    kind="translation",
    origin="real",
    source="flores",
    split="test",
    fields={"src": "Guten Tag!", "tgt": "Bonjour !"},
)
INDEX = EvalIndex.build([("flores:test", EVAL), ("flores:test", SHORT_EVAL)], DecontamConfig(ngram=8))


def test_planted_devtest_sentence_is_caught_exactly_and_by_ngrams() -> None:
    exact = pair(DEVTEST.upper(), "Autre chose complètement différent ici.")
    assert INDEX.contamination(exact)[0] == "contaminated"
    assert "flores:test" in INDEX.contamination(exact)[1]
    # The target side alone, embedded in a longer text, still shares 8-grams.
    embedded = pair("Etwas ganz anderes.", "Selon le communiqué : " + DEVTEST_FR[:90] + " et ainsi de suite.")
    reason, detail = INDEX.contamination(embedded)
    assert reason == "contaminated" and "tgt shares" in detail


def test_clean_record_passes() -> None:
    clean = pair("Wir gehen morgen ins Kino und essen danach eine Pizza.", "Nous allons au cinéma demain.")
    assert INDEX.contamination(clean) == ("", "")


def test_short_sentences_compared_exactly_only() -> None:
    assert INDEX.contamination(pair("guten tag", "Salut tout le monde !"))[0] == "contaminated"
    # Sharing short words with a short eval sentence is not contamination.
    assert INDEX.contamination(pair("Guten Tag, Herr Müller, wie geht es?", "Bonjour monsieur."))[0] == ""


def test_parent_in_eval_set_drops_synthetic_record() -> None:
    child = pair(
        "Ein neuer Satz ohne Überschneidung.", "Une nouvelle phrase sans chevauchement.", parents=(EVAL.id,)
    )
    reason, detail = INDEX.contamination(child)
    assert reason == "contaminated_parent" and EVAL.id in detail


def test_max_overlap_allows_a_share() -> None:
    lenient = EvalIndex.build([("flores:test", EVAL)], DecontamConfig(ngram=8, max_overlap=0.9))
    embedded = pair("Etwas ganz anderes.", "Selon le communiqué : " + DEVTEST_FR[:90] + " et ainsi de suite.")
    assert lenient.contamination(embedded) == ("", "")


def test_shared_context_counts_only_when_asked() -> None:
    passage = (
        "Johannes Gutenberg wurde um 1400 in Mainz geboren und erfand den Buchdruck mit beweglichen Lettern."
    )

    def qa(question: str, answer: str, split: str = "train") -> Record:
        return Record(
            kind="qa",
            origin="real",
            source="qa",
            split=split,
            fields={"question": question, "answer": answer, "context": passage},
        )

    test_item = qa("Wo wurde Gutenberg geboren?", "In Mainz.", split="test")
    train_item = qa("Was erfand Gutenberg?", "Den Buchdruck mit beweglichen Lettern.")
    assert EvalIndex.build([("qa:test", test_item)], DecontamConfig()).contamination(train_item) == ("", "")
    strict = EvalIndex.build([("qa:test", test_item)], DecontamConfig(include_context=True))
    assert strict.contamination(train_item)[0] == "contaminated"
