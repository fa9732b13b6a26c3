"""docs/curate.md stays true: every curate and mix recipe key is documented, every reason is named."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from synthmix.config.curate import (
    CurateConfig,
    DecontamConfig,
    DedupConfig,
    LangIdConfig,
    MixConfig,
    QualityConfig,
)


def test_every_recipe_key_is_documented(project_root: Path) -> None:
    doc = (project_root / "docs/curate.md").read_text(encoding="utf-8")
    for cls in (CurateConfig, DedupConfig, LangIdConfig, QualityConfig, DecontamConfig, MixConfig):
        for f in dataclasses.fields(cls):
            if f.name in ("dedup", "langid", "quality", "decontam"):
                assert f"[curate.{f.name}]" in doc
                continue
            assert re.search(rf"^{f.name} = ", doc, re.MULTILINE), (
                f"{cls.__name__}.{f.name} not in docs/curate.md"
            )


def test_every_rejection_reason_is_documented(project_root: Path) -> None:
    doc = (project_root / "docs/curate.md").read_text(encoding="utf-8")
    sources = "".join(
        (project_root / "curate" / n).read_text(encoding="utf-8")
        for n in ("normalize.py", "quality.py", "decontam.py", "stage.py")
    )
    reasons = set(
        re.findall(
            r'"(too_\w+|null_bytes|missing_field|\w+_duplicate|wrong_language|repeated_\w+|'
            r'chat_preamble|refusal|markup|untranslated|length_ratio|ungrounded|contaminated\w*)"',
            sources,
        )
    )
    assert len(reasons) >= 15
    for reason in reasons:
        assert f"`{reason}`" in doc, reason
