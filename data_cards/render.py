"""The prose of a dataset card (the Markdown under the YAML header), rendered from ``card.json`` facts.

Sections: summary, structure, sources, synthetic generation, curation funnel, decontamination, statistics,
intended use, limitations and biases, how to reproduce. A fact that no upstream stage recorded is written as
"not recorded", never guessed.
"""

from __future__ import annotations

import json
from typing import Any

from data_cards.metadata import HUB_SPLITS, distinct_licenses

NOT_RECORDED = "not recorded"
LOAD_PLACEHOLDER = "<this repo or folder>"  # publish puts the repo id here
DECONTAM_LABELS = {
    "removed_all_sources": "Removed across all sources of the recipe",
    "ngram": "n-gram length",
    "rejected_by_reason": "Rejections by reason",
}


def fmt(value: Any) -> str:
    """A value for a Markdown table cell."""
    if value is None or value == "" or value == [] or value == {}:
        return NOT_RECORDED
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _summary(c: dict[str, Any]) -> str:
    s = c["stats"]
    splits = ", ".join(f"{n:,} {HUB_SPLITS.get(k, k)}" for k, n in s["by_split"].items()) or "no records"
    kinds = ", ".join(sorted(s["by_kind"])) or "none"
    langs = ", ".join(f"`{k}` ({n:,})" for k, n in s["by_language"].items()) or NOT_RECORDED
    shares = s["origin_shares"]
    synth_share = shares.get("synthetic", {}).get("share", 0.0)
    what = (
        f"a mix (`{c['mix']['spec']}`) of curated synthmix sources"
        if c.get("mix")
        else f"the curated source `{c['name']}`"
    )
    lines = [
        f"# {c['pretty_name']}",
        "",
        f"This dataset is {what}, built by synthmix with the recipe "
        f"`{c['recipe']}` to measure whether synthetic data helps fine-tune small LLMs.",
    ]
    if c.get("recipe_description"):
        lines += ["", f"> {c['recipe_description']}"]
    lines += [
        "",
        f"- **Records:** {s['records']:,} ({splits})",
        f"- **Kinds:** {kinds}",
        f"- **Languages:** {langs}",
        f"- **Synthetic share:** {_pct(synth_share)} of records"
        + (f" ({', '.join(x['source'] for x in c['synthetic'])})" if c["synthetic"] else ""),
        f"- **Card hash:** `{c['card_hash']}` (data output hash `{c['dataset']['output_hash']}`)",
    ]
    return "\n".join(lines)


def _structure(c: dict[str, Any]) -> str:
    s = c["stats"]
    rows = [[HUB_SPLITS.get(k, k), n] for k, n in s["by_split"].items()]
    return "\n".join(
        [
            "## Dataset structure",
            "",
            table(["split", "records"], rows),
            "",
            "Every row is one synthmix record: `id` (content hash, stable across versions), `kind` "
            "(translation | qa | instruction | passage), `origin` (real | synthetic), `source`, `split`, "
            "languages (`src_lang`/`tgt_lang` for pairs, `lang` otherwise), `fields` (the payload: "
            "`src`/`tgt`, `question`/`answer`/`context`, `instruction`/`response`, `text`), `meta` "
            "(a JSON string: origin URL, revision id, license, generator model, prompt template and hash, "
            "sampling params, tokens) and `provenance` (one stamp per pipeline stage, with the parent "
            "record ids a synthetic record was generated from).",
            "",
            "```python",
            "from datasets import load_dataset",
            f'ds = load_dataset("{LOAD_PLACEHOLDER}")',
            "```",
            *_examples(c),
        ]
    )


def _examples(c: dict[str, Any]) -> list[str]:
    out = []
    for kind, ex in (c["stats"].get("examples") or {}).items():
        out += [
            "",
            f"Example `{kind}` record ({ex['origin']}, from `{ex['source']}`; the first in the train split):",
            "",
            "```json",
            json.dumps(ex, ensure_ascii=False, indent=2),
            "```",
        ]
    return out


