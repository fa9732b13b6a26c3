"""Run one synth job: deterministic requests, cache first, bounded concurrency, rate limit, retries, budget.

    runner = JobRunner(name, job, generator, backend, cache, limiter, config_hash=h)
    result = runner.run()      # result.records, result.rejections, result.stats, result.stop

Request ``i`` is planned from (job config, seed, i) only, so the cache key of every request is known
before it is sent: a cached answer is used, anything else goes through the limiter to the backend, and
each answer is committed to the cache as it arrives. Requests are issued in index order until the
accepted items (estimated per answer as they arrive) reach ``records``, more are asked to replace
rejected output up to ``max_requests``, and a token or dollar budget stops issuing new requests. The
dataset is then assembled in index order, so the same answers always give the same records, whatever
order they arrived in.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from tqdm import tqdm

from synth.cache import ResponseCache, cache_key
from synth.client import (
    ChatBackend,
    ChatRequest,
    ChatResponse,
    GenerationFailed,
    TransientError,
    supports_json_mode,
)
from synth.generator import Generator, PlannedRequest
from synth.parsing import parse_items
from synth.ratelimit import RateLimiter
from synthmix import code_version
from synthmix.config.synth import SynthJobConfig
from synthmix.errors import SynthmixError
from synthmix.record import OUTPUT_FIELDS, ProvenanceStamp, Record
from synthmix.store import Rejection

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What became of request ``index``: an answer (fresh or cached) or a failure reason."""

    index: int
    planned: PlannedRequest
    request: ChatRequest
    key: str
    response: ChatResponse | None = None
    cached: bool = False
    failure: str = ""
    detail: str = ""


@dataclass
class JobStats:
    requests_planned: int = 0
    requests_completed: int = 0  # answered (fresh or cached) or failed for good
    cache_hits: int = 0
    responses_received: int = 0  # fresh answers this run
    http_requests: int = 0  # every attempt sent, retries included
    retries: int = 0
    rate_limited_429: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    failed_requests: int = 0
    prompt_tokens: int = 0  # of every answer the dataset was built from, cached or fresh
    completion_tokens: int = 0
    fresh_prompt_tokens: int = 0  # spent by this run
    fresh_completion_tokens: int = 0
    limiter_wait_s: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)


@dataclass
class JobResult:
    records: list[Record]
    rejections: list[Rejection]
    stats: JobStats
    stop: dict[str, Any] | None
    cost_usd: float
    fresh_cost_usd: float


_TRANSIENT_COUNTER = {
    "rate_limit": "rate_limited_429",
    "server_error": "server_errors",
    "timeout": "timeouts",
    "connection": "connection_errors",
}


