"""Article HTML -> prose: what is kept, what is dropped, and what a saved page says about itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.cleaner import MATH, clean_article, content_html, read_saved_page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest" / "html"
JUNK_MARKERS = (
    "INFOBOX",
    "FIGURECAPTION",
    "TABLECAPTION",
    "TABLECELL",
    "SEEALSO",
    "REFERENCE",
    "NAVBOX",
    "Normdaten",
    "Bearbeiten",
    "Breitengrad",
    "49°",
    "[1]",
    "[2]",
    "HATNOTE",
    "MENUTEXT",
    "TOCTEXT",
    "SITESUB",
    "CATLINKS",
    "FOOTER",
    "EXTERNAL",
    "Dieser Artikel behandelt",
)


def _all_text(article) -> str:
    return "\n".join(b for s in article.sections for b in s.blocks)


def test_parse_api_html_keeps_prose_and_section_titles():
    html = (FIXTURES / "gutenberg_parse.html").read_text(encoding="utf-8")
    article = clean_article(html, "de")
    assert [s.title for s in article.sections] == ["", "Leben", "Leben > Straßburg", "Werk"]
    lead = article.sections[0].blocks
    assert lead == [
        "Johannes Gutenberg (* um 1400 in Mainz; † 3. Februar 1468 ebenda) war ein deutscher Goldschmied "
        "und Drucker. Er gilt als Erfinder des Buchdrucks mit beweglichen Lettern in Europa."
    ]
    # Coordinates removed together with their now-empty parentheses.
    assert article.sections[2].blocks == ["Ab 1434 lebte er in Straßburg. Das Denkmal steht heute in Mainz."]
    assert not article.disambiguation


@pytest.mark.parametrize("name", ["gutenberg_parse.html", "lyon_saved.html"])
def test_infobox_references_tables_navboxes_and_apparatus_sections_are_dropped(name: str):
    html = (FIXTURES / name).read_text(encoding="utf-8")
    text = _all_text(clean_article(html, "fr" if "lyon" in name else "de"))
    assert text  # something is kept
    for marker in JUNK_MARKERS:
        assert marker not in text, f"{marker!r} leaked into the cleaned text of {name}"


def test_math_is_marked_and_list_items_are_kept_as_blocks():
    html = (FIXTURES / "gutenberg_parse.html").read_text(encoding="utf-8")
    werk = clean_article(html, "de").sections[3].blocks
    assert werk[0].startswith(f"Die Formel {MATH} hat mit dem Buchdruck nichts zu tun.")
    assert "Das Handgießinstrument goss gleich hohe Lettern in großer Zahl." in werk
    assert "eine neue Legierung" in werk  # a fragment block; the sentence filter drops it later


def test_saved_browser_page_reads_only_the_article_body_and_its_ids():
    path = FIXTURES / "lyon_saved.html"
    html = path.read_text(encoding="utf-8")
    page = read_saved_page(path, html)
    assert (page.title, page.pageid, page.revid, page.lang) == ("Lyon", 1723, 213547780, "fr")
    assert page.url == "https://fr.wikipedia.org/wiki/Lyon"
    assert not page.is_redirect
    article = clean_article(content_html(html), "fr")
    assert [s.title for s in article.sections] == ["", "Histoire"]
    assert (
        article.sections[1].blocks[0].startswith("La colonie romaine de Lugdunum est fondée en 43 av. J.-C.")
    )


def test_bare_parse_html_takes_its_title_from_the_file_name(tmp_path: Path):
    path = tmp_path / "Johannes_Gutenberg.html"
    path.write_text((FIXTURES / "gutenberg_parse.html").read_text(encoding="utf-8"), encoding="utf-8")
    page = read_saved_page(path, path.read_text(encoding="utf-8"))
    assert (page.title, page.pageid, page.revid, page.url) == ("Johannes Gutenberg", None, None, "")


def test_disambiguation_and_empty_pages_are_recognised():
    html = (FIXTURES / "disambiguation_parse.html").read_text(encoding="utf-8")
    assert clean_article(html, "en").disambiguation
    empty = clean_article('<div class="mw-parser-output">  </div>', "en")
    assert not empty.has_content and empty.sections == []


def test_disambiguation_from_saved_page_categories():
    html = (
        '<html><head><script>RLCONF={"wgArticleId":5,"wgCategories":["Begriffsklärung"]};</script></head>'
        '<body><div class="mw-parser-output"><p>Gutenberg steht für mehrere Dinge.</p></div></body></html>'
    )
    assert clean_article(html, "de").disambiguation


def test_references_section_and_tables_leave_no_prose():
    html = (FIXTURES / "no_prose_parse.html").read_text(encoding="utf-8")
    article = clean_article(html, "en")
    assert article.has_content
    assert _all_text(article) == "list of things\nmore things"


def test_nested_list_items_are_separate_blocks():
    html = (
        '<div class="mw-parser-output"><ul><li>Outer item is a full sentence here.'
        "<ul><li>Inner item is another full sentence.</li></ul></li></ul></div>"
    )
    blocks = clean_article(html, "en").sections[0].blocks
    assert blocks == ["Outer item is a full sentence here.", "Inner item is another full sentence."]


def test_extra_skip_sections_from_the_recipe():
    html = (FIXTURES / "gutenberg_parse.html").read_text(encoding="utf-8")
    titles = [s.title for s in clean_article(html, "de", ("Werk",)).sections]
    assert titles == ["", "Leben", "Leben > Straßburg"]


def test_older_headline_markup_and_parsoid_sections():
    html = (
        '<div class="mw-parser-output"><p>Einleitung mit einem ganzen Satz.</p>'
        '<h2><span class="mw-headline" id="Leben">Leben</span><span class="mw-editsection">'
        '<span class="mw-editsection-bracket">[</span><a href="#">Bearbeiten</a> | <a href="#">Quelltext '
        'bearbeiten</a><span class="mw-editsection-bracket">]</span></span></h2>'
        '<div class="thumb tright"><div class="thumbinner">Bildunterschrift mit Satz.</div></div>'
        "<p>Er lebte in Mainz.</p>"
        '<section data-mw-section-id="2"><h3 id="Tod">Tod</h3><p>Er starb 1468.</p></section>'
        '<ul class="gallery mw-gallery-traditional"><li class="gallerybox">Galerie mit Satz.</li></ul>'
        "</div>"
    )
    article = clean_article(html, "de")
    assert [(s.title, s.blocks) for s in article.sections] == [
        ("", ["Einleitung mit einem ganzen Satz."]),
        ("Leben", ["Er lebte in Mainz."]),
        ("Leben > Tod", ["Er starb 1468."]),
    ]


def test_language_specific_boxes_and_pointers_are_dropped():
    html = (
        '<div class="mw-parser-output">'
        '<div class="infobox_v3 noarchive"><p>INFOBOX Lyon est une ville.</p></div>'
        '<div class="hauptartikel" role="navigation"><i>Hauptartikel: Geschichte von Mainz ist dort.</i></div>'
        '<div class="sieheauch"><i>Siehe auch: Mainzer Dom ist dort.</i></div>'
        '<div class="quotebox"><p>ZITAT Ein schönes Zitat steht hier.</p></div>'
        '<table class="ombox"><tr><td>BOX Dieser Artikel hat Mängel.</td></tr></table>'
        "<p>Mainz ist die Hauptstadt von Rheinland-Pfalz.</p>"
        '<ul id="bandeau-portail" class="bandeau-portail"><li>Portail de Lyon est ici.</li></ul>'
        "</div>"
    )
    assert _all_text(clean_article(html, "de")) == "Mainz ist die Hauptstadt von Rheinland-Pfalz."


def test_content_html_cuts_the_page_chrome_and_keeps_the_article():
    html = (FIXTURES / "lyon_saved.html").read_text(encoding="utf-8")
    region = content_html(html)
    assert region.startswith('<div id="mw-content-text"') and "MENUTEXT" not in region
    assert "CATLINKS" not in region and "FOOTER" not in region
    assert "La colonie romaine de Lugdunum" in region
    bare = (FIXTURES / "gutenberg_parse.html").read_text(encoding="utf-8")
    assert content_html(bare) == bare


def test_saved_page_metadata_survives_attribute_order_and_entities(tmp_path: Path):
    html = (
        '<html dir="ltr" lang="en"><head><link href="https://en.wikipedia.org/wiki/AT%26T?a=1&amp;b=2" '
        'rel="canonical"><script>RLCONF={"wgArticleId":7,"wgCurRevisionId":8,"wgTitle":"AT&T",'
        '"wgCategories":["All disambiguation pages"],"note":"a }; inside a string"};</script></head></html>'
    )
    page = read_saved_page(tmp_path / "x.html", html)
    assert (page.title, page.pageid, page.revid, page.lang) == ("AT&T", 7, 8, "en")
    assert page.url == "https://en.wikipedia.org/wiki/AT%26T?a=1&b=2"
    assert page.disambiguation
