"""Serving throughput: the HTTP API and the app's /chat path under load, against the engine's own throughput
measured in the same run, and the server's memory over the run.

Usage: python benchmarks/bench_serve.py [--quick] [--api-seconds 10] [--rounds 3] [--ui-seconds 60] [--ui-clients 50]
       [--index DIR] [--out benchmarks/results-serve.json]
Steps, in one run against one `python app.py` on 127.0.0.1 (a child process; its RSS is read from /proc):
  1. warm-up: each route for a few seconds at the load it is measured at (so every /chat client's session
     exists), then RSS "after warm-up";
  2. --rounds rounds of: the engine alone (kb.ask from as many threads as the server computes answers
     with, Settings.workers(), in this process, while the server idles), then POST /api/ask, then
     non-streamed POST /v1/chat/completions, each for --api-seconds, from wrk (C, one thread, a Lua script
     cycling the questions) or, without wrk, a one-process asyncio httpx client; each side keeps its best;
  3. the app's /chat path (Gradio's queue, as gradio_client and the page use it: one session per client,
     queue/join then the session's event stream) from --ui-clients asyncio clients back to back for
     --ui-seconds, counting every failure;
  4. RSS at the end. Targets: API req/s >= 0.8 x engine req/s; /chat 0 errors and p95 <= 2 s; RSS end within
     10% of after warm-up.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]  # this checkout's careerbot, and the benchmark helpers

from common import QUESTIONS, machine, percentile  # noqa: E402
from load import free_port, rss_mb, start_app  # noqa: E402

WORK = HERE / "work"
API_TARGET, P95_TARGET_S, RSS_TARGET = 0.8, 2.0, 0.10
WRK_SCRIPT = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %f, "errors": %d, "status_errors": %d, '
    .. '"p50_s": %f, "p95_s": %f, "max_s": %f}\n', summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.timeout + e.status, e.status, latency:percentile(50) / 1e6,
    latency:percentile(95) / 1e6, latency.max / 1e6))
end
"""


def body(route: str, question: str) -> dict:
    if route == "/api/ask":
        return {"message": question}
    return {"model": "careerbot", "messages": [{"role": "user", "content": question}]}


# ----- the server ---------------------------------------------------------------------------------
def start_server(index: Path, corpus: Path, port: int, log: Path) -> subprocess.Popen:
    """`python app.py` over this checkout's code on 127.0.0.1:port; returns once it serves."""
    return start_app(port, corpus, index, log, env={
        "PYTHONPATH": str(ROOT / "src"), "TRANSFORMERS_OFFLINE": "1", "CAREERBOT_LLM": "", "CAREERBOT_AUTH": "",
        "GRADIO_ANALYTICS_ENABLED": "False"})


# ----- load generators ----------------------------------------------------------------------------
def wrk_load(url: str, route: str, seconds: float, connections: int) -> dict:
    """wrk -t1 against a POST route, each request the next question; figures from its done() callback."""
    with tempfile.TemporaryDirectory() as tmp:
        bodies, script = Path(tmp) / "bodies.jsonl", Path(tmp) / "post.lua"
        bodies.write_text("".join(json.dumps(body(route, q)) + "\n" for q in QUESTIONS), encoding="utf-8")
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        proc = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "30s",
                               "-s", str(script), url.rstrip("/") + route], capture_output=True, text=True,
                              env={**os.environ, "BENCH_BODIES": str(bodies)}, timeout=seconds + 120)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-1000:]} {proc.stderr[-1000:]}")
    out = json.loads(line[len("WRKJSON "):])
    out["rps"] = out["requests"] / out["seconds"]
    return {**out, "generator": f"wrk -t1 -c{connections}"}


