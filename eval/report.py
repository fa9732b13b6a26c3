"""The experiment report: ``reports/<recipe>/report.md`` + ``report.html``, plots, and ``comparison.json``.

``write_report(comparison, out_dir)`` renders what eval.compare computed: a table of every condition and
metric with its 95% confidence interval and Holm-adjusted p-value against the base; every pairwise test;
the metric signatures; a bar chart with CIs (``scores.png``); learning curves from the training runs' log
history (``learning_curves.png``); per-source scores; multiple-choice accuracy per category; judge results;
links to each mix's data card and each run's card; and sample outputs side by side. Links are relative,
so the report folder can be zipped or published as is.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from curate.relevance import METRICS_FILE, gate_dir_for, gate_report_lines
from eval.metrics import LOWER_IS_BETTER, format_score
from synthmix.layout import Layout
from synthmix.redact import redact, redact_text

log = logging.getLogger(__name__)

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
COMPARISON_JSON = "comparison.json"
SCORES_PNG = "scores.png"
CURVES_PNG = "learning_curves.png"


def _fmt(metric: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format_score(metric, value)


def _p(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ⏎ ")


def _link(target: str | Path | None, out_dir: Path, label: str) -> str:
    if not target:
        return ""
    rel = os.path.relpath(Path(target), out_dir)
    return f"[{label}]({Path(rel).as_posix()})"


# --- plots ------------------------------------------------------------------------------------------------


def plot_scores(comparison: dict[str, Any], path: Path) -> Path | None:
    """One panel per metric: a bar per condition with its 95% bootstrap CI as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics_ = comparison["metrics"]
    conditions = [c["name"] for c in comparison["conditions"]]
    if not metrics_ or not conditions:
        return None
    # At most three panels a row, so the figure stays readable at page width however many metrics.
    cols = min(3, len(metrics_))
    rows = -(-len(metrics_) // cols)
    panel_w = max(4.0, 1.1 * len(conditions) + 1.5)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols, 3.8 * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[len(metrics_) :]:
        ax.set_visible(False)
    for ax, metric in zip(flat, metrics_, strict=False):
        scores = [comparison["scores"][c].get(metric) or {} for c in conditions]
        values = [s.get("score", float("nan")) for s in scores]
        lo = [max(0.0, v - s["ci"][0]) if s.get("ci") else 0.0 for v, s in zip(values, scores, strict=True)]
        hi = [max(0.0, s["ci"][1] - v) if s.get("ci") else 0.0 for v, s in zip(values, scores, strict=True)]
        colors = ["#9e9e9e" if not c["mix"] else "#1f77b4" for c in comparison["conditions"]]
        ax.bar(range(len(conditions)), values, yerr=[lo, hi], capsize=4, color=colors)
        ax.set_xticks(range(len(conditions)))
        ax.set_xticklabels(conditions, rotation=30, ha="right", fontsize=8)
        arrow = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
        ax.set_title(f"{metric} ({arrow})", fontsize=10)
        if metric in LOWER_IS_BETTER and all(v > 0 for v in values if not math.isnan(v)):
            ax.set_yscale("log")
    fig.suptitle(
        "Scores with 95% bootstrap confidence intervals (grey: base model, blue: fine-tuned)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_learning_curves(runs: list[dict[str, Any]], path: Path) -> Path | None:
    """Training (and dev) loss against step for every run that logged any."""
    curves = [(r, r.get("history") or []) for r in runs]
    curves = [(r, h) for r, h in curves if any("loss" in e or "eval_loss" in e for e in h)]
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for run, history in curves:
        label = f"{run['condition']} (seed {run['seed']})"
        train = [(e["step"], e["loss"]) for e in history if "loss" in e and "step" in e]
        dev = [(e["step"], e["eval_loss"]) for e in history if "eval_loss" in e and "step" in e]
        if train:
            line = ax.plot(*zip(*train, strict=True), label=f"{label} train")[0]
            if dev:
                ax.plot(*zip(*dev, strict=True), "--o", color=line.get_color(), label=f"{label} dev", ms=3)
        elif dev:
            ax.plot(*zip(*dev, strict=True), "--o", label=f"{label} dev", ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("Learning curves")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- markdown ---------------------------------------------------------------------------------------------


def render_markdown(comparison: dict[str, Any], out_dir: Path, plots: dict[str, Path | None]) -> str:
    c = comparison
    metrics_ = c["metrics"]
    base = c["base"]
    lines = [
        f"# synthmix report: {c['recipe']}",
        "",
        c.get("description") or "",
        "",
        f"Model `{c['model']}` (quantization {c['quantization']}, prompt format `{c['prompt_format']}`); "
        f"{c['n_items']} test item(s) from {', '.join(c['test_sources'])}; seeds {', '.join(map(str, c['seeds']))}; "
        f"synthmix {c['code_version']}.",
        "",
        f"Significance: paired {c['test']} ({c['resamples']} {'resamples' if c['test'] == 'bootstrap' else 'trials'}) "
        "on per-sentence sufficient statistics (corpus BLEU/chrF recomputed for every resample), "
        f"Holm-adjusted over all pairs per metric; 95% CIs by percentile bootstrap. Base: **{base}**. "
        f"Marked * when the adjusted p < {c['alpha']}. Seeds of a condition are pooled per item.",
        "",
        "## Scores",
        "",
    ]
    header = ["condition", "trained on", "shots", "seeds"]
    for m in metrics_:
        header += [f"{m} [95% CI]", f"p (Holm) vs {base}"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cond in c["conditions"]:
        name = cond["name"]
        row = [
            f"**{name}**" if name == base else name,
            cond["mix"] or "base",
            str(cond["shots"]),
            str(len(cond["seeds"])),
        ]
        for m in metrics_:
            s = c["scores"][name].get(m)
            if not s:
                row += ["n/a", ""]
                continue
            spread = f" ±{s['seed_sd']:.2f} sd" if s.get("seed_sd") is not None else ""
            ci = f" [{_fmt(m, s['ci'][0])}, {_fmt(m, s['ci'][1])}]" if s.get("ci") else ""
            row.append(f"{_fmt(m, s['score'])}{ci}{spread}")
            test = _find_test(c, name, base, m)
            row.append("" if test is None else _p(test["p_holm"]) + ("*" if test["significant"] else ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Metric signatures:", ""]
    lines += [f"- `{m}`: `{c['signatures'].get(m, '')}`" for m in metrics_]
    if plots.get("scores"):
        lines += ["", f"![scores with 95% CIs]({SCORES_PNG})"]
    lines += ["", "## Pairwise tests", ""]
    lines += [
        "| A | B | metric | A - B | 95% CI of A - B | p | p (Holm) | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in c["tests"]:
        m = t["metric"]
        lines.append(
            f"| {t['a']} | {t['b']} | {m} | {t['delta']:+.2f} | [{t['ci_delta'][0]:+.2f}, {t['ci_delta'][1]:+.2f}] "
            f"| {_p(t['p_value'])} | {_p(t['p_holm'])}{'*' if t['significant'] else ''} | {t['n_items']} |"
        )
    if not c["tests"]:
        lines.append("| (fewer than two conditions) | | | | | | | |")
    if len(c["test_sources"]) > 1 or c.get("by_source"):
        lines += ["", "## Per source", ""]
        per_source_metrics = [m for m in metrics_ if m != "accuracy"]  # multiple choice is its own set
        header = ["source", "condition", *per_source_metrics]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for source, per_cond in c.get("by_source", {}).items():
            for name, scores in per_cond.items():
                cells = []
                for m in per_source_metrics:
                    s = scores.get(m)
                    cells.append(
                        f"{_fmt(m, s['score'])} [{_fmt(m, s['ci'][0])}, {_fmt(m, s['ci'][1])}]"
                        if s
                        else "n/a"
                    )
                lines.append(f"| {source} | {name} | " + " | ".join(cells) + " |")
    if c.get("multiple_choice"):
        lines += _mc_section(c)
    if c.get("judge"):
        lines += _judge_section(c)
    # The question relevance gate's held-out metrics, when the recipe has trained one (`synthmix gate`).
    gate_metrics = gate_dir_for(Layout(c["recipe"], out_dir.parent.parent)) / METRICS_FILE
    gate = gate_report_lines(gate_metrics, f"runs/{c['recipe']}/gate/{METRICS_FILE}")
    lines += ["", *gate] if gate else []
    lines += ["", "## Training", ""]
    if plots.get("curves"):
        lines += [f"![learning curves]({CURVES_PNG})", ""]
    if c["runs"]:
        lines += ["| condition | seed | mix | data card | run card | adapter |", "|---|---|---|---|---|---|"]
        for r in c["runs"]:
            lines.append(
                f"| {r['condition']} | {r['seed']} | {r['mix']} | {_link(r.get('data_card'), out_dir, 'data card')} "
                f"| {_link(r.get('run_card'), out_dir, 'run card')} | {_link(r['run_dir'], out_dir, Path(r['run_dir']).name)} |"
            )
    else:
        lines.append("No fine-tuned conditions.")
    lines += _samples_section(c, out_dir)
    return "\n".join(lines).rstrip() + "\n"


def _find_test(c: dict[str, Any], a: str, b: str, metric: str) -> dict[str, Any] | None:
    for t in c["tests"]:
        if t["metric"] == metric and {t["a"], t["b"]} == {a, b} and a != b:
            return dict(t)
    return None


def _mc_section(c: dict[str, Any]) -> list[str]:
    mc = c["multiple_choice"]
    cats = sorted({cat for per in mc.values() for cat in per.get("by_category", {})})
    lines = [
        "",
        "## Multiple choice",
        "",
        f"{next(iter(mc.values()))['shots']}-shot, accuracy % by log-likelihood of each choice (acc_norm: per character).",
        "",
    ]
    header = ["condition", "accuracy", "acc_norm", *cats]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, per in mc.items():
        cells = [
            f"{per['by_category'][cat]['accuracy']:.1f}" if cat in per["by_category"] else "" for cat in cats
        ]
        lines.append(
            f"| {name} | {per['accuracy']:.1f} | {per['accuracy_norm']:.1f} | " + " | ".join(cells) + " |"
        )
    return lines


def _judge_section(c: dict[str, Any]) -> list[str]:
    j = c["judge"]
    lines = ["", "## LLM judge", ""]
    if j.get("self_judging"):
        lines += [
            f"> **Warning**: the judge model also generated this recipe's synthetic data ({', '.join(j['self_judging'])}); "
            "LLM judges favour text like their own.",
            "",
        ]
    if j.get("single"):
        lines += [
            "| condition | mean rating (1-5) | rated | rejected verdicts | template |",
            "|---|---|---|---|---|",
        ]
        for name, s in j["single"].items():
            mean = "n/a" if s.get("mean_rating") is None else f"{s['mean_rating']:.2f}"
            rejected = ", ".join(f"{k}: {v}" for k, v in (s.get("rejected") or {}).items()) or "0"
            lines.append(f"| {name} | {mean} | {s['rated']}/{s['judged']} | {rejected} | {s['template']} |")
        cats = sorted({cat for s in j["single"].values() for cat in s.get("by_category") or {}})
        if cats:
            lines += ["", "Mean rating per category:", "", "| condition | " + " | ".join(cats) + " |"]
            lines.append("|" + "---|" * (len(cats) + 1))
            for name, s in j["single"].items():
                per = s.get("by_category") or {}
                lines.append(
                    f"| {name} | " + " | ".join(f"{per[c]:.2f}" if c in per else "" for c in cats) + " |"
                )
    if j.get("pairwise"):
        lines += [
            "",
            "Pairwise, each item judged in both orders; verdicts that flip with the order count as ties.",
            "",
            "| condition | vs | wins | losses | ties | of which inconsistent | malformed | win rate |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for p in j["pairwise"]:
            rate = "n/a" if p.get("win_rate_x") is None else f"{p['win_rate_x']:.2f}"
            lines.append(
                f"| {p['x']} | {p['y']} | {p['wins_x']} | {p['wins_y']} | {p['ties']} | {p['inconsistent']} "
                f"| {p['malformed']} | {rate} |"
            )
    return lines


def _samples_section(c: dict[str, Any], out_dir: Path) -> list[str]:
    lines = ["", "## Sample outputs", ""]
    links = [_link(path, out_dir, name) for name, path in c.get("sample_files", {}).items()]
    if links:
        lines += ["Per-sample outputs (JSONL): " + ", ".join(links), ""]
    names = [cond["name"] for cond in c["conditions"]]
    for item in c.get("samples", []):
        lines += [f"**{item['source']} / {item['id']}**", "", "| | |", "|---|---|"]
        lines.append(f"| input | {_cell(item['input'])} |")
        lines.append(f"| reference | {_cell(item['reference'])} |")
        for name in names:
            lines.append(f"| {name} | {_cell(item['outputs'].get(name, ''))} |")
        lines.append("")
    return lines


HTML_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} img {{ max-width: 100%; }} code {{ background: #f6f6f6; }}
blockquote {{ border-left: 4px solid #e0a000; margin: 0; padding: 0.2em 1em; background: #fff8e1; }}
</style></head><body>
{body}
</body></html>
"""


def render_html(markdown_text: str, title: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return HTML_TEMPLATE.format(title=html.escape(title), body=md.render(markdown_text))


def write_report(comparison: dict[str, Any], out_dir: Path) -> Path:
    """Write report.md, report.html, comparison.json and the plots into ``out_dir``; returns report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = {
        "scores": plot_scores(comparison, out_dir / SCORES_PNG),
        "curves": plot_learning_curves(comparison.get("runs", []), out_dir / CURVES_PNG),
    }
    # Model paths, sample outputs and judge texts pass through redaction like every other output.
    text = redact_text(render_markdown(comparison, out_dir, plots))
    (out_dir / COMPARISON_JSON).write_text(
        json.dumps(redact(comparison), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    (out_dir / REPORT_HTML).write_text(
        render_html(text, f"synthmix report: {comparison['recipe']}"), encoding="utf-8"
    )
    report = out_dir / REPORT_MD
    report.write_text(text, encoding="utf-8")
    return report
