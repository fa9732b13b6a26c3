"""Turn an LLM answer into validated items, or a rejection reason; never raise on bad output.

    parsed = parse_items(text, finish_reason, list_key="pairs", required=("src", "tgt"))
    parsed.reason   # "" or malformed_json | truncated | refusal | schema_invalid | empty
    parsed.items    # [{"src": ..., "tgt": ...}, ...] with stripped strings
    parsed.invalid  # (item, reason) for items that break the schema

Strict: the answer must be one JSON object (a ```json fence, which local models like to add, is
tolerated) holding a list under ``list_key`` whose items carry every required key as a non-empty
string. Item-level checks that need the prompt (copied examples, language) live in the generators.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from synthmix.record import normalize_text

# Typical refusals in the languages this project generates; only checked when the answer is not JSON.
_REFUSAL = re.compile(
    r"^\W*(i\s*(can(no|')t|cannot|am\s+(unable|not\s+able)|'m\s+(sorry|unable|not\s+able)|apologi[sz]e)"
    r"|sorry|as\s+an\s+ai|i\s+won't|unfortunately"
    r"|es\s+tut\s+mir\s+leid|ich\s+kann\s+(das\s+)?nicht|leider"
    r"|je\s+(ne\s+peux|suis\s+désolé)|désolé)",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)


@dataclass
class Parsed:
    items: list[dict[str, str]] = field(default_factory=list)
    invalid: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    reason: str = ""
    detail: str = ""


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.match(text.strip()))


def strip_fence(text: str) -> str:
    m = _FENCE.match(text)
    return m.group(1) if m else text


def parse_items(
    text: str,
    finish_reason: str,
    list_key: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> Parsed:
    """Validate one answer against the ``{list_key: [{required...}]}`` schema the template asks for."""
    if finish_reason == "length":
        # A cut-off answer may still parse partly, but its last items are suspect: the whole answer goes.
        return Parsed(reason="truncated", detail="finish_reason=length (raise llm.max_tokens)")
    if finish_reason == "content_filter":
        return Parsed(reason="refusal", detail="finish_reason=content_filter")
    if finish_reason == "json_validate_failed":
        return Parsed(reason="malformed_json", detail="the server's JSON mode rejected the answer")
    body = strip_fence(text).strip()
    if not body:
        return Parsed(reason="empty", detail="the answer has no text")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as e:
        if is_refusal(body):
            return Parsed(reason="refusal", detail=body[:200])
        return Parsed(reason="malformed_json", detail=f"{e.msg} at char {e.pos}")
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        got = sorted(data)[:5] if isinstance(data, dict) else type(data).__name__
        return Parsed(
            reason="schema_invalid", detail=f"expected an object with a list {list_key!r}, got {got}"
        )
    out = Parsed()
    for item in data[list_key]:
        if not isinstance(item, dict):
            out.invalid.append(({"value": str(item)}, "schema_invalid"))
            continue
        values = {k: item.get(k) for k in (*required, *optional)}
        if any(not isinstance(values[k], str) or not normalize_text(str(values[k])) for k in required):
            out.invalid.append((item, "missing_field"))
            continue
        out.items.append({k: v.strip() for k, v in values.items() if isinstance(v, str) and v.strip()})
    if not out.items and not out.invalid:
        out.reason, out.detail = "empty", f"the list {list_key!r} is empty"
    return out
