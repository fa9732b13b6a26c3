"""Prompt formats per task kind: the exact text training and evaluation both see."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmix.errors import ConfigError
from synthmix.record import Record
from train.prompts import (
    PROMPT_FORMATS,
    build_prompt,
    completion_text,
    language_name,
    target_text,
    task_instruction,
)

PAIR = Record(
    kind="translation",
    origin="real",
    source="flores",
    fields={"src": "Guten Tag.", "tgt": "Bonjour."},
    src_lang="deu_Latn",
    tgt_lang="fra_Latn",
)
QA = Record(
    kind="qa",
    origin="synthetic",
    source="wiki_qa",
    fields={"question": "Wer?", "answer": "Er.", "context": "Ein Text."},
    lang="de",
)
INSTR = Record(
    kind="instruction",
    origin="real",
    source="alpaca",
    fields={"instruction": "Sag hallo.", "response": "Hallo!"},
    lang="de",
)


def test_language_names_from_iso_and_flores_codes() -> None:
    assert language_name("de") == "German"
    assert language_name("deu_Latn") == "German"
    assert language_name("zh-Hant") == "Chinese"
    assert language_name("xx") == "xx"
    assert language_name(None) == ""


def test_task_instruction_and_target_per_kind() -> None:
    assert task_instruction(PAIR) == "Translate from German to French."
    assert task_instruction(QA) == "Answer the question using the passage."
    assert task_instruction(INSTR) == "Sag hallo."
    assert [target_text(r) for r in (PAIR, QA, INSTR)] == ["Bonjour.", "Er.", "Hallo!"]


def test_plain_prompt_for_translation() -> None:
    assert build_prompt(PAIR, prompt_format="plain") == "Translate from German to French.\nGuten Tag.\n"
    assert completion_text(PAIR, prompt_format="plain") == "Bonjour."


def test_inst_prompt_with_system_and_shot() -> None:
    text = build_prompt(PAIR, prompt_format="inst", system_prompt="Be brief.", shots=[INSTR])
    assert text == (
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nSag hallo. [/INST] Hallo! </s>"
        "<s>[INST] Translate from German to French.\nGuten Tag. [/INST]"
    )
    assert completion_text(PAIR, prompt_format="inst") == " Bonjour."


def test_human_assistant_and_chatml_prompts() -> None:
    assert build_prompt(QA, prompt_format="human_assistant") == (
        "### Human: Answer the question using the passage.\nPassage: Ein Text.\nQuestion: Wer? ### Assistant:"
    )
    assert build_prompt(INSTR, prompt_format="chatml", system_prompt="Du bist hilfreich.") == (
        "<|im_start|>system\nDu bist hilfreich.<|im_end|>\n<|im_start|>user\nSag hallo.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_chat_template_uses_the_tokenizer(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = build_prompt(PAIR, prompt_format="chat_template", tokenizer=tok, system_prompt="S", shots=[QA])
    assert text.startswith("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nAnswer the question")
    assert "<|im_start|>assistant\nEr.<|im_end|>" in text
    assert text.endswith(
        "<|im_start|>user\nTranslate from German to French.\nGuten Tag.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chat_template_without_tokenizer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="chat_template"):
        build_prompt(PAIR, prompt_format="chat_template")


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="prompt_format"):
        build_prompt(PAIR, prompt_format="alpaca")


@pytest.mark.parametrize("fmt", [f for f in PROMPT_FORMATS if f != "chat_template"])
def test_shots_are_formatted_like_the_query(fmt: str) -> None:
    alone = build_prompt(INSTR, prompt_format=fmt)
    with_shot = build_prompt(PAIR, prompt_format=fmt, shots=[INSTR])
    # The shot appears as a solved example: its prompt text followed by its answer.
    assert alone.rstrip() in with_shot
    assert "Hallo!" in with_shot
    assert with_shot.endswith(build_prompt(PAIR, prompt_format=fmt).split("<s>")[-1].lstrip("<s>"))


def test_chat_template_without_a_system_role_folds_the_system_prompt(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    # Like Gemma's template: a system message raises.
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    text = build_prompt(
        PAIR, prompt_format="chat_template", tokenizer=tok, system_prompt="Sei kurz.", shots=[QA]
    )
    assert text.startswith("<user>Sei kurz.\n\nAnswer the question using the passage.")
    assert text.count("Sei kurz.") == 1
    assert text.endswith("<user>Translate from German to French.\nGuten Tag.</user><assistant>")
