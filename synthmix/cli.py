"""The ``synthmix`` command line: a thin layer over the library. ``synthmix <command> --help`` for each.

    synthmix corpus --recipe recipes/sample.toml          # ingest + synth + curate + mixes + cards
    synthmix train --recipe recipes/sample.toml --mix synthetic+flores
    synthmix status --recipe recipes/sample.toml

Exit codes: 0 ok, 1 failed, 2 bad recipe or flag, 3 stage not built, 4 missing network/key/model.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from synthmix import __version__
from synthmix.errors import SynthmixError
from synthmix.layout import Layout
from synthmix.recipe import Recipe, load_recipe
from synthmix.redact import redact_text

log = logging.getLogger("synthmix")

DEFAULT_RECIPE = "recipes/default.toml"

Handler = Callable[[argparse.Namespace, Recipe, Layout], int | None]


def _recipe_args(p: argparse.ArgumentParser, dry_run: bool = True) -> None:
    p.add_argument(
        "--recipe", "-r", default=DEFAULT_RECIPE, help=f"recipe TOML file (default: {DEFAULT_RECIPE})"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key, e.g. --set train.lora.r=8 (repeatable; values are TOML)",
    )
    if dry_run:
        p.add_argument(
            "--dry-run", action="store_true", help="print the plan (stages, outputs, API tokens) and stop"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthmix",
        description="Does synthetic data help your small-LLM fine-tune, and by how much? "
        "Build corpora from real and LLM-generated data, curate, fine-tune with QLoRA, evaluate with significance.",
    )
    parser.add_argument("--version", action="version", version=f"synthmix {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("corpus", help="ingest + synth + curate + mixes + cards for a recipe (the main job)")
    _recipe_args(p)
    p.add_argument("--offline", action="store_true", help="use only cached pages and datasets")
    p.add_argument("--force", action="store_true", help="rebuild outputs even when complete and current")
    p.set_defaults(handler=cmd_corpus)

    p = sub.add_parser("ingest", help="load the recipe's real sources (Wikipedia, Hub datasets, local files)")
    _recipe_args(p)
    p.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    p.add_argument(
        "--offline", action="store_true", help="use only the HTTP cache; list the pages that are missing"
    )
    p.add_argument("--force", action="store_true", help="rebuild even when complete and current")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("synth", help="run the recipe's LLM generation jobs (cached, rate-limited, resumable)")
    _recipe_args(p)
    p.add_argument("--job", action="append", default=[], help="only this job (repeatable)")
    p.add_argument("--force", action="store_true", help="rebuild the dataset (cached responses are reused)")
    p.set_defaults(handler=cmd_synth)

    p = sub.add_parser("curate", help="normalize, dedup, language-ID, filter and decontaminate every source")
    _recipe_args(p)
    p.add_argument("--executor", choices=["local", "ray"], help="override curate.executor")
    p.add_argument("--ray-address", help="connect to a Ray cluster instead of starting a local one")
    p.add_argument("--force", action="store_true", help="rebuild even when complete and current")
    p.set_defaults(handler=cmd_curate)

    p = sub.add_parser("mix", help="blend curated sources by name and weight, e.g. synthetic:0.3+flores:0.7")
    _recipe_args(p)
    p.add_argument("mix", nargs="*", help="mix specs (default: the recipe's mix.build list)")
    p.add_argument("--force", action="store_true", help="rebuild even when complete")
    p.set_defaults(handler=cmd_mix)

    p = sub.add_parser("card", help="write dataset cards (README.md, card.json, plots) for sources and mixes")
    _recipe_args(p)
    p.add_argument("--dataset", type=Path, help="only this dataset directory")
    p.add_argument("--force", action="store_true", help="rewrite cards even when current")
    p.set_defaults(handler=cmd_card)

    p = sub.add_parser("publish", help="upload a dataset directory with its card to the Hugging Face Hub")
    _recipe_args(p, dry_run=False)
    p.add_argument("--dataset", type=Path, required=True, help="a curated source or mix directory")
    p.add_argument("--repo", required=True, help="Hub dataset repo, e.g. user/name")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument(
        "--dry-run",
        dest="dry_run_out",
        type=Path,
        metavar="OUT",
        help="write exactly the folder that would be uploaded to OUT and stop",
    )
    p.set_defaults(handler=cmd_publish)

    p = sub.add_parser("train", help="QLoRA fine-tune on a mix: synthmix train --mix synthetic+flores")
    _recipe_args(p)
    p.add_argument("--mix", required=False, help="mix spec (built first if missing), e.g. synthetic+flores")
    p.add_argument("--model", help="override train.model (hub id or local directory)")
    p.add_argument(
        "--show-masking", action="store_true", help="print one formatted example with its masked prompt span"
    )
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument(
        "--merge", type=Path, metavar="RUN_DIR", help="merge RUN_DIR's adapter into a 16-bit base and stop"
    )
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("eval", help="evaluate one condition: base k-shot or a trained adapter")
    _recipe_args(p)
    p.add_argument("--condition", help="a condition name from [eval].conditions")
    p.add_argument("--adapter", type=Path, help="a run directory with an adapter (default: base model)")
    p.add_argument("--shots", type=int, default=0, help="in-context examples from the train split")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser(
        "compare", help="the experiment matrix with significance tests -> reports/<recipe>/report.md"
    )
    _recipe_args(p)
    p.add_argument("--force", action="store_true", help="re-run finished conditions")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("status", help="what exists for a recipe and what is stale")
    _recipe_args(p, dry_run=False)
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("gate", help="question relevance gate: train it, or score questions as on/off topic")
    _recipe_args(p, dry_run=False)
    p.add_argument(
        "questions", nargs="*", help="questions to score (none: train the gate and print its metrics)"
    )
    p.add_argument("--gate-dir", type=Path, help="a trained gate directory (default: the recipe's)")
    p.set_defaults(handler=cmd_gate)
    return parser


def cmd_corpus(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from synthmix.pipeline import run_corpus

    run_corpus(recipe, layout, offline=args.offline, force=args.force)
    print(f"corpus for recipe {recipe.name!r} is in {layout.data}")
    return 0


def cmd_ingest(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from ingest.stage import run_ingest

    run_ingest(recipe, layout, only=args.source or None, offline=args.offline, force=args.force)
    return 0


def cmd_synth(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from synth.stage import run_synth

    run_synth(recipe, layout, only=args.job or None, force=args.force)
    return 0


def cmd_curate(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from curate.stage import run_curate

    manifests = run_curate(
        recipe, layout, force=args.force, executor=args.executor, ray_address=args.ray_address
    )
    for name, manifest in manifests.items():
        counts = manifest["counts"]
        reasons = ", ".join(f"{k} {v}" for k, v in counts["rejected_by_reason"].items())
        print(
            f"curate {name}: {counts['records']} kept, {counts['rejected']} rejected"
            + (f" ({reasons})" if reasons else "")
            + f" -> {layout.curate(name)}"
        )
    return 0


def cmd_mix(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from curate.mixing import build_mixes

    # build_mixes checks every spec first and raises ConfigError naming MIX for a bad one.
    for path in build_mixes(recipe, layout, args.mix or recipe.mix.build, force=args.force):
        print(f"mix {path.name}: {path}")
    return 0


def cmd_card(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from data_cards.cards import write_cards

    write_cards(recipe, layout, only=args.dataset, force=args.force)
    return 0


def cmd_publish(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from data_cards.publish import publish

    publish(args.dataset, args.repo, private=args.private, dry_run_out=args.dry_run_out)
    return 0


def cmd_train(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from train.trainer import run_train

    if args.merge is None and not args.mix:
        from synthmix.errors import ConfigError

        raise ConfigError("MIX: name the mix to train on, e.g. make train MIX=synthetic+flores")
    # run_train checks the mix against the recipe and raises ConfigError naming MIX.
    out = run_train(
        recipe,
        layout,
        args.mix,
        model=args.model,
        show_masking=args.show_masking,
        resume=args.resume,
        merge=args.merge,
    )
    if not args.show_masking:
        print(f"{'merged model' if args.merge else 'run'}: {out}")
    return 0


def cmd_eval(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from eval.evaluate import condition_dir, format_scores, run_eval

    scores = run_eval(recipe, layout, condition=args.condition, adapter=args.adapter, shots=args.shots)
    print(format_scores(scores))
    print(f"per-sample outputs and scores: {condition_dir(layout, scores['condition'])}")
    return 0


def cmd_compare(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from eval.compare import run_compare

    report = run_compare(recipe, layout, force=args.force)
    print(f"report: {report} (+ report.html, plots, comparison.json)")
    return 0


def cmd_status(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from synthmix.status import format_status, recipe_status

    print(format_status(recipe_status(recipe, layout)))
    return 0


def cmd_gate(args: argparse.Namespace, recipe: Recipe, layout: Layout) -> int:
    from curate.relevance import run_gate

    print(run_gate(recipe, layout, questions=args.questions, gate_dir=args.gate_dir))
    return 0


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    # Stage progress is INFO: shown by default for long commands, like a progress bar.
    logging.basicConfig(
        level=min(level, logging.INFO), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("synthmix").setLevel(level if verbosity else logging.INFO)
    for noisy in ("httpx", "urllib3", "datasets", "filelock", "fsspec"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        recipe = load_recipe(args.recipe, args.overrides)
        layout = Layout.for_recipe(recipe.name)
        if getattr(args, "dry_run", False):
            from synthmix.plan import format_plan

            print(format_plan(recipe, layout, args.command))
            return 0
        handler: Handler = args.handler
        return handler(args, recipe, layout) or 0
    except SynthmixError as e:
        print(f"synthmix {args.command}: {redact_text(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(
            f"synthmix {args.command}: interrupted; finished work is kept, rerun to resume", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
