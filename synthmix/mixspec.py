"""Mix specs as users write them: ``synthetic+flores`` (equal shares) or ``synthetic:0.3+flores:0.7``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from synthmix.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class MixSpec:
    """Named sources with weights that sum to 1, in the order written (sorted for the canonical name)."""

    parts: tuple[tuple[str, float], ...]

    @property
    def sources(self) -> list[str]:
        return [name for name, _ in self.parts]

    @property
    def canonical(self) -> str:
        """Order-independent spelling used in ids and directory names."""
        parts = sorted(self.parts)
        if len({w for _, w in parts}) == 1:
            return "+".join(n for n, _ in parts)
        return "+".join(f"{n}:{w:g}" for n, w in parts)


def parse_mix(spec: str, key: str = "MIX") -> MixSpec:
    """Parse a mix spec; errors name ``key`` (the flag or recipe key the spec came from)."""
    spec = spec.strip()
    if not spec:
        raise ConfigError(f"{key}: empty mix; name curated sources like 'synthetic+flores'")
    raw: list[tuple[str, float | None]] = []
    for part in spec.split("+"):
        name, sep, weight = part.strip().partition(":")
        if not _NAME.match(name):
            raise ConfigError(f"{key}: {part!r} is not a source name (letters, digits, _ . -)")
        if sep:
            try:
                w = float(weight)
            except ValueError:
                raise ConfigError(f"{key}: weight {weight!r} of {name!r} is not a number") from None
            if not w > 0:
                raise ConfigError(f"{key}: weight of {name!r} must be > 0, got {weight}")
            raw.append((name, w))
        else:
            raw.append((name, None))
    names = [n for n, _ in raw]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: a source is named twice in {spec!r}")
    given = [w for _, w in raw if w is not None]
    if given and len(given) != len(raw):
        raise ConfigError(f"{key}: give a weight to every source or to none in {spec!r}")
    weights = given if given else [1.0] * len(raw)
    total = sum(weights)
    # Normalized so nothing is silently oversampled: weights are shares of the budget.
    return MixSpec(tuple((n, w / total) for n, w in zip(names, weights, strict=True)))
