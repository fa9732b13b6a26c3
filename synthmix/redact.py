"""Keep secrets, absolute paths and user names out of every manifest, card, log line and run card.

Everything synthmix writes for other people to read passes through ``redact``; tests plant a fake token and
a home path and check that neither survives.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

SECRET_ENV_VARS = ("GROQ_API_KEY", "HF_TOKEN", "OPENAI_API_KEY", "HUGGING_FACE_HUB_TOKEN")
_SECRET_KEY = re.compile(r"(^|_)(api_?key|token|secret|password|authorization)$", re.IGNORECASE)
_TOKEN_LIKE = re.compile(r"\b(gsk_[A-Za-z0-9]{8,}|hf_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{16,})\b")
_HOME_PATH = re.compile(r"(/home/|/Users/)[^/\s\"']+")
REDACTED = "<redacted>"


def _path_prefixes() -> list[tuple[str, str]]:
    # Longest first so the project root wins over the home directory that contains it.
    prefixes = {str(Path.cwd().resolve()) + os.sep: "", str(Path.home()) + os.sep: "~/"}
    return sorted(prefixes.items(), key=lambda kv: -len(kv[0]))


def redact_text(text: str) -> str:
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    text = _TOKEN_LIKE.sub(REDACTED, text)
    for prefix, short in _path_prefixes():
        if prefix not in ("/", os.sep):
            text = text.replace(prefix, short)
    return _HOME_PATH.sub("~", text)


def redact(obj: Any) -> Any:
    """A copy of a JSON-like value with secrets replaced and local paths made relative."""
    if isinstance(obj, dict):
        return {
            k: (REDACTED if _SECRET_KEY.search(str(k)) and isinstance(v, str) and v else redact(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, Path):
        return redact_text(str(obj))
    return obj
