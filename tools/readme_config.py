"""Regenerate the README's config reference from the schema (`python -m tools.readme_config`).

tests/foundation/test_config.py checks the README holds exactly `bot.config.schema_reference()`."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import schema_reference

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    text = README.read_text()
    start = text.index("#### `top level`")
    nxt = re.search(r"\n## ", text[start:])
    end = start + nxt.start() if nxt else len(text)
    tail = "\n\n" + text[end:].lstrip("\n") if nxt else "\n"
    README.write_text(text[:start] + schema_reference().strip() + tail)


if __name__ == "__main__":
    main()
