"""No outbound connections at run time, and the app binds to 127.0.0.1 by default.

The CLI (build, search, ask) and the app (`careerbot serve`) run in subprocesses with an audit hook
(sys.addaudithook) that records every socket connect, sendto and name lookup to a non-loopback address,
and every bind. The offline switches (HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, GRADIO_ANALYTICS_ENABLED)
are removed from their environment: careerbot must stay offline by itself. Each process also makes one
deliberate connect to a TEST-NET address at start, which the hook must catch — proof that it is live.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROBE = "203.0.113.7"  # TEST-NET-3: never routed; the hook must record the connect attempt
PRELUDE = r"""
import ipaddress, json, os, socket, sys

_LOG = os.environ["CAREERBOT_NETLOG"]


def _local(host):
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(kind, address):
    with open(_LOG, "a") as out:
        out.write(json.dumps({"event": kind, "address": repr(address)}) + "\n")


def _hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and not _local(address[0]):
            _record(event, address)
    elif event == "socket.getaddrinfo":
        if not _local(args[0]):
            _record(event, args[0])
    elif event == "socket.bind":
        address = args[1]
        if isinstance(address, tuple):
            _record("bind", address)


sys.addaudithook(_hook)
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "GRADIO_ANALYTICS_ENABLED"):
    assert _name not in os.environ, _name
try:  # the liveness probe
    socket.create_connection(("%(probe)s", 9), timeout=0.01).close()
except OSError:
    pass
""".replace("%(probe)s", PROBE)


def offline_env(log: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "GRADIO_ANALYTICS_ENABLED")}
    return {**env, "CAREERBOT_NETLOG": str(log), "CAREERBOT_PROGRESS": "off", "CAREERBOT_LLM": ""}


def recorded(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def outbound(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] != "bind" and PROBE not in e["address"]]


def assert_probe_seen(events: list[dict]) -> None:
    assert any(e["event"] == "socket.connect" and PROBE in e["address"] for e in events), \
        "the audit hook did not see the probe connect; the test would prove nothing"


def test_cli_build_search_and_ask_make_no_outbound_connections(tmp_path, session_corpus):
    log = tmp_path / "net.log"
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(session_corpus, corpus)
    script = PRELUDE + f"""
from careerbot.cli import main
for argv in (["index", "build"], ["index", "update"], ["index", "info"],
             ["search", "what do lead ML engineers earn?"], ["ask", "Do I need a PhD to be a research scientist?"]):
    code = main([*argv, "--index", {str(index)!r}] + (["--corpus", {str(corpus)!r}] if argv[0] == "index" else []))
    assert code == 0, (argv, code)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=offline_env(log),
                         cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "PhD" in run.stdout or "research" in run.stdout.lower()
    events = recorded(log)
    assert_probe_seen(events)
    assert outbound(events) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_app_binds_loopback_and_makes_no_outbound_connections(tmp_path, session_corpus, session_index):
    log, server_log = tmp_path / "net.log", tmp_path / "server.log"
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    port = _free_port()
    script = PRELUDE + f"""
from careerbot.cli import main
sys.exit(main(["serve", "--port", "{port}", "--corpus", {str(corpus)!r}, "--index", {str(index)!r}]))
"""
    with open(server_log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT,
                                env=offline_env(log), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300  # a start-up bound, not a speed assertion
        while "Running on local URL" not in server_log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, server_log.read_text()
            time.sleep(0.3)
        import urllib.request

        from gradio_client import Client

        url = f"http://127.0.0.1:{port}/"
        page = urllib.request.urlopen(url, timeout=60).read().decode()
        assert "careerbot" in page
        client = Client(url, verbose=False)
        result = client.predict("What is the average salary for a Lead Machine Learning Engineer?",
                                api_name="/chat")
        assert result["citations"]
        client.close()
        # Listening on loopback only, per the kernel's socket table, and not reachable on other addresses.
        listeners = _listeners(port)
        assert listeners and set(listeners) == {"127.0.0.1"}, listeners
        for address in _other_addresses():
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((address, port)) != 0, f"the app answers on {address}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    events = recorded(log)
    assert_probe_seen(events)
    assert outbound(events) == [], outbound(events)
    binds = [e["address"] for e in events if e["event"] == "bind"]
    assert f"('127.0.0.1', {port})" in binds, binds
    assert not [b for b in binds if b.startswith(("('0.0.0.0'", "('::'", "(''"))], binds


def _other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (from the routing table's view of itself)."""
    addresses = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(info[4][0])
    except OSError:
        pass
    return sorted(a for a in addresses if not a.startswith("127."))


def _listeners(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on port, from /proc/net/tcp and tcp6 (Linux)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                if len(address) == 8:
                    found.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    found.append("ipv6:" + address)
    return found
