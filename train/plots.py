"""The learning-curve PNG of a run: train loss and dev loss over steps, learning rate on a second axis.

from train.plots import plot_learning_curve
plot_learning_curve(trainer.state.log_history, run_dir / "learning_curve.png")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def curve_points(log_history: Sequence[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """(step, value) series from a Trainer log history: train_loss, dev_loss, dev_<source>_loss, lr."""
    series: dict[str, list[tuple[int, float]]] = {"train_loss": [], "dev_loss": [], "learning_rate": []}
    for entry in log_history:
        step = int(entry.get("step", 0))
        if "loss" in entry:
            series["train_loss"].append((step, float(entry["loss"])))
        if "learning_rate" in entry:
            series["learning_rate"].append((step, float(entry["learning_rate"])))
        for key, value in entry.items():
            if key.startswith("eval_dev") and key.endswith("_loss"):
                name = key.removeprefix("eval_")
                series.setdefault(name, []).append((step, float(value)))
    return series


def plot_learning_curve(log_history: Sequence[dict[str, Any]], out: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    series = curve_points(log_history)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, points in series.items():
        if name == "learning_rate" or not points:
            continue
        xs, ys = zip(*points, strict=True)
        style = "-" if name == "train_loss" else "o-" if name == "dev_loss" else "o:"
        ax.plot(xs, ys, style, label=name.replace("_", " "), linewidth=1.5 if name != "train_loss" else 1.0)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (completion tokens)")
    ax.grid(alpha=0.3)
    if series["learning_rate"]:
        ax2 = ax.twinx()
        xs, ys = zip(*series["learning_rate"], strict=True)
        ax2.plot(xs, ys, "--", color="gray", alpha=0.6, label="learning rate")
        ax2.set_ylabel("learning rate")
        ax2.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper right", fontsize=8)
    else:
        ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "learning curve", fontsize=10)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
