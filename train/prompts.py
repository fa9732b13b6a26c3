"""Prompt formatting shared by training and evaluation, so every condition is prompted alike.

``build_prompt`` returns the text up to where the model's answer starts; ``completion_text`` is what follows
it during training (the answer, with the separator the format puts before it); the trainer appends the
tokenizer's EOS token and computes the loss on the completion only.

    from train.prompts import build_prompt, target_text
    prompt = build_prompt(record, prompt_format="inst", shots=few_shot_records)
    answer = target_text(record)

Formats (``[train] prompt_format``):

- ``chat_template``: the tokenizer's own chat template (system message, shots as earlier turns,
  ``add_generation_prompt=True``). For instruct/chat models.
- ``inst``: Llama-2 ``<s>[INST] {human} [/INST] {assistant} </s>`` (system prompt in ``<<SYS>>``).
- ``human_assistant``: ``### Human: {human} ### Assistant: {assistant}`` (Guanaco style).
- ``chatml``: ``<|im_start|>system ... <|im_end|>`` turns written out as text.
- ``plain``: the instruction, the input, a newline; the answer follows. For base models.

What the human turn holds per task kind: translation: "Translate from German to French." + the source
sentence; qa: an instruction, the context passage when present, and the question; instruction: the
instruction, then its context when present. Passages (raw text) have an empty prompt: the whole text is the
completion, i.e. plain language modelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthmix.errors import ConfigError
from synthmix.record import Record

PROMPT_FORMATS = ("chat_template", "inst", "human_assistant", "chatml", "plain")

# ISO 639-1 / 639-3 codes (FLORES-200 codes like deu_Latn reduce to their 639-3 part) -> English names.
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic", "arb": "Arabic", "bn": "Bengali", "ben": "Bengali", "ca": "Catalan", "cat": "Catalan",
    "cs": "Czech", "ces": "Czech", "da": "Danish", "dan": "Danish", "de": "German", "deu": "German",
    "el": "Greek", "ell": "Greek", "en": "English", "eng": "English", "es": "Spanish", "spa": "Spanish",
    "fa": "Persian", "pes": "Persian", "fi": "Finnish", "fin": "Finnish", "fr": "French", "fra": "French",
    "he": "Hebrew", "heb": "Hebrew", "hi": "Hindi", "hin": "Hindi", "hu": "Hungarian", "hun": "Hungarian",
    "id": "Indonesian", "ind": "Indonesian", "it": "Italian", "ita": "Italian", "ja": "Japanese",
    "jpn": "Japanese", "ko": "Korean", "kor": "Korean", "lzh": "Classical Chinese", "nl": "Dutch",
    "nld": "Dutch", "no": "Norwegian", "nob": "Norwegian", "pl": "Polish", "pol": "Polish",
    "pt": "Portuguese", "por": "Portuguese", "ro": "Romanian", "ron": "Romanian", "ru": "Russian",
    "rus": "Russian", "sv": "Swedish", "swe": "Swedish", "sw": "Swahili", "swh": "Swahili", "ta": "Tamil",
    "tam": "Tamil", "te": "Telugu", "tel": "Telugu", "th": "Thai", "tha": "Thai", "tr": "Turkish",
    "tur": "Turkish", "uk": "Ukrainian", "ukr": "Ukrainian", "ur": "Urdu", "urd": "Urdu",
    "vi": "Vietnamese", "vie": "Vietnamese", "zh": "Chinese", "zho": "Chinese", "cmn": "Chinese",
    "yue": "Cantonese",
}  # fmt: skip


def language_name(code: str | None) -> str:
    """English name of a language code (``de``, ``deu``, ``deu_Latn``, ``zh-Hant``); unknown codes as given."""
    if not code:
        return ""
    base = code.replace("-", "_").split("_")[0].lower()
    return LANGUAGE_NAMES.get(base, code)


def task_instruction(record: Record) -> str:
    """The instruction that states the task, e.g. "Translate from German to French."."""
    if record.kind == "translation":
        src, tgt = language_name(record.src_lang), language_name(record.tgt_lang)
        if src and tgt:
            return f"Translate from {src} to {tgt}."
        return f"Translate to {tgt}." if tgt else "Translate the text."
    if record.kind == "qa":
        if (record.fields.get("context") or "").strip():
            return "Answer the question using the passage."
        return "Answer the question."
    if record.kind == "instruction":
        return (record.fields.get("instruction") or "").strip()
    return ""


def target_text(record: Record) -> str:
    """The reference answer: ``tgt`` / ``answer`` / ``response`` (a passage's whole ``text``)."""
    key = {"translation": "tgt", "qa": "answer", "instruction": "response", "passage": "text"}[record.kind]
    return (record.fields.get(key) or "").strip()


def human_text(record: Record) -> str:
    """The user's turn: the instruction and the input the model answers."""
    f = record.fields
    if record.kind == "translation":
        return f"{task_instruction(record)}\n{(f.get('src') or '').strip()}"
    if record.kind == "qa":
        context = (f.get("context") or "").strip()
        question = (f.get("question") or "").strip()
        if context:
            return f"{task_instruction(record)}\nPassage: {context}\nQuestion: {question}"
        return f"{task_instruction(record)}\n{question}"
    if record.kind == "instruction":
        context = (f.get("context") or "").strip()
        return f"{task_instruction(record)}\n\n{context}" if context else task_instruction(record)
    return ""


def _check_format(prompt_format: str) -> None:
    if prompt_format not in PROMPT_FORMATS:
        raise ConfigError(
            f"train.prompt_format: must be one of {', '.join(PROMPT_FORMATS)}, got {prompt_format!r}"
        )


def _turns(records: Sequence[Record]) -> list[tuple[str, str]]:
    return [(human_text(r), target_text(r)) for r in records]


def build_prompt(
    record: Record,
    *,
    prompt_format: str,
    tokenizer: Any = None,
    system_prompt: str = "",
    shots: Sequence[Record] = (),
) -> str:
    """The text up to where the model's answer to ``record`` starts, with ``shots`` as solved examples.

    Tokenize it without adding special tokens for ``inst`` and ``chat_template`` (their text already holds
    BOS / template tokens); see ``adds_special_tokens``.
    """
    _check_format(prompt_format)
    if record.kind == "passage":
        return ""
    shot_turns = _turns(shots)
    human = human_text(record)
    if prompt_format == "chat_template":
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ConfigError(
                "train.prompt_format: 'chat_template' needs a tokenizer with a chat template; "
                "use 'inst', 'human_assistant', 'chatml' or 'plain' for base models"
            )
        turns: list[dict[str, str]] = []
        for h, a in shot_turns:
            turns += [{"role": "user", "content": h}, {"role": "assistant", "content": a}]
        turns.append({"role": "user", "content": human})
        if not system_prompt:
            return str(tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True))
        try:
            messages = [{"role": "system", "content": system_prompt}, *turns]
            return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        except (
            Exception
        ) as e:  # jinja2 TemplateError from raise_exception(); jinja2 is transformers' dependency
            if "system" not in str(e).lower():
                raise
            # Templates without a system role (Gemma) get the system prompt at the top of the first user turn.
            first = {"role": "user", "content": f"{system_prompt}\n\n{turns[0]['content']}"}
            return str(
                tokenizer.apply_chat_template([first, *turns[1:]], tokenize=False, add_generation_prompt=True)
            )
    if prompt_format == "inst":
        sys_block = f"<<SYS>>\n{system_prompt}\n<</SYS>>\n\n" if system_prompt else ""
        parts = []
        inst_turns: list[tuple[str, str | None]] = [*shot_turns, (human, None)]
        for i, (user, answer) in enumerate(inst_turns):
            head = sys_block if i == 0 else ""
            parts.append(
                f"<s>[INST] {head}{user} [/INST]" + (f" {answer} </s>" if answer is not None else "")
            )
        return "".join(parts)
    if prompt_format == "human_assistant":
        head = f"{system_prompt}\n" if system_prompt else ""
        shots_text = "".join(f"### Human: {h} ### Assistant: {a}\n" for h, a in shot_turns)
        return f"{head}{shots_text}### Human: {human} ### Assistant:"
    if prompt_format == "chatml":
        head = f"<|im_start|>system\n{system_prompt}<|im_end|>\n" if system_prompt else ""
        shots_text = "".join(
            f"<|im_start|>user\n{h}<|im_end|>\n<|im_start|>assistant\n{a}<|im_end|>\n" for h, a in shot_turns
        )
        return f"{head}{shots_text}<|im_start|>user\n{human}<|im_end|>\n<|im_start|>assistant\n"
    # plain
    head = f"{system_prompt}\n\n" if system_prompt else ""
    shots_text = "".join(f"{h}\n{a}\n\n" for h, a in shot_turns)
    return f"{head}{shots_text}{human}\n"


def completion_text(record: Record, *, prompt_format: str) -> str:
    """What follows ``build_prompt`` in a training example (the trainer appends EOS after it)."""
    _check_format(prompt_format)
    answer = target_text(record)
    # These formats put a space between the answer marker and the answer, as their reference models saw.
    return f" {answer}" if prompt_format in ("inst", "human_assistant") else answer


def adds_special_tokens(prompt_format: str) -> bool:
    """Whether to let the tokenizer add BOS when encoding a prompt of this format."""
    return prompt_format not in ("inst", "chat_template")
