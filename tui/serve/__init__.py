"""`tunebench serve`: real fine-tuning of open models behind the OpenAI fine-tuning API.

Files, fine-tuning jobs (events, checkpoints, cancel/pause/resume), models and chat
completions under `/v1`, as the app and the official SDK speak them. Each job trains a LoRA
adapter with TRL in its own `accelerate launch` subprocess (`tui.serve.train`); state lives
in sqlite and files under the data dir, so a restart keeps it. Needs the `train` extra
(torch, transformers, peft, trl, accelerate); nothing here imports them at module level.

- async:  `async with Serve(models=[path], data_dir=dir) as serve: serve.base_url`
- thread: `with ServeThread(models=[path], data_dir=dir) as serve: serve.base_url`
- shell:  `tunebench serve --model PATH_OR_HF_ID [--port N] [--data-dir DIR]`
"""
