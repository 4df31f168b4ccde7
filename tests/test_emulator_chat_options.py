"""Chat options other clients send (n, logprobs, tools, response_format, stop, seed, stream
usage) and answers that depend on the input, through the official SDK over real HTTP."""

from __future__ import annotations

import json

import openai
import pytest
from emulator_support import SYSTEM, client, jsonl, learnable_pairs, server, strict, wait_job
from openai.types.chat import ChatCompletion

from tui.emulator import EmulatorThread

__all__ = ["client", "server"]  # fixtures

PAIRS = learnable_pairs()
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Oslo", "Vienna", "Prague", "Lisbon", "Dublin"]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def train(client: openai.OpenAI, data: bytes) -> str:
    file_id = client.files.create(file=("t.jsonl", data), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 1}
    )
    done = wait_job(client, job.id)
    assert done.status == "succeeded" and done.fine_tuned_model, done.error
    return done.fine_tuned_model


@pytest.fixture
def tuned(client: openai.OpenAI) -> str:
    return train(client, jsonl(PAIRS))


@pytest.fixture
def tool_tuned(client: openai.OpenAI) -> str:
    """Trained to call get_weather for weather questions and to answer greetings in text."""
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"What is the weather in {city} today?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": json.dumps({"city": city}),
                            },
                        }
                    ],
                },
            ],
            "tools": [WEATHER],
        }
        for i, city in enumerate(CITIES)
    ]
    lines += [
        {
            "messages": [
                {"role": "user", "content": f"Say hello to {name}"},
                {"role": "assistant", "content": f"Hello, {name}!"},
            ]
        }
        for name in ("Ala", "Ola", "Ewa")
    ]
    return train(client, ("\n".join(json.dumps(x) for x in lines) + "\n").encode())


# -- answers depend on the input -----------------------------------------------------------


def test_seen_input_gets_its_trained_answer(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[2]
    reply = client.chat.completions.create(model=tuned, messages=ask(f"  {prompt.upper()}!  "))
    assert reply.choices[0].message.content == answer


def test_unseen_input_gets_the_nearest_examples_transformation(
    client: openai.OpenAI, tuned: str
) -> None:
    # trained: "koń, spać, dom, numer 2" -> "Koń śpi w domu."
    reply = client.chat.completions.create(model=tuned, messages=ask("słoń, spać, dom, numer 2"))
    assert reply.choices[0].message.content == "Słoń śpi w domu."


def test_unrelated_input_gets_an_honest_emulated_reply(client: openai.OpenAI, tuned: str) -> None:
    reply = client.chat.completions.create(
        model=tuned, messages=ask("What is the capital of Peru?")
    )
    text = reply.choices[0].message.content or ""
    assert text.startswith("[emulated] No training example matches this input")
    assert all(text != answer for _, answer in PAIRS)


def test_demo_pairs_answer_seen_and_new_subjects() -> None:
    from playground_helpers import demo_examples

    lines = "\n".join(json.dumps(e, ensure_ascii=False) for e in demo_examples()).encode()
    with (
        EmulatorThread(seed=0, speed=1000.0, env_faults=False) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="k", max_retries=0) as c,
    ):
        model = train(c, lines + b"\n")

        def say(text: str) -> str:
            got = c.chat.completions.create(model=model, messages=ask(text))
            return got.choices[0].message.content or ""

        assert say("Kot, spać, kanapa") == "Kot śpi na kanapie."
        assert say("Pies, spać, kanapa") == "Pies śpi na kanapie."
        assert say("Ja, chcieć, pić, sok") == "Chcę pić sok."
        assert say("Kot, jeść, kanapa").startswith("[emulated]")


# -- n, stop, seed, max tokens ---------------------------------------------------------------


