"""Serving the chat app: open the knowledge base (building or updating the index first), then launch
Gradio on settings.host:settings.port, loopback unless told otherwise, never shared publicly.

Usage: careerbot serve [--host H] [--port P]   or   python app.py   (http://127.0.0.1:7860)
From Python: app = build_app(kb, settings); launch(app, settings)
"""
from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import gradio as gr

from ..errors import InvalidArgument
from ..kb import KnowledgeBase
from ..settings import Settings
from .app import build_app

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


def launch(app: gr.Blocks, settings: Settings, block: bool = True):
    """Queue and start the app on settings.host:settings.port. Never shares a public link.

    Usage: launch(build_app(kb, settings), settings, block=False); ...; app.close()
    """
    auth = parse_auth(settings.auth)
    if not is_loopback(settings.host) and auth is None:
        print(f"careerbot: WARNING: serving on {settings.host}, reachable from other machines, without a "
              "login. Set CAREERBOT_AUTH=user:password to require one.", file=sys.stderr, flush=True)
    app.queue(default_concurrency_limit=max(1, settings.concurrency))
    return app.launch(
        server_name=settings.host, server_port=settings.port, share=False, auth=auth, inbrowser=False,
        prevent_thread_lock=not block, max_file_size=settings.max_file_bytes, footer_links=["api"],
        ssr_mode=False, mcp_server=False, pwa=False, enable_monitoring=False, quiet=not block,
        css=(ASSETS / "ui.css").read_text(encoding="utf-8"),
        head=f"<script>{(ASSETS / 'ui.js').read_text(encoding='utf-8')}</script>")


def serve(settings: Settings) -> None:
    """Open the knowledge base (model and index loaded once) and serve the app until interrupted."""
    kb = open_knowledge_base(settings)
    app = build_app(kb, settings)
    print(f"careerbot: serving on http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    launch(app, settings, block=True)