def _sources(c: dict[str, Any]) -> str:
    stats = c["stats"]["sources"]
    rows = []
    details = []
    for src in c["sources"]:
        where = src.get("hub_id") or (f"local file `{src['file']}`" if src.get("file") else None)
        if src["origin"] == "synthetic":
            where = f"generated from `{src.get('seeded_from')}`" if src.get("seeded_from") else "generated"
        elif src.get("origin_urls") and not src.get("hub_id"):
            n = src.get("origin_url_count") or len(src["origin_urls"])
            where = f"{n} page(s), e.g. {src['origin_urls'][0]}"
        rows.append(
            [
                f"`{src['name']}`",
                src["origin"],
                src.get("type"),
                src["records"],
                _pct(stats.get(src["name"], {}).get("share", 0.0)),
                where,
                src["licenses"],
                src.get("revision")
                or (f"{src['revision_id_count']} page revision(s)" if src.get("revision_id_count") else None),
            ]
        )
        if src.get("revision_ids"):
            pages = [f"  - {page}" for page in src["revision_ids"]]
            more = src.get("revision_id_count", 0) - len(pages)
            details.append(
                f"- `{src['name']}` page revisions (title@revid):\n"
                + "\n".join(pages)
                + (f"\n  - ... and {more} more" if more > 0 else "")
            )
        if src.get("hub_id"):
            details.append(
                f"- `{src['name']}`: Hub dataset [{src['hub_id']}](https://huggingface.co/datasets/{src['hub_id']})"
                f", config {fmt(src.get('hub_config'))}, revision {fmt(src.get('revision'))}"
            )
        if src.get("pages") is not None:
            details.append(
                f"- `{src['name']}`: {fmt(src['pages'])} page(s) read, "
                f"{fmt(src.get('pages_with_passages'))} with usable passages"
            )
        split = src.get("split")
        if split and (split.get("config") or split.get("limit")):
            parts_ = []
            if split.get("limit"):
                parts_.append(
                    f"a seeded sample of {fmt(split['limit'])} of {fmt(split.get('records_before_limit'))} records"
                )
            if split.get("config"):
                shares = {k: v for k, v in split["config"].items() if k != "seed" and v}
                parts_.append("a seeded split (" + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()) + ")")
            details.append(f"- `{src['name']}`: {' and '.join(parts_)}, seed {fmt(split.get('seed'))}")
    licenses = distinct_licenses([lic for s in c["sources"] for lic in s["licenses"]])
    if len(licenses) > 1:
        lic_text = (
            f"The sources carry different licenses ({', '.join(licenses)}), so the card metadata says "
            "`license: other`; each record's license is in its `meta`. Follow the terms of every source you use."
        )
    elif licenses:
        lic_text = f"All sources are licensed `{licenses[0]}`."
    else:
        lic_text = "No source recorded a license; check the origins above before redistributing."
    if c["synthetic"]:
        lic_text += (
            " Synthetic records inherit the license of the data that seeded them; the terms of use of the "
            "generator model may add conditions."
        )
    parts = [
        "## Sources",
        "",
        table(
            ["source", "origin", "type", "records", "share", "origin / Hub id", "license", "revision"], rows
        ),
        "",
        lic_text,
    ]
    if details:
        parts += ["", *details]
    return "\n".join(parts)


def _synthetic(c: dict[str, Any]) -> str:
    if not c["synthetic"]:
        return "## Synthetic generation\n\nThis dataset has no synthetic records."
    parts = ["## Synthetic generation", ""]
    for g in c["synthetic"]:
        tok = g["tokens"]
        cost = tok.get("cost_usd")
        parts += [
            f"### `{g['source']}`",
            "",
            f"- Generator: {fmt(g['generator'])}, seeded from `{fmt(g['seeded_from'])}` "
            + (
                "(questions and answers grounded in its passages)"
                if g.get("generator") == "qa"
                else "(few-shot examples drawn from its train split only)"
            ),
            f"- Backend: {fmt(list(g['backends']))}; model(s): "
            + (", ".join(f"`{m}` ({n:,} records)" for m, n in g["models"].items()) or NOT_RECORDED)
            + (" (from the recipe config)" if g.get("models_from") == "config" else ""),
            f"- Sampling parameters: {fmt(g['sampling'])}",
            f"- Tokens: {fmt(tok.get('prompt_tokens'))} prompt + {fmt(tok.get('completion_tokens'))} completion"
            f" in {fmt(tok.get('requests'))} request(s) (accounting from {fmt(tok.get('accounting_from'))})",
            "- Estimated cost: "
            + (
                "not estimated (the recipe sets no price for this model)"
                if tok.get("priced") is False and not cost
                else (f"${cost:,.4f}" if isinstance(cost, int | float) else NOT_RECORDED)
                + (f" ({tok['cost_from']})" if tok.get("cost_from") else "")
            ),
        ]
        if g.get("job_records") is not None:
            parts.append(
                f"- The synth job produced {fmt(g['job_records'])} record(s); tokens and cost above cover all "
                "of them, including records curation later dropped"
                + (
                    f"; {fmt(g['cache_hits'])} answer(s) came from the response cache"
                    if g.get("cache_hits")
                    else ""
                )
            )
        if g.get("stopped"):
            parts.append(f"- Generation stopped early: {fmt(g['stopped'])}")
        if g["rejected_by_reason"]:
            parts.append(f"- Generation rejects by reason: {fmt(g['rejected_by_reason'])}")
        parts += [
            "",
            table(
                ["prompt template", "template hash", "records"],
                [[f"`{t['id']}`", f"`{t['hash']}`", t["records"]] for t in g["templates"]],
            )
            if g["templates"]
            else "Prompt templates: not recorded.",
            "",
        ]
    return "\n".join(parts).rstrip()