class JobRunner:
    def __init__(
        self,
        name: str,
        job: SynthJobConfig,
        generator: Generator,
        backend: ChatBackend,
        cache: ResponseCache,
        limiter: RateLimiter,
        *,
        config_hash: str = "",
        progress: bool = True,
    ):
        self.name = name
        self.job = job
        self.llm = job.llm
        self.gen = generator
        self.backend = backend
        self.cache = cache
        self.limiter = limiter
        self.config_hash = config_hash
        self.progress = progress
        self.stats = JobStats()
        self._lock = threading.Lock()
        self._completion_mean = self.llm.max_tokens / 2
        self._json_mode = supports_json_mode(self.llm)
        self._version = code_version()

    # ---- requests -------------------------------------------------------------------------------------

    def request_for(self, planned: PlannedRequest) -> ChatRequest:
        return ChatRequest(
            messages=planned.messages,
            temperature=self.llm.temperature,
            top_p=self.llm.top_p,
            max_tokens=self.llm.max_tokens,
            # A distinct seed per request: two requests with the same few-shot sample still differ.
            seed=self.llm.seed + planned.index,
            json_mode=self._json_mode,
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.llm.price
        return (
            prompt_tokens * price.prompt_per_million + completion_tokens * price.completion_per_million
        ) / 1e6

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + n)

    def _estimate_tokens(self, request: ChatRequest) -> float:
        prompt = sum(len(m["content"]) for m in request.messages) / 4
        return prompt + self._completion_mean

    def _backoff(self, attempt: int) -> float:
        base = min(self.llm.retry_max_s, self.llm.retry_base_s * 2**attempt)
        return base * (0.5 + random.random() / 2)  # jitter so workers do not retry in lockstep

    def fetch(self, index: int) -> Outcome:
        """Worker: request ``index`` from the cache or the backend, with retries; never raises for bad output."""
        planned = self.gen.plan(index)
        request = self.request_for(planned)
        key = cache_key(self.backend.identity, request)
        hit = self.cache.get(key)
        if hit is not None:
            return Outcome(index, planned, request, key, ChatResponse.from_dict(hit), cached=True)
        estimate = self._estimate_tokens(request)
        attempt = 0
        while True:
            self.limiter.acquire(estimate)
            requested = time.time()
            self._count("http_requests")
            try:
                response = self.backend.complete(request, index)
            except TransientError as e:
                self._count(_TRANSIENT_COUNTER.get(e.kind, "server_errors"))
                self.limiter.settle(estimate, 0)
                if attempt >= self.llm.max_retries:
                    return Outcome(
                        index, planned, request, key, failure="retries_exhausted", detail=f"{e.kind}: {e}"
                    )
                delay = e.retry_after if e.retry_after is not None else self._backoff(attempt)
                log.debug("synth.%s request %d: %s, retrying in %.2fs", self.name, index, e.kind, delay)
                if e.kind == "rate_limit":
                    self.limiter.pause(delay)  # every worker holds off, not just this one
                else:
                    time.sleep(delay)
                attempt += 1
                self._count("retries")
                continue
            except GenerationFailed as e:
                self.limiter.settle(estimate, 0)
                if not e.text:
                    return Outcome(index, planned, request, key, failure=e.reason, detail=str(e))
                # The server generated text but refused it (Groq JSON mode): keep it as an answer so the
                # rejection is counted and a rerun does not pay for it again.
                response = ChatResponse.from_dict(
                    {
                        "model": self.llm.model,
                        "choices": [
                            {
                                "message": {"role": "assistant", "content": e.text},
                                "finish_reason": "json_validate_failed",
                            }
                        ],
                        "usage": {"prompt_tokens": 0, "completion_tokens": 0},
                    }
                )
            self.limiter.settle(estimate, response.total_tokens)
            self.limiter.observe_headers(response.headers)
            self.cache.put(
                key,
                backend=self.backend.identity,
                model=self.llm.model,
                job=self.name,
                index=index,
                request=request,
                response=response.raw,
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                requested_unix=requested,
            )
            with self._lock:
                self.stats.responses_received += 1
                self.stats.fresh_prompt_tokens += response.prompt_tokens
                self.stats.fresh_completion_tokens += response.completion_tokens
                n = self.stats.responses_received
                self._completion_mean += (response.completion_tokens - self._completion_mean) / n
            return Outcome(index, planned, request, key, response)

    # ---- items ----------------------------------------------------------------------------------------

    def _meta(self, o: Outcome) -> dict[str, Any]:
        r = o.response
        return {
            "generator": self.job.generator,
            "backend": self.backend.name,
            "model": self.llm.model,
            "response_model": r.model if r else "",
            "template": self.gen.template.id,
            "template_hash": self.gen.template.hash,
            "sampling": o.request.params(),
            "prompt_tokens": r.prompt_tokens if r else 0,
            "completion_tokens": r.completion_tokens if r else 0,
            "finish_reason": r.finish_reason if r else "",
            "cache_key": o.key,
            "request_index": o.index,
            **o.planned.meta,
        }

    def _record(self, o: Outcome, fields: dict[str, str]) -> Record:
        stamp = ProvenanceStamp("synth", self._version, self.config_hash, o.planned.parents)
        langs = self.gen.record_languages()
        return Record(
            kind=self.gen.kind,
            origin="synthetic",
            source=self.name,
            fields=fields,
            split="train",
            meta=self._meta(o),
            provenance=(stamp,),
            lang=langs.get("lang"),
            src_lang=langs.get("src_lang"),
            tgt_lang=langs.get("tgt_lang"),
        )

    def _placeholder(self, o: Outcome, text: str) -> Record:
        """A rejected answer that never became items still needs a Record: its raw text as the output."""
        return self._record(o, {OUTPUT_FIELDS[self.gen.kind]: text or "(no text)"})

    def items_of(self, o: Outcome) -> tuple[list[tuple[Record, str, str]], Rejection | None]:
        """Every item of one answer as (record, reason, detail) (reason "" = good), or the answer's rejection."""
        if o.response is None:
            return [], None
        r = o.response
        parsed = parse_items(r.text, r.finish_reason, self.gen.list_key, self.gen.required)
        if parsed.reason:
            return [], Rejection(self._placeholder(o, r.text), parsed.reason, parsed.detail)
        out = []
        for item, reason in parsed.invalid:
            fields = {k: v for k, v in item.items() if k in self.gen.required and isinstance(v, str) and v}
            out.append(
                (self._placeholder(o, str(item)) if not fields else self._record(o, fields), reason, "")
            )
        for item in parsed.items:
            fields = self.gen.to_fields(o.planned, item)
            reason, detail = self.gen.check(o.planned, fields)
            out.append((self._record(o, fields), reason, detail))
        return out, None

    def assemble(self, outcomes: dict[int, Outcome]) -> tuple[list[Record], list[Rejection], dict[int, int]]:
        """Records and rejections in index order (deterministic); also the accepted count per request."""
        records: list[Record] = []
        rejections: list[Rejection] = []
        accepted: dict[int, int] = {}
        seen: set[str] = set()
        for index in sorted(outcomes):
            o = outcomes[index]
            items, rejected = self.items_of(o)
            if rejected:
                rejections.append(rejected)
            accepted[index] = 0
            for record, reason, detail in items:
                if not reason and record.id in seen:
                    reason, detail = "duplicate", "same text as an earlier generated record"
                if not reason and len(records) >= self.job.records:
                    reason, detail = "surplus", f"beyond the {self.job.records} records asked for"
                if reason:
                    rejections.append(Rejection(record, reason, detail))
                    continue
                seen.add(record.id)
                records.append(record)
                accepted[index] += 1
        return records, rejections, accepted

    def _good_items(self, o: Outcome) -> int:
        items, _ = self.items_of(o)
        return sum(1 for _, reason, _ in items if not reason)

    # ---- the job --------------------------------------------------------------------------------------

    def _budget_stop(self) -> dict[str, Any] | None:
        s = self.stats
        spent = s.prompt_tokens + s.completion_tokens
        if self.llm.budget_tokens and spent >= self.llm.budget_tokens:
            return {"reason": "budget_tokens", "limit": self.llm.budget_tokens, "spent_tokens": spent}
        cost = self.cost(s.prompt_tokens, s.completion_tokens)
        if self.llm.budget_usd and cost >= self.llm.budget_usd:
            return {"reason": "budget_usd", "limit": self.llm.budget_usd, "spent_usd": round(cost, 6)}
        return None

    def run(self) -> JobResult:
        job = self.job
        first_round = math.ceil(job.records / job.per_request)
        max_requests = job.max_requests or 2 * first_round
        if self.backend.max_requests is not None:
            max_requests = min(max_requests, self.backend.max_requests)
        self.stats.requests_planned = min(first_round, max_requests)
        outcomes: dict[int, Outcome] = {}
        yields: dict[int, int] = {}
        next_index = 0
        stop: dict[str, Any] | None = None
        started = time.time()
        bar = tqdm(
            total=self.stats.requests_planned,
            desc=f"synth {self.name}",
            unit="req",
            disable=not self.progress,
            dynamic_ncols=True,
        )
        pool = ThreadPoolExecutor(max_workers=self.llm.concurrency, thread_name_prefix=f"synth-{self.name}")
        inflight: dict[Future[Outcome], int] = {}
        try:
            while True:
                next_index, stop = self._drive(
                    pool, inflight, outcomes, yields, bar, max_requests, next_index
                )
                records, rejections, accepted = self.assemble(outcomes)
                # Estimates ignore duplicates across answers; the exact count decides whether to ask more.
                if len(records) >= job.records or stop is not None or next_index >= max_requests:
                    break
                yields.update(accepted)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            bar.close()
            raise
        pool.shutdown(wait=True)
        bar.close()
        if stop is None and len(records) < job.records:
            if self.backend.max_requests is not None and next_index >= self.backend.max_requests:
                stop = {"reason": "recorded_responses_exhausted", "limit": self.backend.max_requests}
            elif next_index >= max_requests:
                stop = {"reason": "max_requests", "limit": max_requests}
        self.stats.limiter_wait_s = round(self.limiter.waited_s, 3)
        answered = sum(1 for o in outcomes.values() if o.response is not None)
        if outcomes and answered == 0:
            reasons = ", ".join(f"{k} x{v}" for k, v in sorted(self.stats.failures.items()))
            last = outcomes[max(outcomes)].detail
            raise SynthmixError(
                f"synth.{self.name}: all {len(outcomes)} requests to {self.backend.name} ({self.llm.base_url or 'default endpoint'}) "
                f"failed ({reasons}); last error: {last}. Answers already received are cached; rerun to resume."
            )
        if stop:
            stop.update(
                requests_done=len(outcomes),
                records=len(records),
                target_records=job.records,
                seconds=round(time.time() - started, 3),
            )
            log.warning(
                "synth.%s stopped early (%s): %d of %d records after %d requests; rerun with a higher limit to continue",
                self.name,
                stop["reason"],
                len(records),
                job.records,
                len(outcomes),
            )
        s = self.stats
        return JobResult(
            records,
            rejections,
            s,
            stop,
            cost_usd=round(self.cost(s.prompt_tokens, s.completion_tokens), 6),
            fresh_cost_usd=round(self.cost(s.fresh_prompt_tokens, s.fresh_completion_tokens), 6),
        )

    def _drive(
        self,
        pool: ThreadPoolExecutor,
        inflight: dict[Future[Outcome], int],
        outcomes: dict[int, Outcome],
        yields: dict[int, int],
        bar: Any,
        max_requests: int,
        next_index: int,
    ) -> tuple[int, dict[str, Any] | None]:
        """Issue requests in index order while the expected yield is short of the target; collect answers.

        Returns the next unissued index and the budget stop, if any.
        """
        job = self.job
        stop: dict[str, Any] | None = None
        while True:
            while len(inflight) < self.llm.concurrency and stop is None and next_index < max_requests:
                expected = sum(yields.values()) + len(inflight) * job.per_request
                if expected >= job.records:
                    break
                stop = self._budget_stop()
                if stop:
                    break
                if next_index >= self.stats.requests_planned:
                    self.stats.requests_planned = next_index + 1
                    bar.total = self.stats.requests_planned
                inflight[pool.submit(self.fetch, next_index)] = next_index
                next_index += 1
            if not inflight:
                break
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for future in done:
                del inflight[future]
                o = future.result()  # SynthmixError (bad key, unknown model) propagates and stops the job
                self._absorb(o, outcomes, yields)
                bar.update(1)
                bar.set_postfix(self._postfix(), refresh=False)
        return next_index, stop

    def _absorb(self, o: Outcome, outcomes: dict[int, Outcome], yields: dict[int, int]) -> None:
        outcomes[o.index] = o
        s = self.stats
        s.requests_completed += 1
        if o.response is None:
            s.failed_requests += 1
            s.failures[o.failure] = s.failures.get(o.failure, 0) + 1
            log.warning("synth.%s request %d failed: %s %s", self.name, o.index, o.failure, o.detail)
            yields[o.index] = 0
            return
        if o.cached:
            s.cache_hits += 1
        s.prompt_tokens += o.response.prompt_tokens
        s.completion_tokens += o.response.completion_tokens
        yields[o.index] = self._good_items(o)

    def _postfix(self) -> dict[str, str]:
        s = self.stats
        return {
            "sent": str(s.responses_received),
            "cached": str(s.cache_hits),
            "tokens": str(s.prompt_tokens + s.completion_tokens),
            "cost": f"${self.cost(s.prompt_tokens, s.completion_tokens):.4f}",
        }


def stats_dict(stats: JobStats) -> dict[str, Any]:
    return asdict(stats)
