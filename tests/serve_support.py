"""A tiny chat model built at test time (no download): a 2-layer Llama config with random
weights, a byte-level BPE tokenizer trained with `tokenizers` on a few sentences, and a
ChatML template with `{% generation %}` markers (what `assistant_only_loss` needs).

Building it takes about a second; the weights use a larger init scale (0.1) so a LoRA
adapter moves the loss within a few steps.
"""

from __future__ import annotations

import json
from pathlib import Path

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}"
    "{{- message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "Popraw gramatykę zdania.",
    "Mama, ja, chcieć, ciastko",
    "Mamo, chcę dostać ciastko.",
    "Kot, spać, kanapa",
    "Kot śpi na kanapie.",
    "Pies, biegać, park",
    "Pies biega po parku.",
    "The quick brown fox jumps over the lazy dog.",
    "Say hello to the user in one short sentence.",
    "system user assistant: hello world, how are you today?",
    "0123456789 !?.,;:-()[]{}\"'",
]
PAIRS = [
    ("Mama, ja, chcieć, ciastko", "Mamo, chcę dostać ciastko."),
    ("Kot, spać, kanapa", "Kot śpi na kanapie."),
    ("Pies, biegać, park", "Pies biega po parku."),
    ("Ja, iść, szkoła", "Idę do szkoły."),
    ("On, czytać, książka", "On czyta książkę."),
    ("My, jeść, obiad", "Jemy obiad."),
    ("Ona, pić, herbata", "Ona pije herbatę."),
    ("Dzieci, bawić się, ogród", "Dzieci bawią się w ogrodzie."),
    ("Tata, jechać, praca", "Tata jedzie do pracy."),
    ("Ty, mieć, kot", "Masz kota."),
]
SYSTEM = "Popraw gramatykę zdania."


def build_tiny_model(directory: Path, *, layers: int = 2, hidden: int = 32) -> Path:
    """Write a tiny Llama chat model (weights, config, tokenizer, template) to `directory`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = CORPUS + [text for pair in PAIRS for text in pair]
    bpe.train_from_iterator(corpus * 3, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        initializer_range=0.1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    return directory


def chat_lines(pairs: list[tuple[str, str]] | None = None, *, system: str = SYSTEM) -> bytes:
    """Chat JSONL, one example a line, for the given (user, assistant) pairs."""
    lines = []
    for user, assistant in pairs or PAIRS:
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def dpo_lines() -> bytes:
    """Preference JSONL: the correct sentence preferred over the raw words."""
    lines = []
    for user, assistant in PAIRS:
        lines.append(
            json.dumps(
                {
                    "input": {
                        "messages": [
                            {"role": "system", "content": SYSTEM},
                            {"role": "user", "content": user},
                        ]
                    },
                    "preferred_output": [{"role": "assistant", "content": assistant}],
                    "non_preferred_output": [{"role": "assistant", "content": user}],
                },
                ensure_ascii=False,
            )
        )
    return ("\n".join(lines) + "\n").encode()
