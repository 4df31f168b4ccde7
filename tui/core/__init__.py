"""Pure logic shared by the CLI and the screens. Never imports textual (nor openai).

- formats:  read_records / detect_format / export_jsonl / to_jsonl_line; Record; UnusableInput
- dataset:  Dataset (lossless open/save, edits, one-record re-check, export)
- validate: validate_bytes (any bytes, never raises), validate_records, check_record;
            ValidationReport, Problem
- checks:   check_chat / check_dpo on one parsed example (pure)
- tokens:   get_encoding (offline, hash-checked), TokenCounter, example_tokens
- models:   MODELS, resolve_model / find_model / base_name / tuned_name (tuned names -> base)
- estimate: default_epochs, estimate, token_stats
- atomic:   write_atomic
"""
