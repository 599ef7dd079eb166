"""Print the settings table that docs/architecture.md holds, made from the Settings class, or put it there.

Usage: python scripts/settings_table.py            # print it
       python scripts/settings_table.py --write    # replace the table in docs/architecture.md
tests/test_settings.py fails while the document's table differs from this one.
"""
from __future__ import annotations

import sys
from pathlib import Path

from careerbot.settings import settings_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
START, END = "<!-- settings table: scripts/settings_table.py -->\n", "<!-- end of settings table -->\n"


def main(argv: list[str]) -> int:
    table = settings_table()
    if argv != ["--write"]:
        print(table, end="")
        return 0
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{DOC} has no {START.strip()} ... {END.strip()} block to replace", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    DOC.write_text(head + START + table + END + rest.split(END, 1)[1], encoding="utf-8")
    print(f"wrote the settings table into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
