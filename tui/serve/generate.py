"""Chat generation for `serve`: base models, and tuned models (base + LoRA adapter, merged).

Loaded models are cached (the two most recently used). One generation runs at a time, under
a lock, so `seed` gives the same answer for the same request. Streaming decodes with
`TextIteratorStreamer` (whole characters, never half a UTF-8 sequence); stop strings are held
back until it is certain they are not the start of a stop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_SIZE = 2
DEFAULT_MAX_TOKENS = 256


@dataclass(frozen=True)
class Sampling:
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class Choice:
    text: str
    finish_reason: str
    completion_tokens: int


class StopScanner:
    """Feeds text pieces through; gives back what is safe to show and whether a stop was hit."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if not self.stops:
            return piece
        self.held += piece
        cut = min((i for i in (self.held.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.held, self.stopped = self.held[:cut], "", True
            return out
        keep = max(len(s) for s in self.stops) - 1
        out = self.held[: len(self.held) - keep] if len(self.held) > keep else ""
        self.held = self.held[len(out) :]
        return out

    def flush(self) -> str:
        out, self.held = self.held, ""
        return out


class Engine:
    def __init__(self, device: str) -> None:
        self.device = device
        self._models: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def _device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def load(self, key: str, source: str, adapter: Path | None) -> tuple[Any, Any]:
        """(model, tokenizer) for a base `source`, with `adapter` merged in if given."""
        cached = self._models.get(key)
        if cached is not None:
            self._models.move_to_end(key)
            return cached
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self._device()
        tokenizer = AutoTokenizer.from_pretrained(source)
        model: Any = AutoModelForCausalLM.from_pretrained(
            source, dtype="auto" if device != "cpu" else None
        )
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        model.to(device).eval()
        self._models[key] = (model, tokenizer)
        while len(self._models) > CACHE_SIZE:
            self._models.popitem(last=False)
        return model, tokenizer

    def forget(self, key: str) -> None:
        self._models.pop(key, None)

    def _inputs(self, model: Any, tokenizer: Any, messages: list[dict[str, str]]) -> Any:
        return tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(model.device)

    def _kwargs(self, model: Any, tokenizer: Any, prompt_len: int, sampling: Sampling) -> Any:
        import torch

        limit = getattr(model.config, "max_position_embeddings", None)
        room = DEFAULT_MAX_TOKENS if limit is None else max(1, limit - prompt_len)
        kwargs: dict[str, Any] = {
            "max_new_tokens": min(sampling.max_tokens or DEFAULT_MAX_TOKENS, room),
            "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id,
        }
        if sampling.temperature == 0:
            kwargs["do_sample"] = False
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        if sampling.stop:  # generation ends at a stop string; StopScanner trims it off
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=tokenizer)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        return kwargs

    def prompt_tokens(self, tokenizer: Any, messages: list[dict[str, str]]) -> int:
        encoded = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        return len(encoded["input_ids"])

    def stream(
        self, model: Any, tokenizer: Any, messages: list[dict[str, str]], sampling: Sampling
    ) -> Iterator[str | Choice]:
        """Text pieces as they are generated, then the `Choice` (call with `self.lock` held)."""
        from transformers import TextIteratorStreamer

        inputs = self._inputs(model, tokenizer, messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        kwargs = self._kwargs(model, tokenizer, prompt_len, sampling)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["output"] = model.generate(**inputs, **kwargs, streamer=streamer)
            except BaseException as exc:
                result["error"] = exc
                streamer.end()

        thread = threading.Thread(target=work, name="tunebench-generate", daemon=True)
        thread.start()
        scanner = StopScanner(sampling.stop)
        text = []
        for piece in streamer:
            if scanner.stopped:
                continue  # drain: generation ends at the stop string
            out = scanner.feed(piece)
            if out:
                text.append(out)
                yield out
        thread.join()
        if "error" in result:
            raise result["error"]
        tail = "" if scanner.stopped else scanner.flush()
        if tail:
            text.append(tail)
            yield tail
        generated = int(result["output"].shape[1]) - prompt_len
        hit_eos = bool(generated and int(result["output"][0, -1]) in _eos_ids(model, tokenizer))
        if scanner.stopped or hit_eos or generated < kwargs["max_new_tokens"]:
            reason = "stop"
        else:
            reason = "length"
        yield Choice("".join(text), reason, generated)

    def complete(
        self, model: Any, tokenizer: Any, messages: list[dict[str, str]], sampling: Sampling
    ) -> Choice:
        choice = None
        for item in self.stream(model, tokenizer, messages, sampling):
            if isinstance(item, Choice):
                choice = item
        assert choice is not None
        return choice


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = model.generation_config.eos_token_id
    out = set(ids if isinstance(ids, list) else [] if ids is None else [ids])
    if tokenizer.eos_token_id is not None:
        out.add(tokenizer.eos_token_id)
    return out