def _funnel_rows(funnel: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for step in funnel:
        n_in, n_out = step.get("in"), step.get("out")
        dropped = n_in - n_out if isinstance(n_in, int) and isinstance(n_out, int) else None
        rows.append([step.get("stage"), n_in, n_out, dropped, step.get("rejected_by_reason") or "-"])
    return rows


def _funnel(c: dict[str, Any]) -> str:
    parts = ["## Curation funnel", ""]
    if c.get("mix"):
        for name, comp in (c.get("components") or {}).items():
            if comp.get("funnel"):
                parts += [
                    f"Curated source `{name}`:",
                    "",
                    table(["stage", "in", "out", "dropped", "reasons"], _funnel_rows(comp["funnel"])),
                    "",
                ]
            else:
                parts += [f"Curated source `{name}`: funnel {NOT_RECORDED}.", ""]
    elif c.get("funnel"):
        parts += [table(["stage", "in", "out", "dropped", "reasons"], _funnel_rows(c["funnel"])), ""]
    langid = c.get("langid")
    if isinstance(langid, dict) and langid.get("engine"):
        parts += [f"Language identification engine: {fmt(langid['engine'])}.", ""]
    else:
        parts += [f"The curation funnel was {NOT_RECORDED} in this dataset's manifest.", ""]
    if c["plots"].get("funnel"):
        parts.append(f"![curation funnel]({c['plots']['funnel']})")
    rejected = c["dataset"]["rejected_by_reason"]
    if rejected:
        parts += [
            "",
            f"Records this stage rejected, by reason: {fmt(rejected)}. They are kept in "
            "`rejected.parquet` locally and not published (they may contain evaluation data).",
        ]
    return "\n".join(parts).rstrip()


def _decontam_text(d: dict[str, Any] | None) -> str:
    if not d:
        return f"Decontamination result: {NOT_RECORDED}."
    sets = d.get("eval_sets") or d.get("eval_sources") or d.get("checked") or d.get("sets")
    removed = next((d[k] for k in ("removed", "dropped", "overlaps", "overlaps_removed") if k in d), None)
    lines = [
        f"- Eval sets checked: {fmt(list(sets) if isinstance(sets, dict) else sets)}",
        f"- Overlapping records removed: {fmt(removed)}",
    ]
    for k, v in d.items():
        if k not in {
            "eval_sets",
            "eval_sources",
            "checked",
            "sets",
            "removed",
            "dropped",
            "overlaps",
            "overlaps_removed",
        }:
            value = fmt(v) if not isinstance(v, dict | list) else json.dumps(v, ensure_ascii=False)
            lines.append(f"- {DECONTAM_LABELS.get(k, k)}: {value}")
    return "\n".join(lines)


def _decontam(c: dict[str, Any]) -> str:
    parts = ["## Decontamination", ""]
    if c.get("mix"):
        for name, comp in (c.get("components") or {}).items():
            parts += [f"Curated source `{name}`:", "", _decontam_text(comp.get("decontam")), ""]
    else:
        parts.append(_decontam_text(c.get("decontam")))
    return "\n".join(parts).rstrip()


def _stats(c: dict[str, Any]) -> str:
    s = c["stats"]
    labels = c.get("length_labels") or {}
    parts = ["## Statistics", "", "Languages (`src->tgt` for pairs):", ""]
    parts.append(table(["languages", "records"], [[f"`{k}`", v] for k, v in s["by_language"].items()]))
    parts += ["", "Per-source shares:", ""]
    parts.append(
        table(
            ["source", "records", "share", "by origin", "by split"],
            [
                [f"`{k}`", v["records"], _pct(v["share"]), v["by_origin"], v["by_split"]]
                for k, v in s["sources"].items()
            ],
        )
    )
    rows = []
    for unit, key in (("characters", "length_chars"), ("words", "length_words")):
        for side, per in s[key].items():
            # With one origin the "all" row repeats it: show the origin's row only.
            shown = {k: v for k, v in per.items() if k != "all"} if len(per) == 2 else per
            for origin, d in shown.items():
                rows.append(
                    [
                        labels.get(side, side),
                        unit,
                        origin,
                        d["count"],
                        d["mean"],
                        d["p5"],
                        d["p50"],
                        d["p95"],
                        d["max"],
                    ]
                )
    parts += [
        "",
        "Lengths:",
        "",
        table(["side", "unit", "origin", "n", "mean", "p5", "median", "p95", "max"], rows),
    ]
    if c["plots"].get("lengths"):
        parts += ["", f"![length histograms]({c['plots']['lengths']})"]
    if c["plots"].get("sources"):
        parts += ["", f"![records per source]({c['plots']['sources']})"]
    if c.get("mix"):
        m = c["mix"]
        parts += [
            "",
            f"Mix `{m['spec']}` (id `{fmt(m.get('mix_id'))}`, "
            + (
                f"budget {fmt(m['budget'])} {m.get('budget_unit') or 'records'}"
                if m.get("budget")
                else "no size cap"
                if m.get("budget") == 0
                else f"budget {NOT_RECORDED}"
            )
            + ", "
            f"seed {fmt(m.get('seed'))}): target weights {fmt(m.get('weights'))}; realized shares "
            f"{fmt(m.get('realized_shares'))}.",
        ]
        for name, short in (m.get("shortfall") or {}).items():
            parts.append(
                f"Source `{name}` had {fmt(short.get('available'))} of the {fmt(short.get('requested'))} "
                "units its weight asked for; all of it was used (never oversampled), so its realized share "
                "is below its weight."
            )
    return "\n".join(parts)


def _use_and_limits(c: dict[str, Any]) -> str:
    kinds = set(c["stats"]["by_kind"])
    synthetic = bool(c["synthetic"])
    limits = []
    if c["stats"]["records"] < 10_000:
        limits.append(
            f"- Small: {c['stats']['records']:,} records. Differences between models fine-tuned on sets this "
            "size are often within noise; synthmix reports significance tests for that reason."
        )
    limits += [
        "- Language identification and quality filters are automatic; some wrong-language or low-quality "
        "records can remain, and some good ones were dropped (see the funnel).",
        "- Decontamination only covers the evaluation sets registered in the recipe; other benchmarks may overlap.",
    ]
    if synthetic:
        limits += [
            "- Synthetic records were written by an LLM: they can contain factual errors, unnatural phrasing, "
            "translationese and the biases of the generator model, and tend to be less diverse than real data "
            "(topics and registers follow the prompt).",
            "- Synthetic records imitate their few-shot seeds; errors in the seeds propagate.",
        ]
    if any(s.get("type") == "wikipedia" for s in c["sources"]):
        limits.append(
            "- Wikipedia text reflects the coverage and perspective of its editors for the chosen articles."
        )
    if "translation" in kinds:
        limits.append("- Translation pairs are sentence-level; document context is not available.")
    use = (
        "Fine-tuning and evaluating small language models, and in particular comparing models trained on real, "
        "synthetic and mixed data at equal size (the synthmix experiment). Not intended as a benchmark: its "
        "test split is for the recipe's own comparisons, and not for judging models in general."
    )
    return "\n".join(["## Intended use", "", use, "", "## Known limitations and biases", "", *limits])


def _reproduce(c: dict[str, Any]) -> str:
    r = c["reproduce"]
    d = c["dataset"]
    return "\n".join(
        [
            "## How to reproduce",
            "",
            f"With the synthmix repository and the recipe `{r['recipe']}`:",
            "",
            "```bash",
            *r["commands"],
            "```",
            "",
            f"The same recipe and inputs give byte-identical Parquet files: output hash `{d['output_hash']}`, "
            f"config hash `{fmt(d['config_hash'])}`, built with synthmix {fmt(d['built_with'])}.",
        ]
    )


def render_body(card: dict[str, Any]) -> str:
    """The Markdown body of the README for a (redacted) card.json dict."""
    sections = [
        _summary(card),
        _structure(card),
        _sources(card),
        _synthetic(card),
        _funnel(card),
        _decontam(card),
        _stats(card),
        _use_and_limits(card),
        _reproduce(card),
    ]
    return "\n\n".join(sections) + "\n"
