"""The seed document's two example pairs and the JSONL they must become (shared by tests)."""

SEED_PAIRS = (
    "Mama, ja, chcieć, ciastko; Mamo chcę dostać ciastko.\n"
    "Ja, być, wczoraj, zewnątrz; Byłem wczoraj na zewnątrz.\n"
)
SEED_SYSTEM = "Popraw gramatykę zdania."
# The seed's JSONL (its `cistko` typo spelled right), the layout `json.dumps` gives.
SEED_JSONL = (
    '{"messages": [{"role": "system", "content": "Popraw gramatykę zdania."}, '
    '{"role": "user", "content": "Mama, ja, chcieć, ciastko"}, '
    '{"role": "assistant", "content": "Mamo chcę dostać ciastko."}]}\n'
    '{"messages": [{"role": "system", "content": "Popraw gramatykę zdania."}, '
    '{"role": "user", "content": "Ja, być, wczoraj, zewnątrz"}, '
    '{"role": "assistant", "content": "Byłem wczoraj na zewnątrz."}]}\n'
)
