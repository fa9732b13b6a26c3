"""Sustained synth throughput against a rate-limited local chat-completions server.

    .venv/bin/python bench/bench_synth.py        (also run by `make bench`; ~40 s on 2 cores)

The scripted server (tests/synth/chat_server.py) answers at most LIMIT_RPM requests per minute (a token
bucket with half a second of burst) and returns 429 with Retry-After beyond that. A synth job configured with the same requests_per_minute should run at
>= 95% of the limit and receive zero 429s. Baseline measured in the same run: the same job with the
client-side limiter effectively off (requests_per_minute far above the server's), which relies on 429s
and Retry-After alone. Also prints the speed of a rerun served entirely from the response cache.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth.stage import run_synth  # noqa: E402
from synthmix.layout import Layout  # noqa: E402
from tests.synth.chat_server import ChatServer  # noqa: E402
from tests.synth.conftest import llm_table, make_recipe, write_ingest  # noqa: E402

LIMIT_RPM = 600  # 10 requests/s
LIMITED_REQUESTS = 200  # ~20 s at the limit
BASELINE_REQUESTS = 60

JOB = """
[synth.synthetic]
generator = "translation"
from = "flores"
records = {records}
per_request = 3
few_shot = 3
[synth.synthetic.llm]
{llm}
"""


def run(requests: int, client_rpm: float, workdir: Path) -> tuple[float, int, dict, float]:
    """Run one job; returns (achieved requests/min at the server, 429s received, manifest, seconds)."""
    # Half a second of burst: a window-counting server (Groq counts per minute) tolerates scheduling jitter.
    with ChatServer(requests_per_minute=LIMIT_RPM, burst=5.0) as server:
        llm = llm_table(server.url, requests_per_minute=client_rpm, concurrency=4, max_retries=20)
        recipe = make_recipe(workdir, JOB.format(records=3 * requests, llm=llm))
        layout = Layout(recipe.name, workdir)
        write_ingest(layout)
        start = time.monotonic()
        manifest = run_synth(recipe, layout, force=True, progress=False)["synthetic"]
        seconds = time.monotonic() - start
        answered = sorted(e["t"] for e in server.log if e["status"] == 200)
        span = answered[-1] - answered[0]
        achieved_rpm = (len(answered) - 1) / span * 60 if span > 0 else 0.0
        return achieved_rpm, server.rejected_429, manifest, seconds


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # The local server accepts any key; the real groq client insists on one.
    os.environ.setdefault("GROQ_API_KEY", "gsk_bench_local_server_only")
    with tempfile.TemporaryDirectory() as tmp:
        limited_dir, baseline_dir = Path(tmp) / "limited", Path(tmp) / "baseline"
        limited_dir.mkdir()
        baseline_dir.mkdir()

        base_rpm, base_429, _, base_s = run(BASELINE_REQUESTS, 1e6, baseline_dir)
        rpm, n429, manifest, seconds = run(LIMITED_REQUESTS, LIMIT_RPM, limited_dir)
        assert manifest["synth"]["requests"]["sent"] == LIMITED_REQUESTS

        # Rerun from the cache: the same job, every answer already stored.
        recipe = make_recipe(
            limited_dir, JOB.format(records=3 * LIMITED_REQUESTS, llm=llm_table("http://127.0.0.1:9"))
        )
        start = time.monotonic()
        cached = run_synth(recipe, Layout(recipe.name, limited_dir), force=True, progress=False)["synthetic"]
        cached_s = time.monotonic() - start
        assert cached["synth"]["requests"]["cache_hits"] == LIMITED_REQUESTS

    print(f"server limit: {LIMIT_RPM} requests/min (429 + Retry-After beyond it)")
    print(
        f"synth with client limiter at {LIMIT_RPM}/min: {LIMITED_REQUESTS} requests in {seconds:.1f} s, "
        f"achieved {rpm:.0f}/min, achieved/limit = {rpm / LIMIT_RPM:.3f} (target >= 0.95), "
        f"429s received = {n429} (target 0)"
    )
    print(
        f"baseline without client limiter: {BASELINE_REQUESTS} requests in {base_s:.1f} s, "
        f"achieved/limit = {base_rpm / LIMIT_RPM:.3f}, 429s received = {base_429} "
        f"({base_429 / BASELINE_REQUESTS:.2f} per request)"
    )
    print(
        f"rerun from the response cache: {LIMITED_REQUESTS} requests in {cached_s:.2f} s, "
        f"{seconds / cached_s:.0f}x faster than live, 0 requests sent"
    )


if __name__ == "__main__":
    main()
