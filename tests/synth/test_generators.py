"""QA from passages and instruction generation, end to end through the groq client and the local server."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from synth.generator import iso2
from synth.qa import grounding
from synth.stage import job_order, run_synth
from synth.translation import TranslationGenerator
from synthmix.layout import Layout
from synthmix.store import read_manifest, read_records, read_rejected
from tests.synth.chat_server import ChatServer, Reply, request_seed
from tests.synth.conftest import llm_table, make_recipe, pair_records, passage_records, write_ingest

QA_JOB = """
[synth.wiki_qa]
generator = "qa"
from = "wiki"
records = 9
per_request = 3
question_types = ["factual", "why"]
[synth.wiki_qa.llm]
{llm}
"""


def passage_of(body: dict[str, Any]) -> str:
    return re.search(r'"""\n(.*?)\n"""', body["messages"][-1]["content"], re.DOTALL).group(1)


def qa_script(n: int, body: dict[str, Any]) -> Reply:
    """Grounded answers built from the passage's own sentences; request 0 also gets two bad items."""
    sentences = re.split(r"(?<=[.!?])\s+", passage_of(body))
    items = [
        {"question": f"Was sagt der Text über Punkt {k + 1} ({request_seed(body)})?", "answer": s}
        for k, s in enumerate(sentences[:3])
    ]
    if request_seed(body) == 13:
        items.append({"question": sentences[0], "answer": sentences[0]})  # a passage sentence, copied
        items.append(
            {"question": "Wer hat das Telefon erfunden?", "answer": "Alexander Graham Bell im Jahr 1876."}
        )
        items.append({"question": "What does the text say about the river?", "answer": sentences[0]})
    return Reply(content=json.dumps({"qa": items}, ensure_ascii=False))


def test_qa_records_are_grounded_in_their_passage(project: Path, server: ChatServer):
    server.script = qa_script
    recipe = make_recipe(project, QA_JOB.format(llm=llm_table(server.url)))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)

    passages = {p.id: p for p in passage_records()}
    records = read_records(layout.synth("wiki_qa"))
    assert len(records) == 9
    for r in records:
        (parent,) = r.provenance[0].parents
        assert r.kind == "qa" and r.lang == "de"
        assert r.fields["context"] == passages[parent].fields["text"]
        assert r.meta["passage_id"] == parent and r.meta["passage_title"] == passages[parent].meta["title"]
        assert r.fields["answer"] in r.fields["context"]
    # 3 passages, 3 requests: a seeded order covers each passage once.
    assert {r.provenance[0].parents[0] for r in records} == set(passages)
    reasons = Counter(x.reason for x in read_rejected(layout.synth("wiki_qa")))
    assert reasons == {"copied_from_prompt": 1, "ungrounded": 1, "wrong_language": 1}
    prompt = server.log[0]["body"]["messages"][-1]["content"]
    assert "factual, why" in prompt and "German" in prompt


def test_grounding_share():
    passage = "Der Rhein entspringt in den Schweizer Alpen und mündet in die Nordsee."
    assert grounding("Er entspringt in den Alpen.", passage) == 1.0
    assert grounding("Alexander Graham Bell erfand das Telefon.", passage) == 0.0
    assert grounding("1876", "Im Jahr 1876.") == 1.0


INSTRUCTION_JOB = """
[synth.chat]
generator = "instruction"
from = "flores"
records = 4
per_request = 2
few_shot = 2
lang = "de"
topics = ["Reisen", "Kochen"]
[synth.chat.llm]
{llm}
"""


def instruction_script(n: int, body: dict[str, Any]) -> Reply:
    seed = request_seed(body)
    items = [
        {
            "instruction": f"Erkläre bitte in zwei Sätzen, wie man Aufgabe Nummer {seed}{j} am besten löst.",
            "response": f"Zuerst liest man die Aufgabe Nummer {seed}{j} genau durch. Danach plant man die Schritte und prüft das Ergebnis.",
        }
        for j in range(2)
    ]
    return Reply(content=json.dumps({"items": items}, ensure_ascii=False))


def test_instruction_generator_uses_few_shot_pairs_and_topics(project: Path, server: ChatServer):
    server.script = instruction_script
    recipe = make_recipe(project, INSTRUCTION_JOB.format(llm=llm_table(server.url)))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, progress=False)
    records = read_records(layout.synth("chat"))
    assert len(records) == 4 and all(r.kind == "instruction" and r.lang == "de" for r in records)
    assert [r.meta["topic"] for r in records] == ["Reisen", "Reisen", "Kochen", "Kochen"]
    prompts = [
        e["body"]["messages"][-1]["content"]
        for e in sorted(server.log, key=lambda e: request_seed(e["body"]))
    ]
    assert "Topic for this batch: Reisen" in prompts[0] and "Topic for this batch: Kochen" in prompts[1]
    assert '{"instruction": "' in prompts[0]  # few-shot translation pairs shown as instruction/response items


def test_a_job_seeded_by_another_job_runs_after_it(project: Path, server: ChatServer):
    server.script = instruction_script
    body = INSTRUCTION_JOB + INSTRUCTION_JOB.replace("[synth.chat", "[synth.chat2").replace(
        'from = "flores"', 'from = "chat"'
    )
    # chat2 is declared after chat; ask for it first to check the order is derived, not assumed.
    recipe = make_recipe(project, body.format(llm=llm_table(server.url)))
    assert job_order(recipe, ["chat2", "chat"]) == ["chat", "chat2"]
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    run_synth(recipe, layout, only=["chat2", "chat"], progress=False)
    manifest = read_manifest(layout.synth("chat2"))
    assert manifest["inputs"]["chat"] == read_manifest(layout.synth("chat"))["output_hash"]
    chat_ids = {r.id for r in read_records(layout.synth("chat"))}
    assert all(set(r.provenance[0].parents) <= chat_ids for r in read_records(layout.synth("chat2")))


def test_few_shot_samples_depend_only_on_seed_and_index(tmp_path: Path):
    recipe = make_recipe(tmp_path, "[synth.s]\ngenerator = 'translation'\nfrom = 'flores'\nfew_shot = 4\n")
    pool = [r for r in pair_records() if r.split == "train"]
    a = TranslationGenerator("s", recipe.synth["s"], pool)
    b = TranslationGenerator("s", recipe.synth["s"], list(reversed(pool)))  # stored order must not matter
    assert [a.plan(i).messages for i in range(5)] == [b.plan(i).messages for i in range(5)]
    assert a.plan(0).parents != a.plan(1).parents
    assert len(set(a.plan(0).parents)) == 4


def test_language_codes_normalize():
    assert [iso2(c) for c in ("de", "deu_Latn", "fr-FR", "fra", "te")] == ["de", "de", "fr", "fr", "te"]