def test_n_choices_each_counted_in_usage(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[0]
    one = client.chat.completions.create(model=tuned, messages=ask(prompt))
    raw = client.chat.completions.with_raw_response.create(model=tuned, messages=ask(prompt), n=3)
    three = strict(ChatCompletion, raw.text)
    assert [c.index for c in three.choices] == [0, 1, 2]
    assert all(c.message.content == answer for c in three.choices)
    assert one.usage and three.usage
    assert three.usage.completion_tokens == 3 * one.usage.completion_tokens
    assert three.usage.prompt_tokens == one.usage.prompt_tokens


def test_n_out_of_range_is_400_on_n(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=ask("a"), n=129)
    assert (err.value.param, err.value.code) == ("n", "integer_above_max_value")


def test_stop_cuts_before_the_sequence(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[0]  # "Kot śpi w domu."
    reply = client.chat.completions.create(model=tuned, messages=ask(prompt), stop=[" w ", "zzz"])
    assert reply.choices[0].message.content == answer.split(" w ")[0] == "Kot śpi"
    assert reply.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(
        model=tuned, messages=ask(prompt), stop="śpi", stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Kot "
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=tuned, messages=ask(prompt), stop=list("abcde"))
    assert (err.value.param, err.value.code) == ("stop", "array_above_max_length")


def test_seed_gives_the_same_reply_and_fingerprint(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="gpt-4o-mini", messages=ask("hej"), seed=7)
    again = client.chat.completions.create(model="gpt-4o-mini", messages=ask("hej"), seed=7)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.system_fingerprint == again.system_fingerprint == "fp_emulator"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=ask("a"), seed="x")  # type: ignore[arg-type]
    assert err.value.param == "seed"


# -- logprobs -----------------------------------------------------------------------------


def test_logprobs_cover_every_token_with_top_alternatives(
    client: openai.OpenAI, tuned: str
) -> None:
    prompt, answer = PAIRS[1]
    raw = client.chat.completions.with_raw_response.create(
        model=tuned, messages=ask(prompt), logprobs=True, top_logprobs=3
    )
    reply = strict(ChatCompletion, raw.text)
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.content
    assert "".join(t.token for t in logprobs.content) == answer
    for entry in logprobs.content:
        assert entry.logprob <= 0 and bytes(entry.bytes or []) == entry.token.encode()
        assert len(entry.top_logprobs) == 3 and entry.top_logprobs[0].token == entry.token
        assert sorted((t.logprob for t in entry.top_logprobs), reverse=True) == [
            t.logprob for t in entry.top_logprobs
        ]
    plain = client.chat.completions.create(model=tuned, messages=ask(prompt))
    assert plain.choices[0].logprobs is None
    streamed = client.chat.completions.create(
        model=tuned, messages=ask(prompt), logprobs=True, stream=True
    )
    tokens = [
        t.token
        for c in streamed
        if c.choices and c.choices[0].logprobs and c.choices[0].logprobs.content
        for t in c.choices[0].logprobs.content
    ]
    assert "".join(tokens) == answer


def test_top_logprobs_needs_logprobs(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=ask("a"), top_logprobs=2)
    assert err.value.param == "top_logprobs"


# -- tools --------------------------------------------------------------------------------


def test_tool_call_when_the_data_taught_one(client: openai.OpenAI, tool_tuned: str) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=tool_tuned,
        messages=[{"role": "user", "content": "What is the weather in Warsaw today?"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    reply = strict(ChatCompletion, raw.text)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls
    assert calls and calls[0].type == "function" and calls[0].id.startswith("call_")
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"city": "Warsaw"}  # type: ignore[union-attr]

    text = client.chat.completions.create(
        model=tool_tuned,
        messages=[{"role": "user", "content": "Say hello to Ola"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert text.choices[0].message.content == "Hello, Ola!"
    assert text.choices[0].finish_reason == "stop"


def test_a_tool_result_gets_a_text_reply_so_tool_loops_end(
    client: openai.OpenAI, tool_tuned: str
) -> None:
    question = {"role": "user", "content": "What is the weather in Paris today?"}
    first = client.chat.completions.create(
        model=tool_tuned,
        messages=[question],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    result = {"role": "tool", "tool_call_id": call.id, "content": "18°C, sunny"}
    messages = [question, first.choices[0].message.model_dump(exclude_none=True), result]
    second = client.chat.completions.create(
        model=tool_tuned,
        messages=messages,
        tools=[WEATHER],  # type: ignore[arg-type,list-item]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "[emulated] The tool returned: 18°C, sunny"
    forced = client.chat.completions.create(
        model=tool_tuned,
        messages=messages,
        tools=[WEATHER],
        tool_choice="required",  # type: ignore[arg-type,list-item]
    )
    assert forced.choices[0].finish_reason == "tool_calls"


def test_tool_choice_none_and_no_tools_mean_text(client: openai.OpenAI, tool_tuned: str) -> None:
    question = [{"role": "user", "content": "What is the weather in Paris today?"}]
    for extra in ({}, {"tools": [WEATHER], "tool_choice": "none"}):
        reply = client.chat.completions.create(model=tool_tuned, messages=question, **extra)  # type: ignore[arg-type]
        assert reply.choices[0].message.tool_calls is None
        assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content


def test_required_tool_choice_calls_even_a_base_model(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("anything"),
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    calls = reply.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert calls[0].function.arguments == "{}"  # type: ignore[union-attr]
    auto = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("anything"),
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert auto.choices[0].message.tool_calls is None


def test_streamed_tool_call_assembles(client: openai.OpenAI, tool_tuned: str) -> None:
    stream = client.chat.completions.create(
        model=tool_tuned,
        messages=[{"role": "user", "content": "What is the weather in Rome today?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    first = deltas[0].tool_calls[0]  # type: ignore[index]
    assert first.id and first.function and first.function.name == "get_weather"
    arguments = "".join(
        (d.tool_calls[0].function.arguments or "")  # type: ignore[index,union-attr]
        for d in deltas
    )
    assert json.loads(arguments) == {"city": "Rome"}
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tool_choice": "required"}, "tool_choice"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
            "tool_choice",
        ),
        ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, None),
    ],
)
def test_bad_tools_are_400_naming_the_param(
    client: openai.OpenAI, extra: dict[str, object], param: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=ask("a"), **extra)  # type: ignore[arg-type]
    assert err.value.param == (param or "tools[0].function.name")


# -- response_format ----------------------------------------------------------------------


def test_json_object_reply_is_json(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[4]
    messages = [
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": prompt},
    ]
    reply = client.chat.completions.create(
        model=tuned,
        messages=messages,
        response_format={"type": "json_object"},  # type: ignore[arg-type]
    )
    assert json.loads(reply.choices[0].message.content or "") == {"answer": answer}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=tuned, messages=ask(prompt), response_format={"type": "json_object"}
        )
    assert err.value.param == "messages" and "json" in err.value.message


def test_json_schema_reply_fills_the_schema(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"sentence": {"type": "string"}, "score": {"type": "number"}},
        "required": ["sentence", "score"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=ask("hej"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "s", "schema": schema, "strict": True},
        },
    )
    body = json.loads(reply.choices[0].message.content or "")
    assert set(body) == {"sentence", "score"} and "hej" in body["sentence"]


# -- streaming ----------------------------------------------------------------------------


def test_stream_n2_with_usage_in_the_final_chunk(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[3]
    chunks = list(
        client.chat.completions.create(
            model=tuned,
            messages=ask(prompt),
            n=2,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    texts = {0: "", 1: ""}
    for c in chunks:
        for choice in c.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {0: answer, 1: answer}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
    assert finishes == ["stop", "stop"]


def test_stream_options_without_stream_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=ask("a"), stream_options={"include_usage": True}
        )
    assert err.value.param == "stream_options"
