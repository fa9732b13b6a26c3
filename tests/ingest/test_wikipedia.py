"""Wikipedia source end to end: recipe -> run_ingest -> dataset, against the local MediaWiki server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.stage import run_ingest
from ingest.wikipedia import article_url, is_prose_sentence
from synthmix.errors import MissingRequirementError
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from synthmix.store import read_records, read_rejected
from tests.ingest.conftest import FIXTURES
from tests.ingest.fake_mediawiki import FakeWiki, FakeWikiServer


def wiki_recipe(tmp_path: Path, api_url: str, body: str) -> Path:
    path = tmp_path / "wiki.toml"
    path.write_text(
        f'name = "wikitest"\n[sources.wiki]\ntype = "wikipedia"\nlang = "de"\napi_url = "{api_url}"\n'
        f"requests_per_second = 1000.0\nbackoff_seconds = 0.01\n{body}",
        encoding="utf-8",
    )
    return path


def run(tmp_path: Path, recipe_path: Path, **kwargs):
    recipe = load_recipe(recipe_path)
    layout = Layout(recipe.name, tmp_path / "out")
    return run_ingest(recipe, layout, **kwargs), layout


TITLES = (
    'titles = ["Gutenberg", "Nirgendwo", "Loop A", "Mercury", "Table only", "Empty"]\npassage_sentences = 2\n'
)


def test_titles_become_attributed_passages_and_bad_pages_are_rejected(
    server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path
):
    manifests, layout = run(tmp_path, wiki_recipe(tmp_path, server.api_url, TITLES))
    records = read_records(layout.ingest("wiki"))
    texts = [r.fields["text"] for r in records]
    assert texts == [
        "Johannes Gutenberg (* um 1400 in Mainz; † 3. Februar 1468 ebenda) war ein deutscher Goldschmied "
        "und Drucker. Er gilt als Erfinder des Buchdrucks mit beweglichen Lettern in Europa.",
        "Gutenberg stammte aus einer Mainzer Patrizierfamilie. Er arbeitete z. B. als Goldschmied und "
        "lernte u. a. das Gießen von Metall.",
        "Dr. Aloys Ruppel hat sein Leben im 20. Jahrhundert erforscht.",
        "Ab 1434 lebte er in Straßburg. Das Denkmal steht heute in Mainz.",
        # The math sentence, the list lead-in ending in ':' and the list fragments are gone.
        "Seine Bibel hat zweiundvierzig Zeilen je Spalte. Das Handgießinstrument goss gleich hohe Lettern "
        "in großer Zahl.",
    ]
    first = records[0]
    assert (first.kind, first.origin, first.source, first.lang, first.split) == (
        "passage",
        "real",
        "wiki",
        "de",
        "train",
    )
    meta = first.meta
    assert meta["title"] == "Johannes Gutenberg" and meta["requested"] == "Gutenberg"
    assert (meta["pageid"], meta["revid"], meta["license"]) == (2566, 241873512, "CC BY-SA 4.0")
    assert meta["url"] == server.api_url.replace("/w/api.php", "/wiki/Johannes_Gutenberg")
    assert meta["fetched_at"].endswith("Z") and meta["section"] == ""
    assert [r.meta["section"] for r in records[1:]] == ["Leben", "Leben", "Leben > Straßburg", "Werk"]
    stamp = first.provenance[0]
    assert (stamp.stage, stamp.config_hash) == ("ingest", manifests["wiki"]["config_hash"])

    reasons = {x.record.meta["title"]: x.reason for x in read_rejected(layout.ingest("wiki"))}
    assert reasons == {
        "Nirgendwo": "missing_page",
        "Loop B": "redirect_loop",
        "Mercury": "disambiguation",
        "Table only": "no_prose",
        "Empty": "empty_article",
    }
    manifest = manifests["wiki"]
    assert manifest["source_type"] == "wikipedia"
    assert manifest["counts"]["rejected_by_reason"] == {
        "disambiguation": 1,
        "empty_article": 1,
        "missing_page": 1,
        "no_prose": 1,
        "redirect_loop": 1,
    }
    assert manifest["eval_splits"] == []  # no test split configured
    assert "127.0.0.1" in manifest["source"]["api_url"]
    # 9 prose sentences kept; dropped: the math sentence, the list lead-in, 2 list fragments on the
    # Gutenberg page and the 2 fragments of "Table only".
    assert (manifest["source"]["sentences_kept"], manifest["source"]["sentences_dropped"]) == (9, 6)


def test_rerun_and_forced_rebuild_make_zero_requests(server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path):
    recipe = wiki_recipe(tmp_path, server.api_url, TITLES)
    first, layout = run(tmp_path, recipe)
    sent = len(wiki.requests)
    assert sent > 0
    parquet = (layout.ingest("wiki") / "train-00000-of-00001.parquet").read_bytes()
    again, _ = run(tmp_path, recipe, force=True)
    assert len(wiki.requests) == sent  # everything came from the HTTP cache
    assert again["wiki"]["source"]["http"] == {"requests": 0, "cache_hits": sent, "retries": 0}
    assert (layout.ingest("wiki") / "train-00000-of-00001.parquet").read_bytes() == parquet
    assert again["wiki"]["output_hash"] == first["wiki"]["output_hash"]


def test_complete_current_output_is_skipped(server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path):
    recipe = wiki_recipe(tmp_path, server.api_url, TITLES)
    first, _ = run(tmp_path, recipe)
    again, _ = run(tmp_path, recipe)
    assert again["wiki"]["created_unix"] == first["wiki"]["created_unix"]


def test_offline_uses_the_cache_and_names_missing_pages(
    server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path
):
    run(tmp_path, wiki_recipe(tmp_path, server.api_url, 'titles = ["Gutenberg"]\n'))
    sent = len(wiki.requests)
    offline, _ = run(
        tmp_path, wiki_recipe(tmp_path, server.api_url, 'titles = ["Gutenberg"]\n'), offline=True, force=True
    )
    assert offline["wiki"]["counts"]["records"] > 0
    recipe = wiki_recipe(tmp_path, server.api_url, 'titles = ["Gutenberg", "Mercury"]\n')
    with pytest.raises(MissingRequirementError, match=r"not in the HTTP cache.*page 'Mercury'"):
        run(tmp_path, recipe, offline=True)
    assert len(wiki.requests) == sent


def test_search_and_category_select_pages(server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path):
    body = 'search = "Buchdruck Erfinder"\ncategory = "Drucker"\ncategory_depth = 2\nmax_pages = 10\n'
    manifests, layout = run(tmp_path, wiki_recipe(tmp_path, server.api_url, body))
    titles = {r.meta["title"] for r in read_records(layout.ingest("wiki"))}
    rejected = {x.record.meta["title"]: x.reason for x in read_rejected(layout.ingest("wiki"))}
    assert titles == {"Johannes Gutenberg"}
    assert rejected == {"Table only": "no_prose", "Nirgendwo": "missing_page", "Empty": "empty_article"}
    assert manifests["wiki"]["source"]["pages"] == 3


def test_max_pages_caps_search_results(server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path):
    body = 'search = "Buchdruck Erfinder"\nmax_pages = 1\n'
    _, layout = run(tmp_path, wiki_recipe(tmp_path, server.api_url, body))
    assert {r.meta["title"] for r in read_records(layout.ingest("wiki"))} == {"Johannes Gutenberg"}
    assert read_rejected(layout.ingest("wiki")) == []


def test_a_429_during_ingest_is_waited_out(server: FakeWikiServer, wiki: FakeWiki, tmp_path: Path):
    wiki.fail_next({"action": "parse"}, 429, {"Retry-After": "1"}, {})
    manifests, _ = run(tmp_path, wiki_recipe(tmp_path, server.api_url, 'titles = ["Johannes Gutenberg"]\n'))
    assert manifests["wiki"]["source"]["http"]["retries"] == 1
    assert manifests["wiki"]["counts"]["records"] > 0


def test_saved_html_dir_yields_prose_only(tmp_path: Path):
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(FIXTURES / "html" / "lyon_saved.html", pages / "Lyon.html")
    shutil.copy(FIXTURES / "html" / "disambiguation_parse.html", pages / "Mercury.html")
    (pages / "Broken.html").write_bytes(b"<p>Caf\xe9 au lait ist ein Getr\xe4nk.</p>")
    (pages / "notes.txt").write_text("not a page", encoding="utf-8")
    recipe = tmp_path / "saved.toml"
    recipe.write_text(
        f'name = "saved"\n[sources.wiki]\ntype = "wikipedia"\nlang = "fr"\nhtml_dir = "{pages}"\n'
        "passage_sentences = 10\n",
        encoding="utf-8",
    )
    manifests, layout = run(tmp_path, recipe)
    records = read_records(layout.ingest("wiki"))
    assert [r.fields["text"] for r in records] == [
        "Lyon est une commune française située au confluent du Rhône et de la Saône. Elle compte environ "
        "520 000 habitants, p. ex. selon le recensement de 2021, etc. M. Dupont en est un habitant célèbre.",
        "La colonie romaine de Lugdunum est fondée en 43 av. J.-C. par Lucius Munatius Plancus. Elle devient "
        "ensuite la capitale des Trois Gaules. Le Dr. Martin a étudié son histoire au XIXe siècle.",
    ]
    meta = records[0].meta
    assert (meta["title"], meta["pageid"], meta["revid"]) == ("Lyon", 1723, 213547780)
    assert meta["url"] == "https://fr.wikipedia.org/wiki/Lyon" and meta["fetched_at"] is None
    assert meta["file"] == str(pages / "Lyon.html")  # outside the working directory: kept absolute
    reasons = sorted((x.reason, x.record.meta["title"]) for x in read_rejected(layout.ingest("wiki")))
    assert reasons == [("bad_encoding", "Broken"), ("disambiguation", "Mercury")]
    assert manifests["wiki"]["source"]["pages"] == 3


def test_sample_pages_give_prose_sentences_only(project_root: Path, tmp_path: Path):
    from ingest.cleaner import clean_article, content_html, read_saved_page
    from ingest.sentences import SentenceSplitter

    folders = sorted((project_root / "samples" / "wiki").glob("*/"))
    if not folders:
        pytest.skip("samples/wiki is not there yet")
    checked = 0
    for folder in folders:
        for path in sorted(folder.glob("*.html")):
            html = path.read_text(encoding="utf-8")
            page = read_saved_page(path, html)
            assert page.pageid and page.revid, path
            splitter = SentenceSplitter(folder.name)
            sentences = [
                s
                for section in clean_article(content_html(html), folder.name).sections
                for block in section.blocks
                for s in splitter.split(block)
                if is_prose_sentence(s, 4)
            ]
            assert len(sentences) >= 5, path
            for s in sentences:
                assert not any(m in s for m in ("[", "]", "↑", "°", "Bearbeiten", "{\\displaystyle", "|")), s
                assert s[0].isupper() or s[0].isdigit() or s[0] in '„«"(', s
            checked += 1
    assert checked >= 3


def test_article_url_and_prose_filter():
    assert article_url("https://de.wikipedia.org/w/api.php", "Johann Gutenberg") == (
        "https://de.wikipedia.org/wiki/Johann_Gutenberg"
    )
    assert (
        article_url("https://fr.wikipedia.org/w/api.php", "Lyon (ville)")
        == "https://fr.wikipedia.org/wiki/Lyon_(ville)"
    )
    assert is_prose_sentence("Das ist ein ganzer Satz.", 4)
    assert is_prose_sentence("„Das ist ein Zitat.“", 4)
    assert not is_prose_sentence("eine Legierung aus Blei, Zinn und Antimon.", 4)
    assert not is_prose_sentence("Zu den Bestandteilen zählten:", 4)
    assert not is_prose_sentence("Ruhr, Lippe usw.", 4)
    assert not is_prose_sentence("Druckpresse nach dem Vorbild der Weinpresse", 4)


def test_prose_filter_in_other_scripts():
    assert is_prose_sentence("Hà Nội là thủ đô của Việt Nam.", 4, "vi")
    assert not is_prose_sentence("đây là một đoạn văn ngắn.", 4, "vi")
    assert is_prose_sentence("北京是中华人民共和国的首都。", 4, "zh")
    assert not is_prose_sentence("北京。", 4, "zh")


def test_saved_redirect_pages_are_rejected_and_max_pages_caps_files(tmp_path: Path):
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(FIXTURES / "html" / "gutenberg_parse.html", pages / "A_Gutenberg.html")
    (pages / "B_Weiterleitung.html").write_text(
        '<html><head><script>RLCONF={"wgArticleId":3,"wgIsRedirect":true,"wgTitle":"Gutenberg"};</script>'
        '</head><body><div class="mw-parser-output"><div class="redirectMsg">Weiterleitung nach: '
        "Johannes Gutenberg</div></div></body></html>",
        encoding="utf-8",
    )
    shutil.copy(FIXTURES / "html" / "gutenberg_parse.html", pages / "C_Kopie.html")

    def ingest(max_pages: int):
        recipe = tmp_path / f"saved{max_pages}.toml"
        recipe.write_text(
            f'name = "saved{max_pages}"\n[sources.wiki]\ntype = "wikipedia"\nlang = "de"\n'
            f'html_dir = "{pages}"\nmax_pages = {max_pages}\n',
            encoding="utf-8",
        )
        return run(tmp_path, recipe)

    manifests, layout = ingest(2)
    assert manifests["wiki"]["source"]["pages"] == 2
    assert [(x.reason, x.record.meta["pageid"]) for x in read_rejected(layout.ingest("wiki"))] == [
        ("redirect", 3)
    ]
    manifests, layout = ingest(3)
    # The copy of the same article gives the same passages: rejected as duplicates, never twice in the data.
    reasons = [x.reason for x in read_rejected(layout.ingest("wiki"))]
    assert reasons.count("duplicate") == manifests["wiki"]["counts"]["records"] and "redirect" in reasons


def test_recipe_license_overrides_the_default(tmp_path: Path):
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(FIXTURES / "html" / "gutenberg_parse.html", pages / "Johannes_Gutenberg.html")
    recipe = tmp_path / "lic.toml"
    body = f'name = "lic"\n[sources.wiki]\ntype = "wikipedia"\nlang = "de"\nhtml_dir = "{pages}"\n'
    recipe.write_text(body, encoding="utf-8")
    _, layout = run(tmp_path, recipe)
    assert {r.meta["license"] for r in read_records(layout.ingest("wiki"))} == {"CC BY-SA 4.0"}
    recipe.write_text(body + 'license = "CC-BY-SA-4.0"\n', encoding="utf-8")
    _, layout = run(tmp_path, recipe)
    assert {r.meta["license"] for r in read_records(layout.ingest("wiki"))} == {"CC-BY-SA-4.0"}
