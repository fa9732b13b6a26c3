"""synthmix: does synthetic data help your small-LLM fine-tune, and by how much?

The core package holds what every stage shares: the ``Record`` type (``synthmix.record``), dataset I/O
(``synthmix.store``), recipes (``synthmix.recipe``), errors and the CLI (``python -m synthmix --help``).
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def code_version() -> str:
    """Package version plus the git commit (and ``-dirty``) when run from a checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=10"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+{sha}" if sha else __version__
