"""Where a recipe's outputs live. Everything here is git-ignored; nothing is written inside packages.

data/<recipe>/ingest/<source>/     one dataset directory per real source
data/<recipe>/synth/<job>/         one per synth job (its name is the synthetic source's name)
data/<recipe>/curate/<source>/     curated sources (+ README.md card, card.json, plots)
data/<recipe>/mix/<mix dir>/       mixes (+ cards)
data/cache/                        HTTP and LLM response caches, shared by all recipes
runs/<recipe>/<run id>/            training runs (adapter, run card, learning curve)
reports/<recipe>/                  evaluation outputs and the report
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


def safe_dirname(name: str) -> str:
    """A mix spec like ``synthetic:0.3+flores:0.7`` as a directory name (``:`` is not portable)."""
    return _UNSAFE.sub("_", name.replace(":", "@"))


@dataclass(frozen=True)
class Layout:
    recipe: str
    root: Path = Path(".")

    @classmethod
    def for_recipe(cls, recipe_name: str) -> Layout:
        # SYNTHMIX_HOME lets tests and users put outputs elsewhere than the working directory.
        return cls(recipe_name, Path(os.environ.get("SYNTHMIX_HOME", ".")))

    @property
    def data(self) -> Path:
        return self.root / "data" / self.recipe

    @property
    def cache(self) -> Path:
        return self.root / "data" / "cache"

    def ingest(self, source: str) -> Path:
        return self.data / "ingest" / source

    def synth(self, job: str) -> Path:
        return self.data / "synth" / job

    def curate(self, source: str) -> Path:
        return self.data / "curate" / source

    def mix(self, canonical_spec: str) -> Path:
        return self.data / "mix" / safe_dirname(canonical_spec)

    @property
    def runs(self) -> Path:
        return self.root / "runs" / self.recipe

    @property
    def reports(self) -> Path:
        return self.root / "reports" / self.recipe
