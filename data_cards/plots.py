"""PNG plots beside a card: curation funnel, length histograms, source shares.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot global state, no display needed) and saved
without a timestamp or software stamp, so the same data gives the same bytes.

    paths = write_plots(assets_dir, facts, length_values(records))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

FUNNEL_PNG = "funnel.png"
LENGTHS_PNG = "lengths.png"
SOURCES_PNG = "sources.png"
ORIGIN_COLORS = {"real": "#2b6cb0", "synthetic": "#dd6b20", "mixed": "#718096"}
DPI = 100


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def funnel_plot(path: Path, funnel: list[dict[str, Any]], title: str) -> Path:
    """Records in and out of each curation stage, in stage order (first at the top)."""
    stages = [str(step.get("stage", "?")) for step in funnel]
    ins = [int(step.get("in") or 0) for step in funnel]
    outs = [int(step.get("out") or 0) for step in funnel]
    fig = Figure(figsize=(7, 0.5 * len(stages) + 1.5))
    ax = fig.add_subplot()
    ys = list(range(len(stages)))[::-1]
    ax.barh(ys, ins, color="#cbd5e0", label="in")
    ax.barh(ys, outs, color="#2f855a", label="out")
    for y, i, o in zip(ys, ins, outs, strict=True):
        ax.text(o, y, f" {o} / {i}", va="center", fontsize=8)
    ax.set_yticks(ys, stages)
    ax.set_xlabel("records")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    # Fixed margins instead of tight_layout, which draws the figure twice to measure it.
    fig.subplots_adjust(left=0.32, right=0.95, top=0.88, bottom=0.5 / fig.get_figheight() + 0.05)
    return _save(fig, path)


def length_plot(path: Path, lengths: dict[str, dict[str, list[int]]], labels: dict[str, str]) -> Path:
    """Histogram of character lengths per side (input / output), one colour per origin."""
    sides = [s for s in ("input", "output") if lengths.get(s)]
    fig = Figure(figsize=(5 * len(sides), 3.5))
    for i, side in enumerate(sides, start=1):
        ax = fig.add_subplot(1, len(sides), i)
        per_origin = lengths[side]
        top = max((max(v) for v in per_origin.values() if v), default=1)
        bins = min(40, max(5, top // 10 + 1))
        for origin in sorted(per_origin):
            ax.hist(
                per_origin[origin],
                bins=bins,
                range=(0, top),
                alpha=0.5,
                # One polygon per origin instead of one patch per bin: several times faster to draw.
                histtype="stepfilled",
                label=f"{origin} (n={len(per_origin[origin])})",
                color=ORIGIN_COLORS.get(origin),
            )
        ax.set_xlabel(f"{labels.get(side, side)} length (characters)")
        ax.set_ylabel("records")
        ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.95, wspace=0.25)
    return _save(fig, path)


def sources_plot(path: Path, sources: dict[str, dict[str, Any]], title: str) -> Path:
    """Records per source and split, stacked, coloured by whether the source is real or synthetic."""
    names = sorted(sources)
    fig = Figure(figsize=(max(4, 1.2 * len(names) + 2), 3.5))
    ax = fig.add_subplot()
    splits = sorted({s for v in sources.values() for s in v["by_split"]})
    bottoms = [0] * len(names)
    hatches = {"train": "", "dev": "//", "test": ".."}
    for split in splits:
        heights = [sources[n]["by_split"].get(split, 0) for n in names]
        colors = [ORIGIN_COLORS.get(_main_origin(sources[n]), "#718096") for n in names]
        ax.bar(
            names, heights, bottom=bottoms, color=colors, hatch=hatches.get(split, "xx"), edgecolor="white"
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for x, (name, total) in enumerate(zip(names, bottoms, strict=True)):
        ax.text(x, total, f"{sources[name]['share']:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("records")
    ax.set_title(title)
    # Colour says origin, hatch says split: one legend entry for each, drawn as neutral swatches.
    origins = sorted({_main_origin(sources[n]) for n in names})
    handles = [Patch(facecolor=ORIGIN_COLORS.get(o, "#718096"), label=o) for o in origins]
    if len(splits) > 1:
        handles += [
            Patch(facecolor="white", edgecolor="black", hatch=hatches.get(s, "xx"), label=s) for s in splits
        ]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.12, top=0.88)
    return _save(fig, path)


def _main_origin(source_stats: dict[str, Any]) -> str:
    origins: dict[str, int] = source_stats.get("by_origin") or {}
    return max(origins, key=lambda o: origins[o]) if origins else "mixed"


def write_plots(
    assets: Path, facts: dict[str, Any], lengths: dict[str, dict[str, list[int]]]
) -> dict[str, str]:
    """Draw every plot the facts support; returns {plot name: path relative to the card}."""
    out: dict[str, str] = {}
    funnel = facts.get("funnel")
    if isinstance(funnel, list) and funnel:
        funnel_plot(assets / FUNNEL_PNG, funnel, f"Curation funnel: {facts['name']}")
        out["funnel"] = f"assets/{FUNNEL_PNG}"
    if lengths:
        labels = facts.get("length_labels") or {}
        length_plot(assets / LENGTHS_PNG, lengths, labels)
        out["lengths"] = f"assets/{LENGTHS_PNG}"
    if facts["stats"]["sources"]:
        sources_plot(assets / SOURCES_PNG, facts["stats"]["sources"], f"Records per source: {facts['name']}")
        out["sources"] = f"assets/{SOURCES_PNG}"
    return out
