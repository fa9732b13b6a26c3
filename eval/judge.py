"""LLM-as-judge through the synth client layer: single-answer 1-5 ratings and pairwise comparisons.

    [eval.judge]
    enabled = true
    template = "judge_single@v1"          # eval/templates/judge_single@v1.txt
    pairwise = true                       # also judge every condition against the base, in both orders
    [eval.judge.llm]
    backend = "groq"
    model = "llama-3.3-70b-versatile"
    temperature = 0.0

Prompts are versioned files (eval/templates/<name>@v<N>.txt, the synth template format: ``=== system`` /
``=== user`` / ``=== assistant`` sections); the template id and content hash are stored with every
verdict. The single-answer template carries two worked examples (one good answer rated 5, one bad rated
1) as earlier turns, as the reference experiment's 2-shot judge did; ``few_shot = false`` drops them.

Requests go through synth.client (Groq, any OpenAI-compatible server, local transformers) with the shared
SQLite response cache (``data/cache/llm.sqlite``, job ``eval.judge``), a rate limiter and retries that honour
Retry-After, so a rerun never pays twice.

Verdicts are parsed strictly: a single rating must appear exactly once as ``Rating: [[N]]`` with N an
integer 1-5, a pairwise verdict exactly once as ``[[A]]``, ``[[B]]`` or ``[[C]]`` (tie). Anything else is
rejected with a reason and counted, never guessed. Pairwise comparisons run in both orders; verdicts
that disagree (A wins, then A wins again with the answers swapped) are position-biased and count as ties.

If the judge model also generated synthetic training data for this recipe, a warning says so: a model
tends to prefer text like its own, which favours the synthetic conditions.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthmix.config.synth import LLMConfig
from synthmix.errors import ConfigError
from synthmix.layout import Layout
from synthmix.recipe import Recipe
from synthmix.store import is_complete, read_manifest

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
JOB = "eval.judge"

_RATING = re.compile(r"rating\s*:\s*\[\[\s*([^\]]*?)\s*\]\]", re.IGNORECASE)
_ANY_BRACKETS = re.compile(r"\[\[\s*([^\]]*?)\s*\]\]")


class VerdictError(ValueError):
    """A judge answer that does not hold exactly one well-formed verdict; ``reason`` is a short code."""

    def __init__(self, reason: str, text: str):
        super().__init__(f"{reason}: {text[-200:]!r}")
        self.reason = reason


def parse_rating(text: str) -> int:
    """The 1-5 rating in ``Rating: [[N]]``; raises ``VerdictError`` unless there is exactly one, valid."""
    found = _RATING.findall(text)
    if not found:
        raise VerdictError("no_verdict", text)
    if len(found) > 1:
        raise VerdictError("multiple_verdicts", text)
    if len(_ANY_BRACKETS.findall(text)) > 1:  # e.g. "[[2]] ... Rating: [[5]]": which one is meant?
        raise VerdictError("multiple_verdicts", text)
    value = found[0]
    if not re.fullmatch(r"[0-9]+", value):
        raise VerdictError("not_an_integer", text)
    rating = int(value)
    if not 1 <= rating <= 5:
        raise VerdictError("out_of_range", text)
    return rating


def parse_preference(text: str) -> str:
    """``A``, ``B`` or ``tie`` from ``[[A]]`` / ``[[B]]`` / ``[[C]]``; raises ``VerdictError`` otherwise."""
    found = _ANY_BRACKETS.findall(text)
    if not found:
        raise VerdictError("no_verdict", text)
    if len(found) > 1:
        raise VerdictError("multiple_verdicts", text)
    value = found[0].strip().upper()
    if value not in ("A", "B", "C"):
        raise VerdictError("unknown_verdict", text)
    return "tie" if value == "C" else value


def combine_orders(first: str, swapped: str) -> tuple[str, bool]:
    """Outcome for the pair (x, y) from the verdict with x shown as A and the one with x shown as B.

    Returns ("x" | "y" | "tie", consistent). Verdicts that disagree once the swap is undone are a position
    effect, not a preference: they count as a tie and as inconsistent.
    """
    undo = {"A": "B", "B": "A", "tie": "tie"}[swapped]
    if first == undo:
        return ({"A": "x", "B": "y", "tie": "tie"}[first], True)
    return ("tie", False)


# --- templates --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeTemplate:
    id: str
    hash: str
    sections: tuple[tuple[str, str], ...]

    def messages(self, few_shot: bool = True, **values: str) -> tuple[dict[str, str], ...]:
        from synth.template import PromptTemplate

        sections = self.sections
        if not few_shot:
            # The worked examples are the turns between the system prompt and the final user turn.
            system = [s for s in sections[:1] if s[0] == "system"]
            sections = (*system, sections[-1])
        return PromptTemplate(self.id, self.hash, sections).render(**values)


def load_judge_template(name: str, key: str = "eval.judge.template") -> JudgeTemplate:
    from synth.template import parse_template

    path = Path(name) if name.endswith(".txt") or "/" in name else TEMPLATE_DIR / f"{name}.txt"
    if not path.is_file():
        shipped = sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt"))
        raise ConfigError(f"{key}: no judge template {name!r}; shipped: {', '.join(shipped)}")
    t = parse_template(path.stem, path.read_text(encoding="utf-8"))
    if t.sections[-1][0] != "user":
        raise ConfigError(f"{key}: template {name} must end with a '=== user' section (the item to judge)")
    return JudgeTemplate(t.id, t.hash, t.sections)


# --- the client -------------------------------------------------------------------------------------------


@dataclass
class JudgeStats:
    requests: int = 0
    cached: int = 0
    failed: int = 0
    malformed: Counter[str] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Judge:
    """Sends judge prompts through a synth backend with the shared cache, rate limiter and retries."""

    def __init__(self, llm: LLMConfig, cache_path: Path, backend: Any = None):
        from synth.cache import ResponseCache
        from synth.client import make_backend
        from synth.ratelimit import RateLimiter

        self.llm = llm
        self.backend = backend if backend is not None else make_backend(llm, job_key="eval.judge.llm")
        self.cache = ResponseCache(cache_path)
        self.limiter = RateLimiter(llm.requests_per_minute, llm.tokens_per_minute)
        self.stats = JudgeStats()

    def close(self) -> None:
        self.cache.close()
        self.backend.close()

    def ask(self, messages: Sequence[dict[str, str]], index: int) -> str | None:
        """The judge's answer text (cached when asked before), or None when the request failed for good."""
        from synth.cache import cache_key
        from synth.client import ChatRequest, GenerationFailed, TransientError

        request = ChatRequest(
            messages=tuple(dict(m) for m in messages),
            temperature=self.llm.temperature,
            top_p=self.llm.top_p,
            max_tokens=self.llm.max_tokens,
            seed=self.llm.seed,
            json_mode=False,  # verdicts are free text ending in [[...]]
        )
        key = cache_key(self.backend.identity, request)
        hit = self.cache.get(key)
        if hit is not None:
            self.stats.cached += 1
            return _text_of(hit)
        base = float(getattr(self.llm, "retry_base_s", 1.0))
        cap = float(getattr(self.llm, "retry_max_s", 60.0))
        for attempt in range(self.llm.max_retries + 1):
            self.limiter.acquire(0)
            requested = time.time()
            self.stats.requests += 1
            try:
                response = self.backend.complete(request, index)
            except TransientError as e:
                if attempt >= self.llm.max_retries:
                    log.warning("judge request %d failed after %d retries: %s", index, attempt, e)
                    break
                delay = e.retry_after if e.retry_after is not None else min(cap, base * 2**attempt)
                if e.kind == "rate_limit":
                    self.limiter.pause(delay)
                else:
                    time.sleep(delay)
                continue
            except GenerationFailed as e:
                log.warning("judge request %d refused: %s", index, e)
                break
            self.stats.prompt_tokens += response.prompt_tokens
            self.stats.completion_tokens += response.completion_tokens
            self.cache.put(
                key,
                backend=self.backend.identity,
                model=self.llm.model,
                job=JOB,
                index=index,
                request=request,
                response=response.raw,
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                requested_unix=requested,
            )
            return str(response.text)
        self.stats.failed += 1
        return None

    def ask_all(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str | None]:
        with ThreadPoolExecutor(max_workers=max(1, self.llm.concurrency)) as pool:
            return list(pool.map(self.ask, conversations, range(len(conversations))))


