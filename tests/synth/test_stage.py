"""Stage behaviour across runs: status, staleness, growing a job from the cache."""

from __future__ import annotations

from pathlib import Path

from synth.stage import run_synth
from synthmix.layout import Layout
from synthmix.status import recipe_status
from synthmix.store import read_records
from tests.synth.chat_server import ChatServer
from tests.synth.conftest import llm_table, make_recipe, write_ingest

JOB = """
[synth.synthetic]
generator = "translation"
from = "flores"
records = {records}
per_request = 3
few_shot = 2
[synth.synthetic.llm]
{llm}
"""


def test_a_bigger_job_reuses_every_cached_answer(project: Path, server: ChatServer):
    small = make_recipe(project, JOB.format(records=6, llm=llm_table(server.url)))
    layout = Layout(small.name, project)
    write_ingest(layout)
    run_synth(small, layout, progress=False)
    status = {(s.stage, s.name): s.state for s in recipe_status(small, layout)}
    assert status[("synth", "synthetic")] == "complete"
    first = read_records(layout.synth("synthetic"))

    big = make_recipe(project, JOB.format(records=12, llm=llm_table(server.url)))
    status = {(s.stage, s.name): s.state for s in recipe_status(big, layout)}
    assert status[("synth", "synthetic")] == "stale"
    manifest = run_synth(big, layout, progress=False)["synthetic"]
    assert manifest["synth"]["requests"]["cache_hits"] == 2 and manifest["synth"]["requests"]["sent"] == 2
    assert len(server.log) == 4
    grown = read_records(layout.synth("synthetic"))
    assert [r.id for r in grown[:6]] == [r.id for r in first]  # index order: old records keep their place
    assert len({r.id for r in grown}) == 12


def test_budget_raise_continues_where_the_budget_stopped(project: Path, server: ChatServer):
    capped = make_recipe(
        project, JOB.format(records=12, llm=llm_table(server.url, concurrency=1, budget_tokens=600))
    )
    layout = Layout(capped.name, project)
    write_ingest(layout)
    stopped = run_synth(capped, layout, progress=False)["synthetic"]["synth"]
    assert stopped["stop"]["reason"] == "budget_tokens"
    done = stopped["stop"]["requests_done"]
    assert 0 < done < 4

    # The same budget gives the same dataset (cached answers count toward it), a bigger one continues.
    again = run_synth(capped, layout, force=True, progress=False)["synthetic"]["synth"]
    assert again["stop"]["requests_done"] == done and len(server.log) == done
    raised = make_recipe(project, JOB.format(records=12, llm=llm_table(server.url, concurrency=1)))
    full = run_synth(raised, layout, progress=False)["synthetic"]["synth"]
    assert full["stop"] is None and full["requests"]["cache_hits"] == done
    assert len(server.log) == 4
