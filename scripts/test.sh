#!/usr/bin/env bash
# Set up (if needed) and run the test suite. Extras default to "test"; CI adds "llm".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "${CAREERBOT_SETUP_EXTRAS:-test}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
# Lint and types first: seconds, and a clearer failure than a test's.
.venv/bin/ruff check src tests benchmarks scripts app.py
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
