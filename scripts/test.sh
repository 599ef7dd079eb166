#!/usr/bin/env bash
# Set up (if needed) and run the test suite. Extras default to "test"; CI adds "llm".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "${CAREERBOT_SETUP_EXTRAS:-test}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest "$@"
