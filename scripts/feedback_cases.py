"""Draft evaluation cases from the app's ratings (docs/ui.md, "Feedback"): one line per distinct question in
the format of tests/questions.jsonl, for an operator to finish (facts, and answerable where it is null).

Usage: python scripts/feedback_cases.py [index/feedback.jsonl] > tests/questions-feedback.jsonl
"""
from __future__ import annotations

import json
import sys

from careerbot import Settings
from careerbot.feedback import eval_cases, read_feedback


def main(argv: list[str]) -> int:
    path = argv[0] if argv else Settings.from_env().feedback_file()
    rows = read_feedback(path)
    if not rows:
        print(f"no ratings in {path}", file=sys.stderr)
        return 1
    for case in eval_cases(rows):
        print(json.dumps(case, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
