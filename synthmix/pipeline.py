"""The ``corpus`` job: ingest -> synth -> curate -> mixes -> cards for one recipe, with a preflight first.

The preflight runs before any stage and fails within seconds when the recipe needs something this machine
does not have (network for Wikipedia / the Hub / Groq, an API key), naming what is missing and the
offline sample recipe to run instead. Stage modules are imported lazily: the core package stays upstream
of every stage.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from synthmix.config.sources import HubSourceConfig, WikipediaSourceConfig
from synthmix.errors import MissingRequirementError
from synthmix.layout import Layout
from synthmix.recipe import Recipe

log = logging.getLogger(__name__)

OFFLINE_HINT = (
    "To try synthmix with no network or key, run the offline sample: make corpus RECIPE=recipes/sample.toml"
)
GROQ_HOST = "api.groq.com"
HUB_HOST = "huggingface.co"


@dataclass(frozen=True)
class Need:
    """Something the recipe needs from outside: a host to reach or an environment variable."""

    what: str  # "host" | "env"
    name: str
    why: str  # the recipe key that needs it


def reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """One TCP connect, bounded: DNS failure or no route answers within ``timeout`` seconds."""
    try:
        socket.setdefaulttimeout(timeout)
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(None)


def recipe_needs(recipe: Recipe, offline: bool = False) -> list[Need]:
    """What the recipe's corpus job needs from outside this machine (empty for the offline sample)."""
    needs: list[Need] = []
    for name, src in recipe.sources.items():
        if isinstance(src, WikipediaSourceConfig) and not src.html_dir and not offline:
            host = urlparse(src.api_url).hostname if src.api_url else f"{src.lang}.wikipedia.org"
            needs.append(Need("host", host or "", f"sources.{name}"))
        local_dataset = isinstance(src, HubSourceConfig) and bool(src.dataset) and Path(src.dataset).exists()
        if (
            isinstance(src, HubSourceConfig)
            and not local_dataset
            and not offline
            and os.environ.get("HF_HUB_OFFLINE") != "1"
        ):
            needs.append(Need("host", HUB_HOST, f"sources.{name}"))
    for name, job in recipe.synth.items():
        llm = job.llm
        if llm.backend == "groq":
            needs.append(Need("env", llm.api_key_env, f"synth.{name}.llm"))
            host = urlparse(llm.base_url).hostname if llm.base_url else GROQ_HOST
            if host not in ("127.0.0.1", "localhost", "::1"):
                needs.append(Need("host", host or GROQ_HOST, f"synth.{name}.llm"))
        elif llm.backend == "openai":
            host = urlparse(llm.base_url).hostname
            if host not in ("127.0.0.1", "localhost", "::1"):
                needs.append(Need("host", host or "", f"synth.{name}.llm.base_url"))
    return needs


def preflight(recipe: Recipe, offline: bool = False) -> None:
    """Raise ``MissingRequirementError`` listing every unmet need, before anything is written."""
    missing: list[str] = []
    checked: dict[str, bool] = {}
    for need in recipe_needs(recipe, offline):
        if need.what == "env" and not os.environ.get(need.name):
            missing.append(f"environment variable {need.name} is not set (needed by {need.why})")
        elif need.what == "host":
            if need.name not in checked:
                checked[need.name] = reachable(need.name)
            if not checked[need.name]:
                missing.append(f"cannot reach {need.name} (needed by {need.why}); is there a network?")
    if missing:
        lines = "\n  - ".join(dict.fromkeys(missing))
        raise MissingRequirementError(
            f"recipe {recipe.path or recipe.name} cannot run here:\n  - {lines}\n{OFFLINE_HINT}"
        )


def run_corpus(recipe: Recipe, layout: Layout, *, offline: bool = False, force: bool = False) -> None:
    """Every stage of the corpus job in order; each skips outputs that are complete and current."""
    preflight(recipe, offline=offline)
    from curate.mixing import build_mixes
    from curate.stage import run_curate
    from data_cards.cards import write_cards
    from ingest.stage import run_ingest
    from synth.stage import run_synth

    run_ingest(recipe, layout, offline=offline, force=force)
    run_synth(recipe, layout, force=force)
    run_curate(recipe, layout, force=force)
    build_mixes(recipe, layout, recipe.mix.build, force=force)
    write_cards(recipe, layout)
