"""The tiny model builder: a locally trained tokenizer + model from a config, loadable with from_pretrained."""

from __future__ import annotations

from pathlib import Path

from train.tiny import build_tiny_model, main


def test_tiny_model_round_trips_through_from_pretrained(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    assert tok.pad_token == "<pad>" and tok.eos_token == "</s>"
    text = "Je me lève tous les matins à six heures et demie."
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text
    assert len(ids) < len(text.encode())  # BPE merges learned from the samples shorten the text
    out = model(**tok(text, return_tensors="pt"))
    assert out.logits.shape == (1, len(ids), len(tok))


def test_qwen2_arch_and_cli(tmp_path: Path) -> None:
    texts = tmp_path / "t.tsv"
    texts.write_text("Guten Morgen\tBonjour\nDanke schön\tMerci beaucoup\n", encoding="utf-8")
    assert main([str(tmp_path / "m"), "--texts", str(texts), "--arch", "qwen2", "--vocab-size", "300"]) == 0
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(tmp_path / "m").model_type == "qwen2"
    assert build_tiny_model(tmp_path / "l", ["a b c"], vocab_size=300).joinpath("tokenizer.json").is_file()


def test_cli_without_texts_fails_cleanly(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([str(tmp_path / "m"), "--texts", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
