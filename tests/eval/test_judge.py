from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from eval import judge as judge_mod
from eval.judge import Judge, VerdictError, combine_orders, parse_preference, parse_rating
from synthmix.config.synth import LLMConfig
from synthmix.layout import Layout
from synthmix.recipe import load_recipe
from tests.eval.chat_server import chat_server


@pytest.mark.parametrize(
    ("text", "rating"),
    [("Correct and fluent.\nRating: [[5]]", 5), ("rating: [[ 2 ]]", 2), ("Minor errors. Rating:[[4]]", 4)],
)
def test_parse_rating_accepts_exactly_one_valid_verdict(text: str, rating: int):
    assert parse_rating(text) == rating


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I would give it a 4/5.", "no_verdict"),
        ("Rating: [[3]] or maybe Rating: [[4]]", "multiple_verdicts"),
        ("[[2]] hmm. Rating: [[5]]", "multiple_verdicts"),
        ("Rating: [[7]]", "out_of_range"),
        ("Rating: [[0]]", "out_of_range"),
        ("Rating: [[4.5]]", "not_an_integer"),
        ("Rating: [[good]]", "not_an_integer"),
    ],
)
def test_parse_rating_rejects_malformed_verdicts_with_a_reason(text: str, reason: str):
    with pytest.raises(VerdictError) as e:
        parse_rating(text)
    assert e.value.reason == reason


def test_parse_preference_and_order_combination():
    assert parse_preference("B is better. [[B]]") == "B"
    assert parse_preference("[[c]]") == "tie"
    for bad, reason in [
        ("A wins", "no_verdict"),
        ("[[A]] no, [[B]]", "multiple_verdicts"),
        ("[[D]]", "unknown_verdict"),
    ]:
        with pytest.raises(VerdictError) as e:
            parse_preference(bad)
        assert e.value.reason == reason
    assert combine_orders("A", "B") == ("x", True)  # x first as A, then x as B: x wins both times
    assert combine_orders("B", "A") == ("y", True)
    assert combine_orders("tie", "tie") == ("tie", True)
    assert combine_orders("A", "A") == ("tie", False)  # always the first position: position bias
    assert combine_orders("A", "tie") == ("tie", False)


def _llm(base_url: str) -> LLMConfig:
    return LLMConfig(
        backend="openai",
        base_url=base_url,
        model="judge-model",
        temperature=0.0,
        json_mode=False,
        requests_per_minute=60_000,
        max_retries=1,
        concurrency=2,
    )


ROWS = [
    {"id": f"r{i}", "source": "flores", "input": f"Satz {i}.", "reference": f"Phrase {i}.",
     "prompt": f"Translate from German to French.\nSatz {i}.\n", "output": out}
    for i, out in enumerate(["GOOD one", "BAD one", "MALFORMED", "TWICE", "RANGE", "GOOD two"])
]  # fmt: skip


def _single_script(messages: list[dict[str, str]]) -> str:
    answer = messages[-1]["content"].split("[Assistant's answer]")[-1]
    for marker, verdict in [
        ("GOOD", "Accurate.\nRating: [[5]]"),
        ("BAD", "Wrong language.\nRating: [[1]]"),
        ("MALFORMED", "I'd give this 3 out of 5."),
        ("TWICE", "Rating: [[2]]\nOn reflection, Rating: [[4]]"),
        ("RANGE", "Rating: [[9]]"),
    ]:
        if marker in answer:
            return verdict
    return "?"


