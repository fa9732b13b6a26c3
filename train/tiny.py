"""Tiny causal LMs for tests, benchmarks and the offline sample: a locally trained tokenizer + a model from a config.

Nothing is downloaded: a byte-level BPE tokenizer is trained with ``tokenizers`` on the given texts, a small
Llama or Qwen2 model is built from its config with random weights, and both are saved with
``save_pretrained`` so they load back through the real ``from_pretrained`` path (including 4-bit loading).

    python -m train.tiny data/tiny-model                      # trained on samples/ (de-fr pairs, wiki pages)
    python -m train.tiny OUT --texts a.txt b.tsv --arch qwen2 --hidden 64 --layers 2

    from train.tiny import build_tiny_model
    path = build_tiny_model(tmp_path / "tiny", ["Guten Tag.", "Bonjour."])
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
# ChatML markers are single tokens so chat-formatted prompts stay short in a tiny vocabulary.
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK, IM_START, IM_END]

# A minimal ChatML template, so prompt_format="chat_template" works on tiny models like on Qwen2.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

DEFAULT_TEXT_FILES = ("samples/parallel/de-fr.tsv",)
# Prompt boilerplate (train.prompts) joins the tokenizer's training texts so instructions become a few
# tokens each, as in real vocabularies, instead of dozens of single letters.
PROMPT_BOILERPLATE = (
    "Translate from German to French.",
    "Translate from French to German.",
    "Translate from English to German.",
    "Answer the question.",
    "Answer the question using the passage.\nPassage:\nQuestion:",
    "### Human: ### Assistant:",
    "<s>[INST] <<SYS>>\n<</SYS>>\n\n [/INST] </s>",
    "system\nuser\nassistant\n",
)
DEFAULT_TEXT_DIRS = ("samples/wiki",)


def _train_tokenizer(texts: Sequence[str], vocab_size: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    # Byte-level: every byte is in the alphabet, so no text is ever out of vocabulary.
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def build_tiny_model(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 512,
    arch: Literal["llama", "qwen2"] = "llama",
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    intermediate: int | None = None,
    seed: int = 0,
    initializer_range: float = 0.2,
) -> Path:
    """Train a tokenizer on ``texts``, build a tiny causal LM, save both under ``out_dir``; returns it."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast, Qwen2Config

    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("build_tiny_model needs at least one non-empty text to train the tokenizer")
    # Repeated so BPE ranks their merges high even beside a larger corpus.
    texts = texts + list(PROMPT_BOILERPLATE) * max(3, len(texts) // 50)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(texts, vocab_size),
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=[IM_START, IM_END],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 2048

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        # Multiples of 64 keep bitsandbytes' CPU 4-bit kernels on their fast path.
        intermediate_size=intermediate or hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        # 10x the usual 0.02: a random lm_head that small caps every logit near 0, so no adapter could
        # make the model confident (LoRA leaves the head and the final norm frozen). Pretrained heads are
        # large too; with this scale a few LoRA steps can memorize, as on a real model.
        initializer_range=initializer_range,
    )
    config = LlamaConfig(**common) if arch == "llama" else Qwen2Config(**common)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    log.info(
        "tiny %s model (%d params, vocab %d) saved to %s", arch, model.num_parameters(), len(tokenizer), out
    )
    return out


def read_texts(paths: Iterable[str | Path]) -> list[str]:
    """Lines of text files (TSV cells split apart) and of every .txt/.html/.tsv file under directories."""
    texts: list[str] = []
    for p in map(Path, paths):
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            raw = f.read_text(encoding="utf-8", errors="replace")
            if f.suffix in (".html", ".htm"):
                from bs4 import BeautifulSoup

                raw = BeautifulSoup(raw, "lxml").get_text("\n")
            for line in raw.splitlines():
                texts.extend(cell.strip() for cell in line.split("\t") if cell.strip())
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.tiny", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output directory (config.json, weights, tokenizer)")
    parser.add_argument(
        "--texts", nargs="*", default=None, help="text/TSV files or folders (default: samples/)"
    )
    parser.add_argument("--arch", choices=["llama", "qwen2"], default="llama")
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sources = args.texts if args.texts else [*DEFAULT_TEXT_FILES, *DEFAULT_TEXT_DIRS]
    existing = [s for s in sources if Path(s).exists()]
    if not existing:
        print(
            f"train.tiny: none of {', '.join(map(str, sources))} exists; pass --texts FILE", file=sys.stderr
        )
        return 2
    build_tiny_model(
        args.out,
        read_texts(existing),
        vocab_size=args.vocab_size,
        arch=args.arch,
        hidden=args.hidden,
        layers=args.layers,
        heads=args.heads,
    )
    print(f"tiny model saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
