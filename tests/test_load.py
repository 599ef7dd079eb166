"""A short run of benchmarks/load.py: concurrent gradio_client chat clients against the real app.

The full run (50 clients, 60 s) is a benchmark; its figures are in docs/safety.md. Here: 5 clients for
10 s must produce zero errors, every client must get answers, and the server's memory must stay within
a bound. No timing is asserted.
"""
from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

# Native allocators (glibc arenas, torch) grow by up to ~140 MiB in the first minute of load and then
# level off (see docs/safety.md); a leak of anything model- or index-sized breaks this bound at once.
RSS_GROWTH_BOUND_MB = 250


def load_module():
    spec = importlib.util.spec_from_file_location("careerbot_load", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def test_concurrent_chat_clients_get_answers_without_errors(tmp_path, session_corpus, session_index):
    load = load_module()
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    port = load.free_port()
    proc = load.start_app(port, corpus, index, tmp_path / "server.log")
    try:
        result = load.run_load(f"http://127.0.0.1:{port}/", clients=5, duration=10, pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    summary = result.summary()
    print(summary)
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["requests"] >= 5 and len(result.latencies_s) == summary["requests"]
    assert summary["rss_warm_mb"] and summary["rss_end_mb"]
    assert summary["rss_growth_mb"] < RSS_GROWTH_BOUND_MB, summary