def test_single_ratings_against_a_local_server_reject_and_count_malformed(tmp_path: Path):
    template = judge_mod.load_judge_template("judge_single@v1")
    with chat_server(_single_script) as server:
        judge = Judge(_llm(server.base_url), tmp_path / "llm.sqlite")
        verdicts = judge_mod.rate_answers(judge, template, ROWS)
        assert [v["rating"] for v in verdicts] == [5, 1, None, None, None, 5]
        assert [v.get("rejected") for v in verdicts] == [
            None, None, "no_verdict", "multiple_verdicts", "out_of_range", None,
        ]  # fmt: skip
        assert judge.stats.malformed == {"no_verdict": 1, "multiple_verdicts": 1, "out_of_range": 1}
        assert len(server.requests) == 6
        # two worked examples (good -> 5, bad -> 1) precede the item: system + 2 x (user, assistant) + user
        roles = [m["role"] for m in server.requests[0]["messages"]]
        assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
        assert "Rating: [[5]]" in server.requests[0]["messages"][2]["content"]
        assert "Rating: [[1]]" in server.requests[0]["messages"][4]["content"]
        # requests run concurrently: each item is asked exactly once, in some order
        asked = sorted(
            r["messages"][-1]["content"].split("[Input]\n")[1].split("\n")[0] for r in server.requests
        )
        assert asked == [f"Satz {i}." for i in range(6)]
        assert verdicts[0]["template"] == "judge_single@v1" and len(verdicts[0]["template_hash"]) == 16
        judge.close()
        # a second judge on the same cache asks nothing again
        again = Judge(_llm(server.base_url), tmp_path / "llm.sqlite")
        assert [v["rating"] for v in judge_mod.rate_answers(again, template, ROWS)] == [
            5,
            1,
            None,
            None,
            None,
            5,
        ]
        assert len(server.requests) == 6 and again.stats.cached == 6
        # without few-shot examples only the system prompt and the item are sent
        judge_mod.rate_answers(again, template, ROWS[:1], few_shot=False)
        assert [m["role"] for m in server.requests[-1]["messages"]] == ["system", "user"]
        again.close()


def _pairwise_script(messages: list[dict[str, str]]) -> str:
    text = messages[-1]["content"]
    a = text.split("[Assistant A's answer]")[1].split("[Assistant B's answer]")[0]
    b = text.split("[Assistant B's answer]")[1]
    if "Satz 0." in text or "Satz 1." in text:  # judges on content: consistent
        return "[[A]]" if "GOOD" in a and "GOOD" not in b else "[[B]]" if "GOOD" in b else "[[C]]"
    if "Satz 2." in text or "Satz 3." in text:  # always prefers the first answer shown: position bias
        return "Assistant A is better. [[A]]"
    if "Satz 4." in text:
        return "Both fine."  # malformed
    return "Equal. [[C]]"


def test_pairwise_runs_both_orders_and_counts_inconsistent_verdicts_as_ties(tmp_path: Path):
    template = judge_mod.load_judge_template("judge_pairwise@v1")
    xs = ["GOOD x", "BAD x", "x2", "x3", "x4", "x5"]
    ys = ["BAD y", "GOOD y", "y2", "y3", "y4", "y5"]
    with chat_server(_pairwise_script) as server:
        judge = Judge(_llm(server.base_url), tmp_path / "llm.sqlite")
        result, details = judge_mod.compare_answers(judge, template, ROWS, xs, ys)
        judge.close()
    assert len(server.requests) == 12  # every item in both orders
    assert (result.wins_x, result.wins_y, result.ties) == (1, 1, 3)
    assert result.inconsistent == 2 and result.malformed == 1
    assert result.reasons == {"no_verdict": 1}
    assert details[2] == {
        "id": "r2",
        "source": "flores",
        "first": "A",
        "swapped": "A",
        "outcome": "tie",
        "consistent": False,
    }
    assert result.as_dict()["win_rate_x"] == pytest.approx((1 + 0.5 * 3) / 5)


