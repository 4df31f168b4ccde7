"""Azure names tuned models `BASE.ft-<32 hex>` (checkpoints `…:ckpt-step-N`), OpenAI
`ft:BASE:ORG:SUFFIX:ID`: the model list, the picker's labels, the compare partner and
the pre-flight treat both alike (the list over HTTP against `emulator --azure`)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from azure_support import KEY, classic_client, train
from emulator_support import FAST

from tui.api.chat import ModelChoice, list_models
from tui.core.models import (
    TunedName,
    base_name,
    find_model,
    is_checkpoint,
    is_tuned,
    tuned_name,
)
from tui.emulator import EmulatorThread
from tui.widgets.model_picker import default_partner, option_label

AZURE = "gpt-4o-mini-2024-07-18.ft-0e208cf33a6a466994aff31a08aba678"  # Microsoft's example
OPENAI = "ft:gpt-4.1-mini-2025-04-14:emulator:grammar:AbCd1234"


@pytest.fixture
def azure() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=6, speed=FAST, api_key=KEY, env_faults=False, azure=True) as emu:
        yield emu


def test_both_namings_have_a_base_a_label_and_a_step() -> None:
    assert base_name(AZURE) == base_name(f"{AZURE}:ckpt-step-90") == "gpt-4o-mini-2024-07-18"
    assert base_name(OPENAI) == "gpt-4.1-mini-2025-04-14"
    found = find_model(AZURE)  # the tokenizer and limits of the base, for the pre-flight
    assert found is not None and found.name == "gpt-4o-mini-2024-07-18"
    assert is_tuned(AZURE) and not is_checkpoint(AZURE) and is_checkpoint(f"{AZURE}:ckpt-step-90")
    assert tuned_name(f"{AZURE}:ckpt-step-90") == TunedName(
        "gpt-4o-mini-2024-07-18", "ft-0e208cf3", "90"
    )
    assert not is_tuned("gpt-4o-mini-2024-07-18") and not is_tuned("grammar-dev")
    label = option_label(ModelChoice(AZURE, "tuned")).plain
    assert label == "★ ft-0e208cf3\u00a0(gpt-4o-mini-2024-07-18)"
    checkpoint = ModelChoice(f"{AZURE}:ckpt-step-90", "checkpoint", "step 90")
    assert option_label(checkpoint).plain == "◆ ft-0e208cf3 step 90"
    assert option_label(ModelChoice(OPENAI, "tuned")).plain == (
        "★ grammar:AbCd1234\u00a0(gpt-4.1-mini-2025-04-14)"
    )
    choices = [ModelChoice(AZURE, "tuned"), ModelChoice("gpt-4o-mini-2024-07-18", "base")]
    assert default_partner(AZURE, choices) == "gpt-4o-mini-2024-07-18"
    deployed = ModelChoice("grammar", "deployment", f"{AZURE}:ckpt-step-90")
    assert option_label(deployed).plain == "▶ grammar\u00a0(ft-0e208cf3 step 90)"
    # a deployment is compared with the base of what it serves, not with another tuned model
    assert default_partner("grammar", [deployed, *choices]) == "gpt-4o-mini-2024-07-18"


async def test_the_model_list_sorts_azure_models_into_tuned_and_checkpoints(
    azure: EmulatorThread,
) -> None:
    with classic_client(azure) as client:
        job = train(client)
    model = str(job.fine_tuned_model)
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=azure.root_url, api_key=KEY, api_version="2024-10-21", max_retries=0
    ) as client:
        found = await list_models(client)
    kinds = {choice.id: choice.kind for choice in found.choices}
    assert kinds[model] == "tuned"
    checkpoints = [i for i, kind in kinds.items() if kind == "checkpoint"]
    assert checkpoints and all(i.startswith(f"{model}:ckpt-step-") for i in checkpoints)
    assert kinds["gpt-4.1-mini-2025-04-14"] == "base"
    assert found.warnings == []
