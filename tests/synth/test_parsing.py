from __future__ import annotations

import pytest

from synth.parsing import is_refusal, parse_items

KEYS = ("src", "tgt")


def test_valid_answer_gives_stripped_items():
    p = parse_items('{"pairs": [{"src": " Hallo ", "tgt": "Salut"}]}', "stop", "pairs", KEYS)
    assert (p.reason, p.items, p.invalid) == ("", [{"src": "Hallo", "tgt": "Salut"}], [])


def test_fenced_json_from_local_models_is_accepted():
    p = parse_items('```json\n{"pairs": [{"src": "a b", "tgt": "c d"}]}\n```', "stop", "pairs", KEYS)
    assert p.items == [{"src": "a b", "tgt": "c d"}]


@pytest.mark.parametrize(
    ("text", "finish", "reason"),
    [
        ('{"pairs": [{"src": "a", "tgt": "b"}]}', "length", "truncated"),
        ('{"pairs": [{"src": "a", "tgt": ', "stop", "malformed_json"),
        ("Here are the pairs: ...", "stop", "malformed_json"),
        ("I'm sorry, but I can't help with that.", "stop", "refusal"),
        ("I cannot create that content.", "stop", "refusal"),
        ("Es tut mir leid, das kann ich nicht.", "stop", "refusal"),
        ("", "stop", "empty"),
        ('{"pairs": []}', "stop", "empty"),
        ('{"items": [{"src": "a", "tgt": "b"}]}', "stop", "schema_invalid"),
        ('[{"src": "a", "tgt": "b"}]', "stop", "schema_invalid"),
        ("anything", "content_filter", "refusal"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(text: str, finish: str, reason: str):
    assert parse_items(text, finish, "pairs", KEYS).reason == reason


def test_bad_items_are_reported_one_by_one():
    text = '{"pairs": [{"src": "a b", "tgt": "c d"}, {"src": "x"}, {"src": "y", "tgt": 3}, "oops", {"src": " ", "tgt": "z"}]}'
    p = parse_items(text, "stop", "pairs", KEYS)
    assert p.reason == "" and p.items == [{"src": "a b", "tgt": "c d"}]
    assert [r for _, r in p.invalid] == ["missing_field", "missing_field", "schema_invalid", "missing_field"]


def test_refusal_detection_ignores_normal_text():
    assert is_refusal("Sorry, I cannot do that")
    assert not is_refusal("Ich kaufe heute Brot.")


def test_json_mode_failures_are_malformed_even_when_the_text_parses():
    p = parse_items('{"pairs": [{"src": "a", "tgt": "b"}]}', "json_validate_failed", "pairs", KEYS)
    assert p.reason == "malformed_json" and p.items == []
