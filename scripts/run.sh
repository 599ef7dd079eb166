#!/usr/bin/env bash
# Set up (if needed) and start the chat app on http://127.0.0.1:7860 with the defaults:
# the bundled model, the on-disk FAISS index (built on first start) and extractive answers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python app.py "$@"
