"""Versioned prompt templates: ``synth/templates/<name>@v<N>.txt``, rendered into chat messages.

    t = load_template("translation_pairs@v1")
    t.id, t.hash                     # go into every record's meta and the manifest
    messages = t.render(src_name="German", tgt_name="French", n=10, examples="...", steer="")

A template file starts with ``#`` comment lines, then ``=== system`` and ``=== user`` sections; ``$name``
placeholders are filled with ``string.Template`` (so JSON braces need no escaping). A recipe may also
name a file path (``template = "prompts/my_pairs@v1.txt"``). Changing a template means a new version
file: the id and content hash in provenance then say exactly which prompt produced a record.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

from synthmix.errors import ConfigError

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    hash: str
    sections: tuple[tuple[str, str], ...]  # (role, text) in order

    def render(self, **values: object) -> tuple[dict[str, str], ...]:
        """Chat messages with every ``$placeholder`` filled; a missing value is a bug, so it raises."""
        out = []
        for role, text in self.sections:
            try:
                content = string.Template(text).substitute({k: str(v) for k, v in values.items()})
            except KeyError as e:
                raise ValueError(f"template {self.id}: no value for placeholder ${e.args[0]}") from None
            out.append({"role": role, "content": content.strip()})
        return tuple(out)


def parse_template(template_id: str, text: str) -> PromptTemplate:
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("=== "):
            role = line[4:].strip()
            if role not in ("system", "user", "assistant"):
                raise ConfigError(
                    f"template {template_id}: unknown section {role!r} (system | user | assistant)"
                )
            sections.append((role, []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ConfigError(
                f"template {template_id}: text before the first '=== system' or '=== user' line"
            )
    if not any(role == "user" for role, _ in sections):
        raise ConfigError(f"template {template_id}: needs a '=== user' section")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return PromptTemplate(template_id, digest, tuple((r, "\n".join(lines)) for r, lines in sections))


def load_template(name: str, key: str = "template") -> PromptTemplate:
    """A shipped template by id (``translation_pairs@v1``) or a template file by path."""
    path = Path(name) if name.endswith(".txt") or "/" in name else TEMPLATE_DIR / f"{name}.txt"
    if not path.is_file():
        shipped = sorted(p.stem for p in TEMPLATE_DIR.glob("*.txt"))
        raise ConfigError(
            f"{key}: no prompt template {name!r}; shipped: {', '.join(shipped)}, or a .txt path"
        )
    return parse_template(path.stem, path.read_text(encoding="utf-8"))