def test_warns_when_the_judge_model_generated_the_training_data(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.tsv").write_text("de\tfr\nHallo\tSalut\n", encoding="utf-8")
    (tmp_path / "r.toml").write_text(
        """
name = "t"
[sources.flores]
type = "files"
path = "p.tsv"
columns = { src = "de", tgt = "fr" }
[synth.synthetic]
generator = "translation"
from = "flores"
[synth.synthetic.llm]
backend = "groq"
model = "llama-3.3-70b-versatile"
[eval.judge]
enabled = true
[eval.judge.llm]
backend = "groq"
model = "meta/llama-3.3-70b-versatile"
""",
        encoding="utf-8",
    )
    recipe = load_recipe(tmp_path / "r.toml")
    with caplog.at_level(logging.WARNING, logger="eval.judge"):
        clashes = judge_mod.warn_if_self_judging(recipe, Layout("t", tmp_path))
    assert clashes == ["llama-3.3-70b-versatile"]
    assert "also generated this recipe's synthetic data" in caplog.text


def test_unknown_template_is_a_config_error():
    from synthmix.errors import ConfigError

    with pytest.raises(ConfigError, match="judge_single@v1"):
        judge_mod.load_judge_template("judge_single@v9")


def test_compare_with_a_judge_rates_every_output_and_judges_pairs_in_both_orders(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
):
    from eval.compare import run_compare
    from tests.eval.helpers import make_recipe, sample_pairs, write_curated

    def script(messages: list[dict[str, str]]) -> str:
        if "[Assistant A's answer]" in messages[-1]["content"]:
            return "The first one. [[A]]"  # always the first position: every pair is inconsistent
        return "Rating: [[2]]" if len(server.requests) % 3 else "no idea"

    monkeypatch.chdir(tmp_path)
    with chat_server(script) as server:
        recipe = make_recipe(
            tmp_path,
            tiny_model_dir,
            f"""metrics = ["chrf", "judge"]
conditions = [{{ name = "base-0shot" }}, {{ name = "base-2shot", shots = 2 }}]
[eval.judge]
enabled = true
pairwise = true
[eval.judge.llm]
backend = "openai"
base_url = "{server.base_url}"
model = "judge-model"
temperature = 0.0
json_mode = false
requests_per_minute = 60000
concurrency = 1""",
        )
        layout = Layout(recipe.name, tmp_path)
        write_curated(layout, "flores", sample_pairs(10), sample_pairs(6, offset=100))
        run_compare(recipe, layout, build_corpus=False, progress=False)
    comparison = json.loads((layout.reports / "comparison.json").read_text(encoding="utf-8"))
    single = comparison["judge"]["single"]
    assert set(single) == {"base-0shot", "base-2shot"}
    for s in single.values():
        assert s["judged"] == 6 and s["rated"] + sum(s["rejected"].values()) == 6
        assert s["rejected"].get("no_verdict", 0) >= 1 and s["mean_rating"] == 2.0
    (pair,) = comparison["judge"]["pairwise"]
    assert (pair["x"], pair["y"]) == ("base-2shot", "base-0shot")
    assert pair["ties"] == 6 and pair["inconsistent"] == 6 and pair["wins_x"] == pair["wins_y"] == 0
    assert comparison["scores"]["base-0shot"]["judge"]["score"] == pytest.approx(2.0)
    assert len(server.requests) == 6 + 6 + 12  # 6 ratings per condition, 6 pairs x both orders
    text = (layout.reports / "report.md").read_text(encoding="utf-8")
    assert "## LLM judge" in text and "| base-2shot | base-0shot | 0 | 0 | 6 | 6 |" in text


def test_a_missing_judge_api_key_fails_before_any_work(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    from eval.compare import run_compare
    from synthmix.errors import MissingRequirementError
    from tests.eval.helpers import make_recipe

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    recipe = make_recipe(
        tmp_path,
        tiny_model_dir,
        'metrics = ["judge"]\n[eval.judge]\nenabled = true\n[eval.judge.llm]\nbackend = "groq"\nmodel = "m"',
    )
    layout = Layout(recipe.name, tmp_path)
    with pytest.raises(MissingRequirementError, match="GROQ_API_KEY"):
        run_compare(recipe, layout, progress=False)
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_judge_ratings_are_grouped_by_item_category(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    from tests.eval.helpers import make_recipe

    monkeypatch.chdir(tmp_path)
    with chat_server(_single_script) as server:
        recipe = make_recipe(
            tmp_path,
            tiny_model_dir,
            f'metrics = ["judge"]\n[eval.judge]\nenabled = true\nmax_items = 4\n[eval.judge.llm]\nbackend = "openai"\n'
            f'base_url = "{server.base_url}"\nmodel = "judge-model"\njson_mode = false\nrequests_per_minute = 60000',
        )
        rows = [
            dict(r, category=cat)
            for r, cat in zip(ROWS, ["writing", "math", "math", "writing", "x", "y"], strict=True)
        ]
        summary = judge_mod.judge_rows(recipe, Layout(recipe.name, tmp_path), rows)
    assert summary["judged"] == 4 and summary["rated"] == 2  # max_items; MALFORMED and TWICE rejected
    assert summary["by_category"] == {"math": 1.0, "writing": 5.0}
    assert summary["rejected"] == {"multiple_verdicts": 1, "no_verdict": 1}
    assert rows[0]["judge"]["rating"] == 5 and "judge" not in rows[4]
