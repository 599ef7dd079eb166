"""Load test: N concurrent gradio_client chat clients against the running app on loopback for D seconds.

Usage:
    .venv/bin/python benchmarks/load.py                      # starts `python app.py`, 50 clients, 60 s
    .venv/bin/python benchmarks/load.py --clients 5 --duration 10 --json
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860/ --pid 1234   # an app already running

Reports requests, errors, p50/p95/max latency, throughput and the server's resident memory (RSS) after
start-up, after a warm-up request per client, and after the load. The app it starts serves the bundled
corpus from a private index under benchmarks/work/ (built on first use), on 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
QUESTIONS = (
    "What is the average salary for a Lead Machine Learning Engineer according to Glassdoor?",
    "Do I need a PhD to become a research scientist?",
    "What does a data scientist do day to day?",
    "What is the difference between machine learning researchers and engineers?",
    "Which skills does a lead machine learning engineer need?",
    "What is the best pizza in Naples?",  # off topic: a polite abstention is a correct answer, not an error
)


@dataclass
class Result:
    clients: int
    duration_s: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list, repr=False)
    rss_start_mb: float | None = None
    rss_warm_mb: float | None = None
    rss_end_mb: float | None = None
    rss_timeline_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the load, RSS)

    def summary(self) -> dict:
        lat = sorted(self.latencies_s)
        pick = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)) if lat else (lambda q: None)
        growth = (round(self.rss_end_mb - self.rss_warm_mb, 1)
                  if self.rss_end_mb is not None and self.rss_warm_mb is not None else None)
        data = {k: v for k, v in asdict(self).items() if k != "latencies_s"}
        return {**data, "throughput_rps": round(self.requests / self.duration_s, 2),
                "latency_p50_s": pick(0.50), "latency_p95_s": pick(0.95), "latency_max_s": pick(1.0),
                "latency_mean_s": round(statistics.fmean(lat), 3) if lat else None, "rss_growth_mb": growth}


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process in MiB: psutil when installed, else /proc/<pid>/status (Linux)."""
    if pid is None:
        return None
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(port: int, corpus: Path, index: Path, log: Path, timeout: float = 600,
              env: dict[str, str] | None = None) -> subprocess.Popen:
    """`python app.py` on 127.0.0.1:port (with `env` added to the environment); returns once Gradio reports
    the local URL."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CAREERBOT_PROGRESS": "off", **(env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port),
                                 "--corpus", str(corpus), "--index", str(index)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while "Running on local URL" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the app did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    return proc


def run_load(url: str, clients: int, duration: float, pid: int | None = None) -> Result:
    """Each client thread asks questions back to back (api_name="/chat") until the time is up."""
    from gradio_client import Client

    result = Result(clients, duration, rss_start_mb=rss_mb(pid))
    lock = threading.Lock()
    handles = [Client(url, verbose=False) for _ in range(clients)]
    for i, client in enumerate(handles):  # warm-up, not counted: lazy imports and first-use caches
        client.predict(QUESTIONS[i % len(QUESTIONS)], api_name="/chat")
    result.rss_warm_mb = rss_mb(pid)
    deadline = time.monotonic() + duration

    def worker(n: int, client) -> None:
        i = n
        while time.monotonic() < deadline:
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            started = time.monotonic()
            try:
                payload = client.predict(question, api_name="/chat")
                if not isinstance(payload, dict) or not isinstance(payload.get("answer"), str):
                    raise ValueError(f"unexpected payload {str(payload)[:200]}")
                ok, problem = True, ""
            except Exception as exc:  # every failure counts, whatever its kind
                ok, problem = False, f"{type(exc).__name__}: {str(exc)[:200]}"
            elapsed = time.monotonic() - started
            with lock:
                if ok:
                    result.requests += 1
                    result.latencies_s.append(elapsed)
                else:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(problem)

    def sampler() -> None:  # RSS every few seconds: growth that levels off is a warm cache, not a leak
        started = time.monotonic()
        while time.monotonic() < deadline:
            value = rss_mb(pid)
            if value is not None:
                result.rss_timeline_mb.append((round(time.monotonic() - started, 1), round(value, 1)))
            time.sleep(max(1.0, duration / 12))

    threads = [threading.Thread(target=worker, args=(n, c), daemon=True) for n, c in enumerate(handles)]
    threads.append(threading.Thread(target=sampler, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.duration_s = duration
    result.rss_end_mb = rss_mb(pid)
    for client in handles:
        client.close()
    return result


def mib(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--url", help="an app that is already running (default: start one)")
    parser.add_argument("--pid", type=int, help="the server's process id, for RSS, with --url")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, default=WORK / "load-index")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    proc = None
    if args.url:
        url, pid = args.url, args.pid
    else:
        port = free_port()
        proc = start_app(port, args.corpus, args.index, WORK / "load-server.log")
        url, pid = f"http://127.0.0.1:{port}/", proc.pid
    try:
        summary = run_load(url, args.clients, args.duration, pid).summary()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['clients']} clients × {summary['duration_s']:.0f} s: {summary['requests']} requests, "
              f"{summary['errors']} errors, {summary['throughput_rps']} req/s; latency p50 "
              f"{summary['latency_p50_s']} s, p95 {summary['latency_p95_s']} s, max {summary['latency_max_s']} s; "
              f"server RSS {mib(summary['rss_start_mb'])} at start, {mib(summary['rss_warm_mb'])} after warm-up, "
              f"{mib(summary['rss_end_mb'])} after the load (growth {mib(summary['rss_growth_mb'])})")
        print("  RSS over time (s: MiB): " + ", ".join(f"{t:.0f}: {v:.0f}" for t, v in summary["rss_timeline_mb"]))
        for sample in summary["error_samples"]:
            print(f"  error: {sample}")
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
