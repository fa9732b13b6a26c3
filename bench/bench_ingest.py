"""Benchmark: the Wikipedia cleaner + Punkt splitter on the sample pages vs a naive baseline.

    .venv/bin/python bench/bench_ingest.py

The baseline is what the hand-run experiments did: BeautifulSoup ``get_text`` on the whole page and a regex
sentence split. Both run in this process on the same pages (samples/wiki/*/*.html, or the test fixtures when
samples/ is absent). Prints pages/s and sentences/s for each, the speed ratio, and how many of each one's
sentences are junk (markup remnants, navigation, footnote marks) or broken at an abbreviation. Then the
sentence splitter alone against NLTK's own ``PunktSentenceTokenizer`` loaded with the same bundled Punkt
parameters: speed and wrong breaks.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.cleaner import clean_article, content_html  # noqa: E402
from ingest.sentences import SentenceSplitter, starts_lowercase  # noqa: E402
from ingest.wikipedia import is_prose_sentence  # noqa: E402

JUNK = re.compile(
    r"\[\d+\]|↑|Bearbeiten|Quelltext|modifier|\bedit\b|°|displaystyle|Navigationsmenü|Zum Inhalt|"
    r"Normdaten|ISBN|https?://|\|"
)
# A sentence that ends in one of these was cut at an abbreviation, not at a sentence end. ("etc." and
# "J.-C." are left out: they do end sentences.)
BROKEN_END = re.compile(r"\b(z\. ?B|u\. ?a|Dr|ca|bzw|vgl|Nr|St|p\. ?ex|av|e\.g|i\.e|Mr|M)\.$")
NAIVE_SPLIT = re.compile(r"(?<=[.!?])\s+")
MIN_SECONDS = 3.0


def pages() -> list[tuple[str, str]]:
    files = sorted((ROOT / "samples" / "wiki").glob("*/*.html"))
    if files:
        return [(f.parent.name, f.read_text(encoding="utf-8")) for f in files]
    fixtures = ROOT / "tests" / "fixtures" / "ingest" / "html"
    return [("de", (fixtures / "gutenberg_parse.html").read_text(encoding="utf-8"))]


def synthmix_sentences(lang: str, html: str) -> list[str]:
    splitter = SentenceSplitter(lang)
    return [
        s
        for section in clean_article(content_html(html), lang).sections
        for block in section.blocks
        for s in splitter.split(block)
        if is_prose_sentence(s, 4)
    ]


def naive_sentences(lang: str, html: str) -> list[str]:
    text = BeautifulSoup(html, "lxml").get_text(" ")
    text = re.sub(r"\s+", " ", text)
    return [s.strip() for s in NAIVE_SPLIT.split(text) if len(s.split()) >= 4]


def measure(fn, corpus: list[tuple[str, str]]) -> tuple[float, float, list[str]]:
    """Pages/s and sentences/s over repeated passes for at least MIN_SECONDS; and one pass's sentences."""
    sentences = [s for lang, html in corpus for s in fn(lang, html)]
    start, passes = time.perf_counter(), 0
    while True:
        for lang, html in corpus:
            fn(lang, html)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS:
            break
    return passes * len(corpus) / elapsed, passes * len(sentences) / elapsed, sentences


def share(sentences: list[str], pattern: re.Pattern[str], search: bool = True) -> float:
    hits = sum(1 for s in sentences if (pattern.search(s) if search else pattern.search(s.strip())))
    return hits / max(1, len(sentences))


def nltk_punkt(lang: str):
    """NLTK's own PunktSentenceTokenizer with the same bundled parameters (NLTK ships no data here)."""
    import punkt
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    name = {"de": "german", "fr": "french", "en": "english"}[lang]
    src = punkt.with_nonbreaking_prefixes(punkt.load_model(name), name)
    params = PunktParameters()
    params.abbrev_types = set(src.abbrev_types)
    params.collocations = set(src.collocations)
    params.sent_starters = set(src.sent_starters)
    for word, flags in src.ortho_context.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params)


def bench_splitters(corpus: list[tuple[str, str]]) -> None:
    """The sentence splitter alone: synthmix (punkt package + fixes) vs NLTK's Punkt class, same model."""
    blocks = [
        (lang, block)
        for lang, html in corpus
        for section in clean_article(content_html(html), lang).sections
        for block in section.blocks
    ]
    ours = {lang: SentenceSplitter(lang) for lang, _ in corpus}
    theirs = {lang: nltk_punkt(lang) for lang, _ in corpus}
    rates: dict[str, float] = {}
    outputs: dict[str, list[str]] = {}
    wrong: dict[str, int] = {}
    for name, split in (
        ("synthmix SentenceSplitter", lambda lang, b: ours[lang].split(b)),
        ("NLTK PunktSentenceTokenizer", lambda lang, b: theirs[lang].tokenize(b)),
    ):
        outputs[name] = [s for lang, b in blocks for s in split(lang, b)]
        # A sentence after the first of its block that starts in lowercase follows a wrong break.
        wrong[name] = sum(starts_lowercase(s) for lang, b in blocks for s in split(lang, b)[1:])
        start, passes = time.perf_counter(), 0
        while time.perf_counter() - start < MIN_SECONDS / 2:
            for lang, b in blocks:
                split(lang, b)
            passes += 1
        rates[name] = passes * len(outputs[name]) / (time.perf_counter() - start)
    print(f"\nsentence splitting alone ({len(blocks)} text blocks):")
    for name, rate in rates.items():
        broken = share(outputs[name], BROKEN_END)
        print(
            f"  {name:28} {rate:9.0f} sentences/s  {len(outputs[name]):5d} sentences  cut at abbrev "
            f"{broken:.1%}  breaks before a lowercase word {wrong[name]}"
        )
    a, b = rates.values()
    print(f"  speed ratio synthmix/NLTK: {a / b:.2f}x")


def main() -> None:
    corpus = pages()
    for lang, _ in corpus:
        SentenceSplitter(lang).split("Warm up.")  # model loading is not what we measure
    ours = measure(synthmix_sentences, corpus)
    naive = measure(naive_sentences, corpus)
    print(f"pages: {len(corpus)} ({', '.join(sorted({lang for lang, _ in corpus}))})")
    print(
        f"{'':28} {'pages/s':>9} {'sentences/s':>12} {'clean sent/s':>13} {'sentences':>10} {'junk':>7} "
        f"{'cut at abbrev':>14}"
    )
    clean_rate = {}
    for name, (pps, sps, sents) in (("synthmix cleaner + Punkt", ours), ("naive get_text + regex", naive)):
        clean = sum(1 for s in sents if not JUNK.search(s) and not BROKEN_END.search(s)) / max(1, len(sents))
        clean_rate[name] = sps * clean
        print(
            f"{name:28} {pps:9.1f} {sps:12.0f} {sps * clean:13.0f} {len(sents):10d} {share(sents, JUNK):7.1%} "
            f"{share(sents, BROKEN_END):14.1%}"
        )
    ours_clean, naive_clean = clean_rate.values()
    print(
        f"speed ratio synthmix/naive: pages {ours[0] / naive[0]:.2f}x, sentences {ours[1] / naive[1]:.2f}x, "
        f"clean sentences {ours_clean / naive_clean:.2f}x"
    )
    print(
        f"junk ratio synthmix/naive: {share(ours[2], JUNK) / max(share(naive[2], JUNK), 1e-9):.3f} "
        "(lower is better)"
    )
    bench_splitters(corpus)


if __name__ == "__main__":
    main()
