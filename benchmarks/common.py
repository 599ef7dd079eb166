"""Shared benchmark helpers: paths, the question mix, timing statistics, peak memory, machine label.

Usage: from common import QUESTIONS, percentile, timed_runs
"""
from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
WORK = BENCH / "work"
VENV_PY = ROOT / ".venv" / "bin" / "python"
PEER_PY = BENCH / ".venv-peer" / "bin" / "python"
CAREERBOT = ROOT / ".venv" / "bin" / "careerbot"

# A realistic mix: salary, skills, education, day-to-day work, comparisons, tools, a follow-up-like
# short question and out-of-scope questions (which must still be answered quickly, by abstaining).
QUESTIONS = [
    "How much does a lead machine learning engineer earn compared to an ML engineer?",
    "Do I need a PhD to become a research scientist?",
    "What does a data scientist do day to day?",
    "What is the difference between machine learning researchers and engineers?",
    "Which programming languages should a machine learning engineer know?",
    "What skills does a lead ML engineer need beyond technical ones?",
    "What is the salary of a machine learning researcher according to salary.com?",
    "Which industries hire machine learning engineers?",
    "What tools do research scientists use?",
    "How do I get started in a career in AI?",
    "What education is required for a data scientist?",
    "Is a research scientist more focused on theory or on production systems?",
    "What are the responsibilities of a lead machine learning engineer?",
    "How is the job outlook for AI roles?",
    "Should I learn TensorFlow or PyTorch?",
    "What does an ML engineer do that a data scientist does not?",
    "salary lead ML engineer",
    "PhD requirement",
    "What about their salaries?",
    "What is the best recipe for banana bread?",
    "Who won the football world cup in 2018?",
    "How do research scientists publish their work?",
    "What soft skills matter for data scientists?",
    "Do ML engineers deploy models to production?",
]

# Questions about the generated corpus's roles, for the scale runs.
def generated_questions(n: int, seed: int = 11) -> list[str]:
    from generate import ROLES, SKILLS

    rng = random.Random(seed)
    forms = ["What does a {a} earn compared with a {b}?", "Which skills does a {a} need?",
             "What are the responsibilities of a {a}?", "Is {s} important for a {a}?",
             "How do I move from {a} to {b}?", "{a} salary", "Which industries hire a {a}?"]
    out = []
    for _ in range(n):
        a, b = rng.sample(ROLES, 2)
        out.append(rng.choice(forms).format(a=a, b=b, s=rng.choice(SKILLS)))
    return out


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: list[float]) -> float:
    return percentile(values, 50)


def latencies(fn: Callable[[str], object], queries: list[str], rounds: int = 1) -> list[float]:
    """Seconds per call of fn(q) for every query, `rounds` times over (after the caller's warm-up)."""
    out = []
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            fn(q)
            out.append(time.perf_counter() - start)
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_child(args: list[str], env: dict | None = None, timeout: float = 3600, cwd: Path = ROOT) -> dict:
    """Run a process to completion; returns its wall seconds, its own peak RSS in MiB (from wait4),
    exit code and output. Output goes through files so the parent can reap the child with wait4.
    Linux starts a child's peak RSS at its parent's peak (exec keeps the larger), so the process calling
    this must stay smaller than what it measures: no model loaded here, builds run in children."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024.0, "rc": proc.returncode,
                "stdout": out.read(), "stderr": err.read()}


def run_worker(python: Path, script: str, payload: dict, timeout: float = 3600) -> dict:
    """Run `python benchmarks/<script>` with a JSON payload on stdin; the worker prints one JSON line last."""
    env = dict(os.environ, PYTHONPATH=str(BENCH), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    start = time.perf_counter()
    proc = subprocess.run([str(python), str(BENCH / script)], input=json.dumps(payload), text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - start
    return result


def machine() -> dict:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem_gb, 1),
            "python": platform.python_version(), "load_avg_1m_at_start": round(load, 2),
            "label": f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {model or platform.machine()}"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
