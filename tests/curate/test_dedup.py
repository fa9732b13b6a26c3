"""Exact and near-duplicate detection: planted duplicates, short sentences, survivor priority."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from curate import dedup
from synthmix.config.curate import DedupConfig

CONFIG = DedupConfig()

SENTENCES = [
    "Ich stehe jeden Morgen um halb sieben auf und trinke einen Kaffee.",
    "Mein Bruder wohnt seit drei Jahren in Hamburg und arbeitet im Hafen.",
    "Kannst du bitte das Fenster schließen, es zieht hier drinnen sehr.",
    "Wir haben gestern Abend lange mit unseren Nachbarn gesprochen.",
    "Der Zug nach München hat heute leider zwanzig Minuten Verspätung.",
    "Im Sommer fahren wir oft mit dem Fahrrad an den See.",
]


def test_signatures_equal_datasketch_update_batch() -> None:
    for mode in ("word", "char"):
        hashes = dedup.shingle_hashes(SENTENCES[0].lower(), mode, CONFIG)
        reference = MinHash(num_perm=CONFIG.num_perm, seed=1, hashfunc=int)
        reference.update_batch(hashes.tolist())
        ours = dedup.compute_signatures([SENTENCES[0].lower()], mode, CONFIG)[0]
        assert np.array_equal(ours, reference.hashvalues)


def test_estimated_jaccard_tracks_true_jaccard() -> None:
    a = "der schnelle braune fuchs springt über den faulen hund und läuft dann weit in den wald hinein"
    b = a.replace("faulen", "müden")
    sa, sb = set(dedup.shingles(a, "char", CONFIG)), set(dedup.shingles(b, "char", CONFIG))
    true = len(sa & sb) / len(sa | sb)
    sigs = dedup.compute_signatures([a, b], "char", CONFIG)
    assert abs(dedup.estimated_jaccard(sigs[0], sigs[1]) - true) < 0.12


def test_short_sentence_near_duplicates_found_with_char_shingles() -> None:
    texts = [s.lower() for s in SENTENCES]
    planted = SENTENCES[1].replace("Hamburg", "Hamburg,").replace("drei", "drei").lower() + "!"
    texts.append(planted)  # index 6: punctuation-only variant of 1
    texts.append(SENTENCES[4].lower().replace("zwanzig", "zwanzig")[:-1])  # 7: variant of 4
    assert dedup.shingle_mode(texts, CONFIG) == "char"
    rank = list(range(len(texts)))
    dropped, sims = dedup.near_duplicates(texts, CONFIG, rank)
    assert dropped == {6: 1, 7: 4}
    assert all(s >= CONFIG.threshold for s in sims.values())


def test_word_shingles_would_collide_less_on_unrelated_short_texts() -> None:
    # Unrelated short texts with shared function words must not be near-duplicates.
    texts = ["das ist gut", "das ist schlecht", "das ist gut so"]
    dropped, _ = dedup.near_duplicates(texts, DedupConfig(shingle="char"), [0, 1, 2])
    assert 1 not in dropped


def test_survivor_is_best_ranked_and_named() -> None:
    texts = [SENTENCES[2].lower(), SENTENCES[2].lower() + " ja", SENTENCES[3].lower()]
    # rank: the second text (say, a real record) beats the first (synthetic)
    dropped, _ = dedup.near_duplicates(texts, CONFIG, [(1, 0), (0, 1), (0, 2)])
    assert dropped == {0: 1}


def test_passages_use_word_shingles_under_auto() -> None:
    passage = " ".join(SENTENCES) * 2
    assert dedup.shingle_mode([passage, passage], CONFIG) == "word"
    near = passage.replace("Hamburg", "Bremen")
    dropped, _ = dedup.near_duplicates([passage.lower(), near.lower()], CONFIG, [0, 1])
    assert dropped == {1: 0}


def test_lsh_and_banded_candidates_agree() -> None:
    texts = [s.lower() for s in SENTENCES] + [SENTENCES[0].lower() + " heute", SENTENCES[5].lower() + "."]
    sigs = dedup.compute_signatures(texts, "char", CONFIG)
    bands, rows = dedup.lsh_params(CONFIG)
    via_lsh = dedup.confirmed_pairs(dedup.lsh_candidates(sigs, CONFIG), sigs, CONFIG.threshold)
    keys = [dedup.band_keys(s, bands, rows) for s in sigs]
    via_bands = dedup.confirmed_pairs(dedup.banded_candidates(keys), sigs, CONFIG.threshold)
    assert via_lsh == via_bands == [(0, 6), (5, 7)]


def test_exact_duplicates_keep_best_rank() -> None:
    from synthmix.record import Record

    def rec(text: str, source: str) -> Record:
        return Record(kind="passage", origin="real", source=source, fields={"text": text})

    records = [rec("A text.", "b"), rec("A  text.", "a"), rec("Other.", "a"), rec("A text.", "c")]
    assert dedup.exact_duplicates(records, [2, 1, 0, 3]) == {0: 1, 3: 1}


def test_connected_components_survivor_independent_of_pair_order() -> None:
    pairs = [(3, 4), (0, 3), (1, 2)]
    assert dedup.survivors_from_pairs(5, pairs, [5, 1, 0, 4, 3]) == {0: 4, 3: 4, 1: 2}
    assert dedup.survivors_from_pairs(5, pairs[::-1], [5, 1, 0, 4, 3]) == {0: 4, 3: 4, 1: 2}


def test_batch_hashing_equals_one_text_at_a_time() -> None:
    texts = [s.lower() for s in SENTENCES] + ["", "ab", "x y"]
    for mode in ("word", "char"):
        batch = dedup.batch_shingle_hashes(texts, mode, CONFIG)
        for text, hashes in zip(texts, batch, strict=True):
            assert np.array_equal(hashes, dedup.shingle_hashes(text, mode, CONFIG))
        # Distinct shingles get distinct hashes (on this small set) and match the shingle strings.
        assert len(set(batch[0].tolist())) == len(set(dedup.shingles(texts[0], mode, CONFIG)))


def test_exact_and_estimated_verification_agree_on_clear_cases() -> None:
    texts = [SENTENCES[0].lower(), SENTENCES[0].lower() + " ja", SENTENCES[3].lower()]
    for verify in ("exact", "minhash"):
        dropped, sims = dedup.near_duplicates(texts, DedupConfig(verify=verify), [0, 1, 2])
        assert dropped == {1: 0}
        assert 0.8 <= sims[1] <= 1.0
    a, b = dedup.shingle_hashes(texts[0], "char", CONFIG), dedup.shingle_hashes(texts[1], "char", CONFIG)
    sa, sb = set(dedup.shingles(texts[0], "char", CONFIG)), set(dedup.shingles(texts[1], "char", CONFIG))
    assert dedup.exact_jaccard(a, b) == pytest.approx(len(sa & sb) / len(sa | sb))
