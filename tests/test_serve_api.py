"""`tunebench serve` over real HTTP with the official SDK: files, models, chat on a tiny base
model, the label mask, and who may connect. (Training jobs: test_serve_jobs.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.conftest import REPO_ROOT
from tests.serve_support import CHAT_TEMPLATE, SYSTEM, chat_lines
from tui.serve.server import RemoteBindRefused, Serve, ServeThread


@pytest.fixture
def client(serve: ServeThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=serve.base_url, api_key="local", max_retries=0)


def test_files_upload_list_retrieve_content_delete(client: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(chat_lines())
    uploaded = client.files.create(file=path.open("rb"), purpose="fine-tune")
    assert uploaded.filename == "train.jsonl" and uploaded.bytes == len(chat_lines())
    assert uploaded.id in [f.id for f in client.files.list()]
    assert client.files.retrieve(uploaded.id).purpose == "fine-tune"
    assert client.files.content(uploaded.id).read() == chat_lines()
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_only_jsonl_fine_tune_files_are_taken(client: openai.OpenAI, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(openai.BadRequestError, match=r"\.jsonl"):
        client.files.create(file=text.open("rb"), purpose="fine-tune")
    jsonl = tmp_path / "batch.jsonl"
    jsonl.write_bytes(chat_lines())
    with pytest.raises(openai.BadRequestError, match="fine-tune"):
        client.files.create(file=jsonl.open("rb"), purpose="batch")


def test_models_list_the_base_by_directory_name(client: openai.OpenAI) -> None:
    assert "tiny-llama" in [m.id for m in client.models.list()]
    assert client.models.retrieve("tiny-llama").owned_by == "local"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("tiny-llama")


MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "Kot, spać, kanapa"},
]


def test_chat_is_repeatable_with_a_seed_and_honours_max_tokens_and_n(
    client: openai.OpenAI,
) -> None:
    def ask(**kw: object) -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(model="tiny-llama", messages=MESSAGES, **kw)  # type: ignore[call-overload]

    first = ask(max_tokens=6, seed=7, temperature=1.0)
    again = ask(max_tokens=6, seed=7, temperature=1.0)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.usage is not None and 1 <= first.usage.completion_tokens <= 6
    assert first.usage.prompt_tokens > 5
    three = ask(max_tokens=4, seed=1, n=3)
    assert [c.index for c in three.choices] == [0, 1, 2]
    assert len({c.message.content for c in three.choices}) > 1  # sampled, not copies


def test_streaming_gives_the_same_text_as_a_plain_reply(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(
        model="tiny-llama",
        messages=MESSAGES,
        max_tokens=12,
        temperature=0,  # type: ignore[arg-type]
    )
    stream = client.chat.completions.create(
        model="tiny-llama",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_tokens=12,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == plain.choices[0].message.content
    assert finish == plain.choices[0].finish_reason
    assert usage is not None and usage.completion_tokens == plain.usage.completion_tokens  # type: ignore[union-attr]


def test_a_stop_string_ends_the_reply_before_it(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(
        model="tiny-llama",
        messages=MESSAGES,
        max_tokens=12,
        temperature=0,  # type: ignore[arg-type]
    )
    text = plain.choices[0].message.content or ""
    stop = text[3:5]
    assert len(stop) == 2
    stopped = client.chat.completions.create(
        model="tiny-llama",
        messages=MESSAGES,
        max_tokens=12,
        temperature=0,
        stop=[stop],  # type: ignore[arg-type]
    )
    assert stopped.choices[0].message.content == text[: text.index(stop)]
    assert stopped.choices[0].finish_reason == "stop"


def test_unknown_model_and_bad_parameters_get_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="nope", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(model="tiny-llama", messages=MESSAGES, temperature=5)  # type: ignore[arg-type]


def test_a_non_loopback_host_needs_allow_remote_and_a_key(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(RemoteBindRefused, match="--allow-remote"):
        Serve(models=[str(tiny)], data_dir=tmp_path, host="0.0.0.0")
    with pytest.raises(RemoteBindRefused, match="API key"):
        Serve(models=[str(tiny)], data_dir=tmp_path, host="0.0.0.0", allow_remote=True)


def test_with_a_key_requests_without_it_get_401(tiny: Path, tmp_path: Path) -> None:
    with ServeThread(models=[str(tiny)], data_dir=tmp_path, api_key="s3cret") as server:
        wrong = openai.OpenAI(base_url=server.base_url, api_key="other", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
            wrong.models.list()
        right = openai.OpenAI(base_url=server.base_url, api_key="s3cret", max_retries=0)
        assert [m.id for m in right.models.list()] == ["tiny-llama"]


def test_the_label_mask_trains_only_weighted_assistant_turns(tiny: Path) -> None:
    from transformers import AutoTokenizer

    from tui.serve.data import IGNORE, tokenize_chat

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Pies, biegać, park"},
        {"role": "assistant", "content": "Pies biegać park.", "weight": 0},
        {"role": "user", "content": "Popraw."},
        {"role": "assistant", "content": "Pies biega po parku."},
    ]
    ids, labels = tokenize_chat(tokenizer, messages, max_length=None)
    trained = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE]
    assert tokenizer.decode(trained) == "Pies biega po parku.<|im_end|>"
    assert all(label in (IGNORE, i) for i, label in zip(ids, labels, strict=True))
    assert len(ids) == len(labels) > len(trained)

    # A template without generation markers (most real models'): each assistant turn is found
    # by rendering the conversation up to it: the same turn, plus the newline the template
    # puts after it.
    tokenizer.chat_template = CHAT_TEMPLATE.replace("{% generation %}", "").replace(
        "{% endgeneration %}", ""
    )
    plain_ids, plain_labels = tokenize_chat(tokenizer, messages, max_length=None)
    assert plain_ids == ids
    trained = [i for i, label in zip(ids, plain_labels, strict=True) if label != IGNORE]
    assert tokenizer.decode(trained) == "Pies biega po parku.<|im_end|>\n"


def test_serve_without_the_train_extra_says_what_to_install(tmp_path: Path) -> None:
    hide_torch = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from tui.cli import main\n"
        "raise SystemExit(main(['serve', '--model', 'x']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", hide_torch], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'tunebench[train]'" in lines[0]
    assert "Traceback" not in done.stderr
    json.dumps(lines)  # one plain line


def test_the_embedded_serve_subprocess_prints_its_url_and_stops(tiny: Path, tmp_path: Path) -> None:
    from tui.serve.embedded import EmbeddedServe

    with EmbeddedServe(str(tiny), data_dir=tmp_path / "data", log=tmp_path / "serve.log") as served:
        client = openai.OpenAI(base_url=served.base_url, api_key="any", max_retries=0)
        assert [m.id for m in client.models.list()] == ["tiny-llama"]
        process = served.process
    assert process is not None and process.returncode is not None


def test_local_with_a_missing_model_says_why_in_one_line(run_cli, tmp_path: Path) -> None:
    result = run_cli("--local", str(tmp_path / "no-such-model"), timeout=180)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(f"did not start: --model {tmp_path / 'no-such-model'}: no such directory")
    )


def test_serve_refuses_a_bad_port_and_a_missing_gpu_in_one_line(run_cli, tiny: Path) -> None:
    result = run_cli("serve", "--model", str(tiny), "--port", "70000")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tunebench serve: argument --port: must be 0 to 65535: '70000'"
    ]
    import torch

    if torch.cuda.is_available():
        return  # a GPU machine: --device cuda is fine there
    result = run_cli("serve", "--model", str(tiny), "--device", "cuda", "--port", "0", timeout=120)
    assert result.returncode == 2  # before listening, not at the first job
    assert result.stderr.strip().splitlines() == [
        "--device cuda: torch sees no CUDA device here (no GPU, or a CPU build of torch); "
        "use --device cpu or auto"
    ]


def test_serve_refuses_a_public_host_without_a_key_in_one_line(run_cli, tiny: Path) -> None:
    result = run_cli("serve", "--model", str(tiny), "--host", "0.0.0.0", "--allow-remote")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "refusing to serve on 0.0.0.0: a non-loopback address needs --allow-remote and an API "
        "key from --api-key-env (or use an SSH tunnel to 127.0.0.1)"
    ]