async def _closed_loop(clients: int, seconds: float, one) -> dict:
    """`clients` tasks asking back to back until the time is up; every exception is an error."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            i = n
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    await one(client, QUESTIONS[i % len(QUESTIONS)])
                    latencies.append(time.monotonic() - started)
                except Exception as exc:  # every failure counts, whatever its kind
                    errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                i += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        took = time.monotonic() - started
    return {"requests": len(latencies), "errors": len(errors), "error_samples": errors[:5], "seconds": took,
            "rps": len(latencies) / took, "p50_s": percentile(latencies, 50) if latencies else None,
            "p95_s": percentile(latencies, 95) if latencies else None,
            "max_s": max(latencies) if latencies else None}


def httpx_load(url: str, route: str, seconds: float, connections: int) -> dict:
    """The fallback when wrk is missing: one process, one event loop, `connections` clients."""
    async def one(client, question: str) -> None:
        response = await client.post(url.rstrip("/") + route, json=body(route, question))
        response.raise_for_status()

    out = asyncio.run(_closed_loop(connections, seconds, one))
    return {**out, "generator": f"asyncio httpx, {connections} clients"}


def ui_chat_load(url: str, seconds: float, clients: int) -> dict:
    """The app's /chat API as gradio_client and the page call it: each client is one session (its own
    session_hash) that joins Gradio's queue (POST /gradio_api/queue/join) and reads the session's event
    stream (GET /gradio_api/queue/data) to its process_completed message, whose payload is checked."""
    import uuid

    import httpx

    root = url.rstrip("/") + "/gradio_api"
    config = httpx.get(url.rstrip("/") + "/config", timeout=60).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
    sessions: dict[int, str] = {}

    async def one(client, question: str) -> None:
        session = sessions.setdefault(id(asyncio.current_task()), uuid.uuid4().hex)
        joined = await client.post(f"{root}/queue/join", json={"data": [question, []], "fn_index": fn_index,
                                                                "session_hash": session})
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        async with client.stream("GET", f"{root}/queue/data", params={"session_hash": session}) as stream:
            stream.raise_for_status()
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") != "process_completed" or message.get("event_id") != event_id:
                    continue
                if not message.get("success"):
                    raise RuntimeError(f"the app answered an error: {str(message.get('output'))[:200]}")
                payload = message["output"]["data"][0]
                if not isinstance(payload.get("answer"), str):
                    raise ValueError(f"unexpected payload {str(payload)[:200]}")
                return
        raise RuntimeError("the event stream ended without an answer")

    out = asyncio.run(_closed_loop(clients, seconds, one))
    return {**out, "generator": f"asyncio httpx, {clients} clients, one Gradio session each"}


# ----- the engine alone ---------------------------------------------------------------------------
def engine_rate(kb, threads: int, seconds: float) -> dict:
    """kb.ask from `threads` threads back to back for `seconds`: the engine's own requests/s."""
    count, stop = [0] * threads, time.monotonic() + seconds

    def work(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            kb.ask(QUESTIONS[i % len(QUESTIONS)])
            count[n] += 1
            i += 1

    started = time.monotonic()
    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    took = time.monotonic() - started
    return {"requests": sum(count), "seconds": took, "rps": sum(count) / took}


# ----- the run ------------------------------------------------------------------------------------
def run(index: Path, corpus: Path, api_seconds: float, rounds: int, ui_seconds: float, ui_clients: int) -> dict:
    from careerbot import KnowledgeBase, Settings

    settings = Settings.from_env().with_overrides(progress="off", llm="")
    workers = settings.workers()
    kb = KnowledgeBase.load(index, settings)
    for question in QUESTIONS:
        kb.ask(question)  # the engine's warm-up: model loaded, first-use caches filled
    port = free_port()
    proc = start_server(index, corpus, port, WORK / "serve-server.log")
    url = f"http://127.0.0.1:{port}/"
    load = wrk_load if shutil.which("wrk") else httpx_load
    connections = workers + 8  # every slot of the server busy, and the next requests already waiting
    try:
        rss_start = rss_mb(proc.pid)
        # Warm-up, every route at the load it is measured at, not counted: the server's steady state (every
        # client's Gradio session made, the encoder's batch shapes seen) is what "after warm-up" means.
        httpx_load(url, "/api/ask", 3, connections)
        httpx_load(url, "/v1/chat/completions", 3, connections)
        ui_chat_load(url, 5, ui_clients)
        rss_warm = rss_mb(proc.pid)
        engine, ask, chat = [], [], []
        for _ in range(rounds):  # the sides alternate, so a burst of load from elsewhere hits them alike
            engine.append(engine_rate(kb, workers, api_seconds))
            ask.append(load(url, "/api/ask", api_seconds, connections))
            chat.append(load(url, "/v1/chat/completions", api_seconds, connections))
        ui = ui_chat_load(url, ui_seconds, ui_clients)
        rss_end = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    def best(runs: list[dict]) -> dict:
        return {**max(runs, key=lambda r: r["rps"]), "rps_per_round": [round(r["rps"], 2) for r in runs]}

    return {"workers": workers, "rounds": rounds, "engine": best(engine), "api_ask": best(ask),
            "chat_completions": best(chat), "ui_chat": ui, "rss_start_mb": rss_start, "rss_warm_mb": rss_warm, "rss_end_mb": rss_end,
            "api_seconds": api_seconds, "ui_seconds": ui_seconds, "ui_clients": ui_clients}


def targets(f: dict) -> list[dict]:
    """Verdicts in report.py's shape (name, ratio, target, pass, status, detail, compare)."""
    def target(name, value, limit, detail, higher=False):
        ok = value is not None and (value >= limit if higher else value <= limit)
        return {"name": name, "ratio": None if value is None else round(value, 3), "target": limit, "pass": ok,
                "status": "pass" if ok else "miss", "detail": detail, "compare": ">=" if higher else "<="}

    engine = f["engine"]
    out = []
    for key, route in (("api_ask", "POST /api/ask"), ("chat_completions", "POST /v1/chat/completions")):
        side = f[key]
        out.append(target(f"{route} req/s / engine req/s ({f['workers']} threads)", side["rps"] / engine["rps"],
                          API_TARGET, f"best of {f['rounds']} alternated rounds: {side['rps']:.1f} vs "
                          f"{engine['rps']:.1f} req/s (rounds {side['rps_per_round']} vs {engine['rps_per_round']}); "
                          f"{side['errors']} errors; "
                          f"p50 {side['p50_s'] * 1000:.0f} ms, p95 {side['p95_s'] * 1000:.0f} ms; {side['generator']}",
                          higher=True))
    ui = f["ui_chat"]
    out.append(target(f"app /chat, {f['ui_clients']} clients x {f['ui_seconds']:.0f} s: errors", ui["errors"], 0,
                      f"{ui['requests']} answers, {ui['rps']:.1f} req/s; {ui['generator']}"))
    out.append(target(f"app /chat, {f['ui_clients']} clients: p95 latency (s)", ui["p95_s"], P95_TARGET_S,
                      f"p50 {ui['p50_s']:.2f} s, max {ui['max_s']:.2f} s" if ui["p50_s"] is not None else "no answers"))
    growth = (f["rss_end_mb"] / f["rss_warm_mb"] - 1) if f["rss_warm_mb"] and f["rss_end_mb"] else None
    out.append(target("server RSS: end / after warm-up - 1", growth, RSS_TARGET,
                      f"{f['rss_start_mb']:.0f} MiB at start, {f['rss_warm_mb']:.0f} after warm-up, "
                      f"{f['rss_end_mb']:.0f} at the end" if growth is not None else "RSS unknown"))
    return out


def table(results: dict) -> str:
    rows = ["| target | ratio | limit | result | both sides |", "| --- | --- | --- | --- | --- |"]
    for t in results["targets"]:
        rows.append(f"| {t['name']} | {t['ratio']} | {t['compare']} {t['target']} | {t['status']} | {t['detail']} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 s per side and 15 s of /chat")
    parser.add_argument("--api-seconds", type=float, default=10.0, help="seconds per side and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of engine, /api/ask, /v1/chat/completions")
    parser.add_argument("--ui-seconds", type=float, default=60.0)
    parser.add_argument("--ui-clients", type=int, default=50)
    parser.add_argument("--index", type=Path, help="an index of --corpus (default: built under benchmarks/work/)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--out", type=Path, default=HERE / "results-serve.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.api_seconds, args.rounds, args.ui_seconds = 5.0, 2, 15.0
    index = args.index or WORK / "serve-index"
    if args.index is None:
        from careerbot import KnowledgeBase, Settings
        from careerbot.errors import CareerbotError

        settings = Settings.from_env().with_overrides(progress="off")
        try:
            KnowledgeBase.load(index, settings, corpus=args.corpus)
        except CareerbotError:
            print(f"bench_serve: building {index}", file=sys.stderr, flush=True)
            KnowledgeBase.build(args.corpus, index, settings)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    figures = run(index, args.corpus, args.api_seconds, args.rounds, args.ui_seconds, args.ui_clients)
    results = {"started": started, "machine": machine(), "figures": figures, "targets": targets(figures)}
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
