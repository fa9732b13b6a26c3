"""Kill -9 a real `python -m synthmix synth` run partway, rerun it: nothing paid twice, lost or duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from synth.stage import run_synth
from synthmix.layout import Layout
from synthmix.store import read_manifest, read_records
from tests.synth.chat_server import ChatServer
from tests.synth.conftest import llm_table, make_recipe, write_ingest

JOB = """
[synth.synthetic]
generator = "translation"
from = "flores"
records = 30
per_request = 3
few_shot = 3
[synth.synthetic.llm]
{llm}
"""
ANSWERED_BEFORE_KILL = 4


def cached_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("select count(*) from responses").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # table not created yet


def synth_cmd(recipe_path: Path) -> list[str]:
    return [sys.executable, "-m", "synthmix", "synth", "--recipe", str(recipe_path)]


def test_killed_run_resumes_without_repeating_requests(project: Path):
    server = ChatServer(answer_limit=ANSWERED_BEFORE_KILL).start()
    try:
        recipe = make_recipe(project, JOB.format(llm=llm_table(server.url, concurrency=3)))
        layout = Layout(recipe.name, project)  # the subprocess runs in `project`, so its layout matches
        write_ingest(layout)
        db = layout.cache / "llm.sqlite"
        env = {**os.environ, "SYNTHMIX_HOME": str(project)}
        proc = subprocess.Popen(
            synth_cmd(project / "t.toml"),
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120  # a safety net so a broken run cannot hang the suite

        def ready() -> bool:
            # N answers stored by the client, marked by the server, and a later request held in flight.
            held = any(e["status"] is None for e in list(server.log))
            return (
                cached_rows(db) >= ANSWERED_BEFORE_KILL and server.answered >= ANSWERED_BEFORE_KILL and held
            )

        while not ready() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        # More requests are in flight now, held by the server: exactly what a kill -9 loses.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        answered_first = {e["key"] for e in server.log if e["status"] == 200}
        in_flight_first = {e["key"] for e in server.log if e["status"] is None}
        first_log_len = len(server.log)
        assert len(answered_first) == ANSWERED_BEFORE_KILL == cached_rows(db)
        assert in_flight_first, "the kill should interrupt requests in flight"
        assert not layout.synth("synthetic").exists()

        server.answer_limit = 0
        server.release()
        rerun = subprocess.run(
            synth_cmd(project / "t.toml"), cwd=project, env=env, capture_output=True, text=True
        )
        assert rerun.returncode == 0, rerun.stderr
        second = server.log[first_log_len:]
        second_keys = [e["key"] for e in second]
        assert not answered_first & set(second_keys), "a finished response was requested again"
        assert len(second_keys) == len(set(second_keys))
        assert in_flight_first <= set(second_keys)  # what was lost in flight is asked again

        records = read_records(layout.synth("synthetic"))
        manifest = read_manifest(layout.synth("synthetic"))
        assert manifest["synth"]["requests"]["cache_hits"] == ANSWERED_BEFORE_KILL
        assert len(records) == 30 and len({r.id for r in records}) == 30
        assert "synth synthetic" in rerun.stderr  # the tqdm progress bar
    finally:
        server.stop()

    # The same job run without interruption (fresh cache) gives the same records.
    with ChatServer() as clean_server:
        clean_dir = project / "clean"
        clean_dir.mkdir()
        clean = make_recipe(clean_dir, JOB.format(llm=llm_table(clean_server.url, concurrency=3)))
        clean_layout = Layout(clean.name, clean_dir)
        write_ingest(clean_layout)
        run_synth(clean, clean_layout, progress=False)
        expected = read_records(clean_layout.synth("synthetic"))
    assert [r.id for r in records] == [r.id for r in expected]
