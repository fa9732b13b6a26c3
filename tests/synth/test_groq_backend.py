"""The real ``groq`` client against a scripted local server: every failure mode handled and counted."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from synth.stage import run_synth
from synthmix.errors import MissingRequirementError, SynthmixError
from synthmix.layout import Layout
from synthmix.store import read_manifest, read_records, read_rejected
from tests.synth.chat_server import ChatServer, Reply, good_pairs, pair_for, request_seed
from tests.synth.conftest import llm_table, make_recipe, pair_records, write_ingest

SEED = 13  # llm.seed; request i is sent with seed 13 + i


def shown_examples(body: dict[str, Any]) -> list[dict[str, str]]:
    user = body["messages"][-1]["content"]
    return [json.loads(line) for line in user.splitlines() if line.startswith('{"src"')]


class Script:
    """One behaviour per request index (seed - 13); retries of the same request see ``attempt`` > 0."""

    def __init__(self) -> None:
        self.attempts: Counter[int] = Counter()

    def __call__(self, n: int, body: dict[str, Any]) -> Reply:
        i = request_seed(body) - SEED
        attempt = self.attempts[i]
        self.attempts[i] += 1
        good = Reply(content=good_pairs(body))
        pairs = [pair_for(request_seed(body), j) for j in range(3)]
        if i == 1:
            return Reply(content='{"pairs": [{"src": "Guten Morgen", "tgt": ')
        if i == 2:
            return Reply(content=good.content[:40], finish_reason="length")
        if i == 3:
            return Reply(content="I'm sorry, but I can't help with that request.")
        if i == 4 and attempt == 0:
            return Reply(status=429, headers={"retry-after": "0.2"})
        if i == 5 and attempt == 0:
            return Reply(status=500)
        if i == 6:
            return Reply(content=good.content, delay=0.3)
        if i == 7 and attempt == 0:
            return Reply(content=good.content, delay=2.5)  # longer than the client's 1.5 s timeout
        if i == 8:
            pairs[0] = shown_examples(body)[0]
        if i == 9:
            pairs[1]["tgt"] = "The garden in this street is very quiet today and we like to go there."
        if i == 10:
            del pairs[2]["tgt"]
        if i == 11:
            return Reply(
                status=400,
                error={
                    "message": "Failed to generate JSON",
                    "type": "invalid_request_error",
                    "code": "json_validate_failed",
                    "failed_generation": "Hier sind die Paare: src=...",
                },
            )
        if i == 12:
            pairs = [pair_for(SEED, j) for j in range(3)]  # the same pairs request 0 got
        if i == 13:
            pairs[2]["tgt"] = pairs[2]["src"]
        return Reply(content=json.dumps({"pairs": pairs}, ensure_ascii=False))


JOB = """
[synth.synthetic]
generator = "translation"
from = "flores"
records = 24
per_request = 3
few_shot = 3
[synth.synthetic.llm]
{llm}
"""


def test_every_scripted_case_is_handled_and_counted(project: Path, server: ChatServer):
    server.script = Script()
    recipe = make_recipe(project, JOB.format(llm=llm_table(server.url, timeout_s=1.5)))
    layout = Layout(recipe.name, project)
    write_ingest(layout)

    result = run_synth(recipe, layout, progress=False)

    out = layout.synth("synthetic")
    records = read_records(out)
    assert len(records) == 24
    assert len({r.id for r in records}) == 24
    reasons = Counter(x.reason for x in read_rejected(out))
    assert reasons == {
        "malformed_json": 2,  # request 1 (cut JSON) and 11 (Groq JSON mode's failed_generation)
        "truncated": 1,
        "refusal": 1,
        "copied_from_prompt": 1,
        "wrong_language": 1,
        "missing_field": 1,
        "duplicate": 3,
        "untranslated": 1,
        "surplus": 2,
    }
    by_index = {(x.record.meta["request_index"], x.reason): x for x in read_rejected(out)}
    # An answer that never became items is kept whole, as the output field of a placeholder record.
    assert (
        by_index[(1, "malformed_json")].record.fields["tgt"] == '{"pairs": [{"src": "Guten Morgen", "tgt": '
    )
    assert by_index[(11, "malformed_json")].record.fields["tgt"] == "Hier sind die Paare: src=..."
    assert by_index[(3, "refusal")].record.fields["tgt"].startswith("I'm sorry")
    assert by_index[(9, "wrong_language")].detail == "tgt is en, expected fr"
    manifest = read_manifest(out)
    assert result["synthetic"]["output_hash"] == manifest["output_hash"]
    req = manifest["synth"]["requests"]
    assert req["completed"] == 15 and req["cache_hits"] == 0 and req["failed"] == 0
    assert (req["rate_limited_429"], req["server_errors"], req["timeouts"]) == (1, 1, 1)
    assert req["retries"] == 3
    assert req["http_attempts"] == 18
    assert manifest["counts"]["rejected_by_reason"] == dict(sorted(reasons.items()))
    assert manifest["synth"]["rejected_by_reason"] == dict(sorted(reasons.items()))
    tokens = manifest["synth"]["tokens"]
    # The server reports usage per answer; the manifest adds up the 14 answers it billed (400 has none).
    billed = [e for e in server.log if e["status"] == 200]
    assert tokens["prompt"] > 0 and tokens["completion"] > 0
    assert manifest["synth"]["cost_usd"] == pytest.approx(
        (tokens["prompt"] * 1.0 + tokens["completion"] * 2.0) / 1e6, abs=1e-6
    )
    assert len(billed) == 14
    assert manifest["synth"]["stop"] is None

    # Every request used the Groq route, the key from the environment, and JSON mode.
    assert {e["path"] for e in server.log} == {"/openai/v1/chat/completions"}
    assert {e["auth"] for e in server.log} == {"Bearer gsk_fake-test-key-1234"}
    assert all(e["body"]["response_format"] == {"type": "json_object"} for e in server.log)
    # The key never reaches the manifest or the cache.
    assert "gsk_testkey" not in (out / "manifest.json").read_text()
    assert b"gsk_testkey" not in (layout.cache / "llm.sqlite").read_bytes()


def test_records_carry_meta_provenance_and_only_train_examples(project: Path, server: ChatServer):
    recipe = make_recipe(
        project, JOB.format(llm=llm_table(server.url)).replace("records = 24", "records = 6")
    )
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)

    records = read_records(layout.synth("synthetic"))
    train_ids = {r.id for r in pair_records() if r.split == "train"}
    test_texts = [r.fields["src"] for r in pair_records() if r.split == "test"]
    for r in records:
        assert (r.source, r.origin, r.split, r.kind) == ("synthetic", "synthetic", "train", "translation")
        assert (r.src_lang, r.tgt_lang) == ("de", "fr")
        (stamp,) = r.provenance
        assert stamp.stage == "synth" and len(stamp.parents) == 3
        assert set(stamp.parents) <= train_ids
        assert r.meta["template"] == "translation_pairs@v1" and len(r.meta["template_hash"]) == 16
        assert r.meta["backend"] == "groq" and r.meta["model"] == "llama-test"
        assert r.meta["sampling"]["seed"] == SEED + r.meta["request_index"]
        assert r.meta["prompt_tokens"] > 0 and len(r.meta["cache_key"]) == 64
    for entry in server.log:
        text = json.dumps(entry["body"], ensure_ascii=False)
        assert not any(t in text for t in test_texts), "a test-split sentence reached a prompt"


def test_rerun_sends_nothing_and_rebuilds_identical_files(project: Path, server: ChatServer):
    recipe = make_recipe(
        project, JOB.format(llm=llm_table(server.url)).replace("records = 24", "records = 9")
    )
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)
    sent = len(server.log)
    shard = layout.synth("synthetic") / "train-00000-of-00001.parquet"
    before = shard.read_bytes()

    again = run_synth(recipe, layout, progress=False)  # complete and current: skipped
    assert again["synthetic"]["synth"]["requests"]["sent"] == 3
    forced = run_synth(recipe, layout, force=True, progress=False)  # rebuilt from the cache
    assert len(server.log) == sent == 3
    assert forced["synthetic"]["synth"]["requests"]["cache_hits"] == 3
    assert forced["synthetic"]["synth"]["this_run"]["cost_usd"] == 0
    assert shard.read_bytes() == before
    with sqlite3.connect(layout.cache / "llm.sqlite") as db:
        rows = db.execute(
            "select job, request_index, prompt_tokens from responses order by request_index"
        ).fetchall()
    assert [(j, i) for j, i, _ in rows] == [("synthetic", 0), ("synthetic", 1), ("synthetic", 2)]


def test_missing_key_fails_before_any_request(
    project: Path, server: ChatServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("GROQ_API_KEY")
    recipe = make_recipe(project, JOB.format(llm=llm_table(server.url)))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    with pytest.raises(MissingRequirementError, match="GROQ_API_KEY"):
        run_synth(recipe, layout, progress=False)
    assert server.log == []


def test_budget_stops_cleanly_and_says_how_far(project: Path, server: ChatServer):
    llm = llm_table(server.url, concurrency=1, budget_tokens=1500)
    recipe = make_recipe(project, JOB.format(llm=llm))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    manifest = run_synth(recipe, layout, progress=False)["synthetic"]
    stop = manifest["synth"]["stop"]
    spent = manifest["synth"]["tokens"]["total"]
    assert stop["reason"] == "budget_tokens" and stop["limit"] == 1500
    assert spent >= 1500
    # With one worker, it stops at the first request that reaches the budget.
    per_request = spent / stop["requests_done"]
    assert spent - per_request < 1500
    assert 0 < stop["records"] == manifest["counts"]["records"] < 24
    assert stop["requests_done"] == len(server.log)


def test_server_down_is_a_clear_error(project: Path):
    recipe = make_recipe(
        project, JOB.format(llm=llm_table("http://127.0.0.1:9", max_retries=1, timeout_s=0.5))
    )
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    from synthmix.errors import SynthmixError

    with pytest.raises(SynthmixError, match="failed .*connection"):
        run_synth(recipe, layout, progress=False)


def test_cli_reports_a_missing_key_without_traceback(
    project: Path, server: ChatServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from synthmix.cli import main

    monkeypatch.delenv("GROQ_API_KEY")
    recipe = make_recipe(project, JOB.format(llm=llm_table(server.url)))
    write_ingest(Layout(recipe.name, project))
    monkeypatch.setenv("SYNTHMIX_HOME", str(project))
    assert main(["synth", "--recipe", str(project / "t.toml")]) == 4
    err = capsys.readouterr().err
    assert "GROQ_API_KEY is not set" in err and "Traceback" not in err
    assert main(["synth", "--recipe", str(project / "t.toml"), "--job", "nope"]) == 2
    assert "--job: unknown synth job(s) nope" in capsys.readouterr().err
    assert server.log == []


def test_missing_seed_source_names_the_command_to_run(project: Path, server: ChatServer):
    from synthmix.errors import SynthmixError

    recipe = make_recipe(project, JOB.format(llm=llm_table(server.url)))
    with pytest.raises(
        SynthmixError, match=r"synth.synthetic.from: 'flores' has no complete output .*synthmix ingest"
    ):
        run_synth(recipe, Layout(recipe.name, project), progress=False)


def test_groq_ratelimit_headers_pause_the_next_request(project: Path, server: ChatServer):
    def script(n: int, body: dict[str, Any]) -> Reply:
        headers = {"x-ratelimit-remaining-tokens": "5000", "x-ratelimit-remaining-requests": "99"}
        if n == 0:  # Groq says the request quota is spent and resets in 0.6 s
            headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "0.6s"}
        return Reply(content=good_pairs(body), headers=headers)

    server.script = script
    recipe = make_recipe(
        project, JOB.format(llm=llm_table(server.url, concurrency=1)).replace("records = 24", "records = 6")
    )
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)
    assert len(server.log) == 2
    assert server.log[1]["t"] - server.log[0]["t"] >= 0.6


def test_concurrency_is_bounded(project: Path, server: ChatServer):
    server.script = lambda n, body: Reply(content=good_pairs(body), delay=0.3)
    llm = llm_table(server.url, concurrency=3)
    recipe = make_recipe(project, JOB.format(llm=llm).replace("records = 24", "records = 27"))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)
    assert len(server.log) == 9
    assert server.max_in_flight == 3


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, MissingRequirementError, r"groq rejected the API key from \$GROQ_API_KEY \(401\)"),
        (404, SynthmixError, r"groq does not know model 'llama-test' \(404\)"),
    ],
)
def test_a_rejected_key_or_unknown_model_stops_at_once(
    project: Path, server: ChatServer, status: int, error: type[Exception], message: str
):
    server.script = lambda n, body: Reply(status=status)
    recipe = make_recipe(project, JOB.format(llm=llm_table(server.url, concurrency=1)))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    with pytest.raises(error, match=message):
        run_synth(recipe, layout, progress=False)
    assert len(server.log) == 1  # no retries, no further requests
    assert not layout.synth("synthetic").exists()
