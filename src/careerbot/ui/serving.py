"""Serving the chat app: open the knowledge base (building or updating the index first), then launch
Gradio on settings.host:settings.port, loopback unless told otherwise, never shared publicly.

Usage: careerbot serve [--host H] [--port P]   or   python app.py   (http://127.0.0.1:7860)
From Python: app = build_app(kb, settings); launch(app, settings, kb=kb)  (the app and the HTTP API, docs/http.md)
"""
from __future__ import annotations

import ipaddress
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import InvalidArgument
from ..kb import KnowledgeBase
from ..settings import Settings
from .app import THEME, build_app

ASSETS = Path(__file__).resolve().parents[1] / "data"


# ----- serving ------------------------------------------------------------------------------------
def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """Load the index, first building or updating it (with progress on the console) when needed."""
    def progress(fraction: float, message: str) -> None:
        print(f"careerbot: [{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

    print(f"careerbot: opening the index in {settings.index_dir} (corpus: {settings.corpus_dir})",
          file=sys.stderr, flush=True)
    kb = KnowledgeBase.open_or_build(settings.corpus_dir, settings.index_dir, settings, progress=progress)
    kb.embedder()  # load the model now, once, rather than on the first question
    counts = kb.info().get("counts") or {}
    print(f"careerbot: ready: {counts.get('articles', '?')} article(s), {counts.get('chunks', '?')} chunks",
          file=sys.stderr, flush=True)
    return kb


def parse_auth(auth: str) -> tuple[str, str] | None:
    """'user:password' → (user, password); '' → None (no login)."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise InvalidArgument("auth must look like user:password")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """The running server: the app and the HTTP API on one port, served by uvicorn in a thread.

    Usage: server = launch(app, settings, block=False, kb=kb); server.url; ...; server.close()
    """

    def __init__(self, site: Any, app: gr.Blocks, settings: Settings) -> None:
        import uvicorn

        self.app = app
        host = f"[{settings.host}]" if ":" in settings.host else settings.host  # an IPv6 address
        self.url = f"http://{host}:{settings.port}/"
        # Gradio's own settings for its server: warnings only, no signal handlers of its own in a thread.
        config = uvicorn.Config(site, host=settings.host, port=settings.port, log_level="warning",
                                timeout_graceful_shutdown=5, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="careerbot-server", daemon=True)

    def start(self, timeout: float = 60.0) -> Server:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the server could not start on {self.url} (is the port in use?)")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Serve until interrupted (Ctrl-C) or closed."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            print("careerbot: stopping", file=sys.stderr, flush=True)
        self.close()

    def close(self) -> None:
        self.app.close(verbose=False)  # stops Gradio's queue
        self._server.should_exit = True
        self._thread.join(timeout=10)


def launch(app: gr.Blocks, settings: Settings, block: bool = True, kb: KnowledgeBase | None = None) -> Server:
    """Serve the app on settings.host:settings.port, with the HTTP API beside it when given the knowledge base
    (docs/http.md). Never shares a public link. The app's queue and the API compute settings.workers() answers
    at a time (one per core by default): the engine is CPU-bound, more at once only queue inside it.

    Usage: server = launch(build_app(kb, settings), settings, block=False, kb=kb); ...; server.close()
    """
    from fastapi import FastAPI

    auth = parse_auth(settings.auth)
    if not is_loopback(settings.host) and auth is None:
        print(f"careerbot: WARNING: serving on {settings.host}, reachable from other machines, without a "
              "login. Set CAREERBOT_AUTH=user:password to require one.", file=sys.stderr, flush=True)
    # Gradio's queue rebuilds a pandas summary of up to 10,000 past events after every event, for a monitoring
    # page this app turns off: a cost that grows with the run. Every 1,000 events over the last 1,000 instead.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    # Queue positions every 2 s rather than to every waiting client each time a job starts (O(clients) per job).
    app.queue(default_concurrency_limit=settings.workers(), status_update_rate=2)
    site = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    if kb is not None:
        from ..http_api import api_router

        site.include_router(api_router(kb, settings, auth))
    gr.mount_gradio_app(
        site, app, path="/", server_name=settings.host, server_port=settings.port, auth=auth,
        max_file_size=settings.max_file_bytes, footer_links=["api"], ssr_mode=False, mcp_server=False, pwa=False,
        enable_monitoring=False, theme=THEME, css=(ASSETS / "ui.css").read_text(encoding="utf-8"),
        head=f"<script>{(ASSETS / 'ui.js').read_text(encoding='utf-8')}</script>")
    server = Server(site, app, settings).start()
    if block:
        print(f"Running on local URL:  {server.url.rstrip('/')}", flush=True)
        server.wait()
    return server


def serve(settings: Settings) -> None:
    """Open the knowledge base (model and index loaded once) and serve the app and the HTTP API until
    interrupted."""
    kb = open_knowledge_base(settings)
    app = build_app(kb, settings)
    print(f"careerbot: serving on http://{settings.host}:{settings.port} (HTTP API: /v1/chat/completions, "
          "/api/ask, /api/search)", file=sys.stderr, flush=True)
    launch(app, settings, block=True, kb=kb)
