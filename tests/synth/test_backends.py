"""The OpenAI-compatible backend against the local server, and local transformers generation on a tiny model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from synth.client import ChatRequest, TransformersBackend, make_backend
from synth.stage import run_synth
from synthmix.config.base import parse
from synthmix.config.synth import LLMConfig
from synthmix.errors import ConfigError, MissingRequirementError
from synthmix.layout import Layout
from synthmix.store import read_manifest, read_records, read_rejected
from tests.synth.chat_server import ChatServer, Reply, good_pairs, request_seed
from tests.synth.conftest import llm_table, make_recipe, write_ingest

JOB = """
[synth.synthetic]
generator = "translation"
from = "flores"
records = 6
per_request = 3
few_shot = 2
[synth.synthetic.llm]
{llm}
"""


def test_openai_backend_against_local_v1_endpoint(project: Path, server: ChatServer, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY")  # a local OpenAI-compatible server needs no key
    seen: Counter[int] = Counter()

    def script(n: int, body: dict) -> Reply:
        seed = request_seed(body)
        seen[seed] += 1
        if seen[seed] == 1 and seed == 14:
            return Reply(status=503, headers={"retry-after": "0.1"})
        return Reply(content=good_pairs(body))

    server.script = script
    llm = llm_table(f"{server.url}/v1", backend="openai", model="qwen2.5:7b", json_mode=True)
    recipe = make_recipe(project, JOB.format(llm=llm))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    manifest = run_synth(recipe, layout, progress=False)["synthetic"]

    assert {e["path"] for e in server.log} == {"/v1/chat/completions"}
    assert all(e["body"]["model"] == "qwen2.5:7b" for e in server.log)
    assert all(e["body"]["response_format"] == {"type": "json_object"} for e in server.log)
    assert manifest["synth"]["requests"]["server_errors"] == 1
    records = read_records(layout.synth("synthetic"))
    assert len(records) == 6 and {r.meta["backend"] for r in records} == {"openai"}


def test_openai_backend_to_a_remote_host_needs_a_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = LLMConfig(backend="openai", base_url="https://api.example.com/v1", api_key_env="OPENAI_API_KEY")
    with pytest.raises(MissingRequirementError, match="OPENAI_API_KEY"):
        make_backend(llm, "synth.x.llm")


def test_recorded_backend_validates_its_file(tmp_path: Path):
    bad = tmp_path / "r.jsonl"
    bad.write_text('{"choices": []}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"synth.x.llm.responses: .*r.jsonl:2"):
        make_backend(parse(LLMConfig, {"backend": "recorded", "responses": str(bad)}), "synth.x.llm")
    with pytest.raises(ConfigError, match="llm.responses: the recorded backend needs a responses file"):
        parse(LLMConfig, {"backend": "recorded"}, "llm")


SENTENCES = [
    "Der Zug nach Köln hat Verspätung.",
    "Le train pour Cologne a du retard.",
    '{"pairs": [{"src": "Hallo", "tgt": "Salut"}]}',
    "Write new German sentences with French translations.",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Qwen2 with a BPE tokenizer trained on four sentences, saved to disk."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = tmp_path_factory.mktemp("tiny-qwen2")
    # Byte-level BPE, as Qwen2's own tokenizer: transformers reads it back as a Qwen2 tokenizer intact.
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<pad>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(SENTENCES * 3, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    Qwen2ForCausalLM(config).save_pretrained(out)
    return out


def test_transformers_backend_generates_with_chat_template(tiny_model: Path):
    backend = TransformersBackend(LLMConfig(backend="transformers", model=str(tiny_model)))
    messages = ({"role": "system", "content": "Hallo"}, {"role": "user", "content": "Der Zug nach Köln"})
    request = ChatRequest(messages=messages, temperature=0.7, max_tokens=8, seed=5)
    a = backend.complete(request, 0)
    b = backend.complete(request, 1)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    rendered = tok.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
    assert rendered == "<|system|>Hallo</s><|user|>Der Zug nach Köln</s><|assistant|>"
    assert tok.decode(tok(rendered)["input_ids"]) == rendered  # the tokenizer survived save/load
    assert a.prompt_tokens == len(tok(rendered)["input_ids"])
    assert 1 <= a.completion_tokens <= 8
    assert a.finish_reason == ("length" if a.completion_tokens == 8 else "stop")
    assert a.text == b.text  # the per-request seed makes sampling reproducible
    assert a.raw["choices"][0]["message"]["content"] == a.text


def test_transformers_backend_runs_a_job_and_rejects_its_noise(project: Path, tiny_model: Path):
    llm = f'backend = "transformers"\nmodel = "{tiny_model}"\nmax_tokens = 6\nrequests_per_minute = 60000\nconcurrency = 1'
    recipe = make_recipe(project, JOB.format(llm=llm).replace("records = 6", "records = 3"))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    manifest = run_synth(recipe, layout, progress=False)["synthetic"]
    # A random 2-layer model writes no valid JSON: every answer is rejected with a reason, none crashes.
    rejected = read_rejected(layout.synth("synthetic"))
    assert manifest["counts"]["records"] == 0
    assert len(rejected) == manifest["synth"]["requests"]["completed"] == 2  # 2x ceil(3/3) requests allowed
    assert {x.reason for x in rejected} <= {
        "malformed_json",
        "truncated",
        "empty",
        "schema_invalid",
        "refusal",
    }
    assert manifest["synth"]["stop"]["reason"] == "max_requests"
    assert all(json.loads(json.dumps(x.record.meta))["backend"] == "transformers" for x in rejected)
    assert read_manifest(layout.synth("synthetic"))["synth"]["tokens"]["prompt"] > 0


def test_transformers_backend_names_a_missing_model(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingRequirementError, match="synth.x.llm.model: cannot load 'no-org/no-model'"):
        TransformersBackend(LLMConfig(backend="transformers", model="no-org/no-model"), "synth.x.llm")


def test_recorded_backend_stops_cleanly_when_its_answers_run_out(project: Path):
    answer = {
        "model": "hand-written",
        "choices": [
            {"message": {"role": "assistant", "content": good_pairs({"seed": 1})}, "finish_reason": "stop"}
        ],
    }
    second = json.loads(json.dumps(answer))
    second["choices"][0]["message"]["content"] = good_pairs({"seed": 2})
    path = project / "answers.jsonl"
    path.write_text(json.dumps(answer) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    llm = f'backend = "recorded"\nmodel = "hand-written"\nresponses = "{path}"'
    recipe = make_recipe(project, JOB.format(llm=llm).replace("records = 6", "records = 9"))
    layout = Layout(recipe.name, project)
    write_ingest(layout)
    manifest = run_synth(recipe, layout, progress=False)["synthetic"]
    stop = manifest["synth"]["stop"]
    assert stop["reason"] == "recorded_responses_exhausted" and stop["limit"] == 2
    assert (stop["records"], stop["target_records"], stop["requests_done"]) == (6, 9, 2)
    assert manifest["synth"]["this_run"]["limiter_wait_s"] < 1  # recorded answers are not paced