def _text_of(raw: dict[str, Any]) -> str:
    from synth.client import ChatResponse

    return str(ChatResponse.from_dict(raw).text)


def check_judge_ready(recipe: Recipe) -> None:
    """Fail before any training or generation when the judge cannot be asked (no API key, bad template).

    Builds the API backend (which checks the key) and loads the templates; a local transformers judge is
    loaded only when it is used.
    """
    cfg = recipe.eval.judge
    if not (cfg.enabled and "judge" in recipe.eval.metrics):
        return
    load_judge_template(cfg.template)
    if cfg.pairwise:
        load_judge_template(cfg.pairwise_template, "eval.judge.pairwise_template")
    if cfg.llm.backend in ("groq", "openai"):
        from synth.client import make_backend

        make_backend(cfg.llm, job_key="eval.judge.llm").close()


# --- single-answer grading --------------------------------------------------------------------------------


def _values(row: dict[str, Any]) -> dict[str, str]:
    return {
        "task": row.get("task") or _task_of(row),
        "input": row.get("input") or "",
        "reference": row.get("reference") or "",
    }


def _task_of(row: dict[str, Any]) -> str:
    # The task line as train.prompts states it: the first line of the prompt's final user turn.
    prompt = str(row.get("prompt") or "")
    inp = str(row.get("input") or "")
    head = prompt.rsplit(inp, 1)[0] if inp and inp in prompt else prompt
    lines = [line for line in head.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "Answer the request."


def rate_answers(
    judge: Judge, template: JudgeTemplate, rows: Sequence[dict[str, Any]], few_shot: bool = True
) -> list[dict[str, Any]]:
    """One verdict dict per row: rating (or None), the reason when rejected, the judge's text."""
    conversations = [
        template.messages(few_shot, answer=str(r.get("output") or ""), **_values(r)) for r in rows
    ]
    answers = judge.ask_all(conversations)
    out = []
    for text in answers:
        verdict: dict[str, Any] = {"rating": None, "template": template.id, "template_hash": template.hash}
        if text is None:
            verdict["rejected"] = "request_failed"
        else:
            verdict["text"] = text
            try:
                verdict["rating"] = parse_rating(text)
            except VerdictError as e:
                verdict["rejected"] = e.reason
                judge.stats.malformed[e.reason] += 1
        out.append(verdict)
    return out


def judge_rows(recipe: Recipe, layout: Layout, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rate every generated output in ``rows`` (in place: ``row["judge"]``); returns the summary."""
    cfg = recipe.eval.judge
    warn_if_self_judging(recipe, layout)
    template = load_judge_template(cfg.template)
    todo = [r for r in rows if r.get("output") is not None]
    if cfg.max_items:
        todo = todo[: cfg.max_items]
    judge = Judge(cfg.llm, layout.cache / "llm.sqlite")
    try:
        verdicts = rate_answers(judge, template, todo, cfg.few_shot)
    finally:
        judge.close()
    for row, verdict in zip(todo, verdicts, strict=True):
        row["judge"] = verdict
    ratings = [v["rating"] for v in verdicts if v["rating"] is not None]
    groups: dict[str, list[int]] = {}
    for row, verdict in zip(todo, verdicts, strict=True):
        if verdict["rating"] is not None and row.get("category"):
            groups.setdefault(str(row["category"]), []).append(verdict["rating"])
    return {
        "by_category": {cat: sum(v) / len(v) for cat, v in sorted(groups.items())},
        "model": f"{cfg.llm.backend}:{cfg.llm.model}",
        "template": template.id,
        "template_hash": template.hash,
        "judged": len(todo),
        "rated": len(ratings),
        "mean_rating": sum(ratings) / len(ratings) if ratings else None,
        "rejected": dict(sorted(Counter(v.get("rejected") for v in verdicts if v.get("rejected")).items())),
        "requests": judge.stats.requests,
        "cached": judge.stats.cached,
        "prompt_tokens": judge.stats.prompt_tokens,
        "completion_tokens": judge.stats.completion_tokens,
    }


# --- pairwise ---------------------------------------------------------------------------------------------


@dataclass
class PairwiseResult:
    """x vs y over the items judged in both orders."""

    wins_x: int = 0
    wins_y: int = 0
    ties: int = 0
    inconsistent: int = 0  # verdicts that flipped with the order (counted among the ties)
    malformed: int = 0  # items with a rejected verdict in either order (not counted above)
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def judged(self) -> int:
        return self.wins_x + self.wins_y + self.ties

    def as_dict(self) -> dict[str, Any]:
        return {
            "wins_x": self.wins_x,
            "wins_y": self.wins_y,
            "ties": self.ties,
            "inconsistent": self.inconsistent,
            "malformed": self.malformed,
            "failed": self.failed,
            "rejected": dict(sorted(self.reasons.items())),
            "win_rate_x": (self.wins_x + 0.5 * self.ties) / self.judged if self.judged else None,
        }


def compare_answers(
    judge: Judge,
    template: JudgeTemplate,
    rows: Sequence[dict[str, Any]],
    outputs_x: Sequence[str],
    outputs_y: Sequence[str],
) -> tuple[PairwiseResult, list[dict[str, Any]]]:
    """Judge x against y on every row, once with x as A and once with x as B."""
    conversations = []
    for row, x, y in zip(rows, outputs_x, outputs_y, strict=True):
        conversations.append(template.messages(True, answer_a=x, answer_b=y, **_values(row)))
        conversations.append(template.messages(True, answer_a=y, answer_b=x, **_values(row)))
    answers = judge.ask_all(conversations)
    result = PairwiseResult()
    details = []
    for i, row in enumerate(rows):
        first, swapped = answers[2 * i], answers[2 * i + 1]
        detail: dict[str, Any] = {"id": row.get("id"), "source": row.get("source")}
        if first is None or swapped is None:
            result.failed += 1
            detail["outcome"] = "failed"
            details.append(detail)
            continue
        try:
            v1, v2 = parse_preference(first), parse_preference(swapped)
        except VerdictError as e:
            result.malformed += 1
            result.reasons[e.reason] += 1
            detail["outcome"] = f"rejected:{e.reason}"
            details.append(detail)
            continue
        outcome, consistent = combine_orders(v1, v2)
        if not consistent:
            result.inconsistent += 1
        if outcome == "x":
            result.wins_x += 1
        elif outcome == "y":
            result.wins_y += 1
        else:
            result.ties += 1
        detail.update({"first": v1, "swapped": v2, "outcome": outcome, "consistent": consistent})
        details.append(detail)
    return result, details


def pairwise_conditions(
    recipe: Recipe,
    layout: Layout,
    rows_x: Sequence[dict[str, Any]],
    rows_y: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Pairwise judging of two conditions' per-sample rows (matched by source and id)."""
    cfg = recipe.eval.judge
    template = load_judge_template(cfg.pairwise_template, "eval.judge.pairwise_template")
    by_key = {(r["source"], r["id"]): r for r in rows_y if r.get("output") is not None}
    pairs = [(r, by_key[(r["source"], r["id"])]) for r in rows_x if (r["source"], r["id"]) in by_key]
    pairs = [(x, y) for x, y in pairs if x.get("output") is not None]
    if cfg.max_items:
        pairs = pairs[: cfg.max_items]
    judge = Judge(cfg.llm, layout.cache / "llm.sqlite")
    try:
        result, _details = compare_answers(
            judge,
            template,
            [x for x, _ in pairs],
            [x["output"] for x, _ in pairs],
            [y["output"] for _, y in pairs],
        )
    finally:
        judge.close()
    return {**result.as_dict(), "template": template.id, "template_hash": template.hash}


# --- self-judging warning ---------------------------------------------------------------------------------


def generator_models(recipe: Recipe, layout: Layout) -> set[str]:
    """Models that generated this recipe's synthetic data: from the recipe and from the synth manifests."""
    models = {job.llm.model for job in recipe.synth.values()}
    for name in recipe.synth:
        path = layout.synth(name)
        if is_complete(path):
            models |= set(_model_values(read_manifest(path)))
    return {m for m in models if m}


def _model_values(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            if k in ("model", "models") and isinstance(v, str):
                out.append(v)
            elif k == "models" and isinstance(v, list | dict):
                out += [str(m) for m in v]
            else:
                out += _model_values(v)
        return out
    if isinstance(obj, list):
        return [m for v in obj for m in _model_values(v)]
    return []


def _same_model(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return s.lower().rsplit("/", 1)[-1]

    return norm(a) == norm(b)


def warn_if_self_judging(recipe: Recipe, layout: Layout) -> list[str]:
    """Log a warning (and return the clashes) when the judge model also generated training data."""
    judge_model = recipe.eval.judge.llm.model
    clashes = sorted(m for m in generator_models(recipe, layout) if _same_model(m, judge_model))
    if clashes:
        log.warning(
            "the judge model %s also generated this recipe's synthetic data (%s): LLM judges favour text "
            "like their own, so judge scores may favour the synthetic conditions; use another judge model",
            judge_model,
            ", ".join(clashes),
        )
    return clashes
