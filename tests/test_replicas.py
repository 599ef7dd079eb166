"""Stateless app replicas behind a real nginx (deploy/nginx.conf) on loopback, sharing one PostgreSQL
store: an article uploaded through one replica is answered through the other without a restart, and
killing one replica leaves the other serving through nginx."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT
from pg_engine import free_port
from test_ui import UPLOAD_ARTICLE

QUESTION = "What is the average salary of a Prompt Engineer?"
pytestmark = pytest.mark.slow


def start_replica(url: str, corpus: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CAREERBOT_PROGRESS": "off", "CAREERBOT_LLM": "",
           "CAREERBOT_STORE_POLL": "0.5", "CAREERBOT_THREADS": "1"}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "careerbot.cli", "serve", "--store", url, "--corpus",
                                 str(corpus), "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def wait_for(log: Path, proc: subprocess.Popen, text: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds  # a start-up bound on a slow machine, not a speed assertion
    while text not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{text!r} never appeared:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def nginx_config(ports: list[int], listen: int) -> str:
    """deploy/nginx.conf with this test's replica ports and listening port."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
    text = re.sub(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers + "\n", text)
    return text.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def cluster(pg_built, writable, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (scripts/setup.sh test installs Debian's nginx-light as root)")
    corpus, _ = writable  # the replicas share the corpus folder, as on a shared volume
    ports = [free_port(), free_port()]
    replicas = [start_replica(pg_built, corpus, port, tmp_path / f"replica{i}.log") for i, port in enumerate(ports)]
    # nginx's workers may run as an unprivileged user: a prefix they can enter and write temp files in.
    prefix = Path(tempfile.mkdtemp(prefix="careerbot-nginx-", dir="/tmp"))
    proxy = None
    try:
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir()
        for path in (prefix, prefix / "tmp"):
            path.chmod(0o777)
        listen = free_port()
        (prefix / "nginx.conf").write_text(nginx_config(ports, listen))
        proxy = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                                  str(prefix / "logs" / "error.log"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for i, proc in enumerate(replicas):
            wait_for(tmp_path / f"replica{i}.log", proc, "Running on local URL")
        assert proxy.poll() is None, proxy.stderr.read().decode() if proxy.stderr else ""
        yield {"replicas": replicas, "ports": ports, "proxy": f"http://127.0.0.1:{listen}/", "corpus": corpus,
               "tmp": tmp_path, "access_log": prefix / "logs" / "access.log"}
    finally:
        for proc in replicas:
            stop(proc)
        if proxy is not None:
            stop(proxy)
        shutil.rmtree(prefix, ignore_errors=True)


def ask(url: str, question: str = QUESTION) -> dict:
    from gradio_client import Client

    return Client(url, verbose=False).predict(question, api_name="/chat")


def test_upload_through_one_replica_is_answered_by_the_other_and_nginx_survives_a_kill(cluster):
    from gradio_client import Client, handle_file

    first, second = (f"http://127.0.0.1:{p}/" for p in cluster["ports"])
    assert "187,654" not in ask(second)["answer"] and "187,654" not in ask(cluster["proxy"])["answer"]
    upload = cluster["tmp"] / "uploads" / "prompt engineer (draft).md"
    upload.parent.mkdir()
    upload.write_text(UPLOAD_ARTICLE, encoding="utf-8")
    status, _, _ = Client(first, verbose=False).predict([handle_file(str(upload))], api_name="/add_articles")
    assert "Added" in status
    deadline = time.monotonic() + 10  # "within a few seconds": the replicas poll the store every 0.5 s
    answer = ask(second)
    while "187,654" not in answer["answer"] and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = ask(second)
    assert "187,654" in answer["answer"]
    assert any(c["source"] == "prompt_engineer_draft.md" for c in answer["citations"])
    assert "187,654" in ask(cluster["proxy"])["answer"]
    # Kill the replica nginx pins this client to (its access log names it): the other one takes over.
    pinned = re.findall(r"upstream=127\.0\.0\.1:(\d+)", cluster["access_log"].read_text())[-1]
    victim = cluster["ports"].index(int(pinned))
    cluster["replicas"][victim].send_signal(signal.SIGKILL)
    cluster["replicas"][victim].wait(timeout=30)
    assert "187,654" in ask(cluster["proxy"])["answer"]
    survivor = cluster["ports"][1 - victim]
    assert re.findall(r"upstream=127\.0\.0\.1:(\d+)", cluster["access_log"].read_text())[-1] == str(survivor)
