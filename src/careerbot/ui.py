"""The chat app: Gradio Blocks with streamed, cited answers, a sources panel and an Articles tab.

Usage: careerbot serve [--host H] [--port P]   or   python app.py   (http://127.0.0.1:7860)
From Python: app = build_app(kb, settings); launch(app, settings, kb=kb)  (the app and the HTTP API, docs/http.md)
"""
from __future__ import annotations

import ipaddress
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

# Analytics must be off before gradio is imported: it reads the variable at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from .errors import CareerbotError, InvalidArgument, UnsupportedFile  # noqa: E402
from .ingest import SUPPORTED_SUFFIXES, parse_file  # noqa: E402
from .kb import KnowledgeBase  # noqa: E402
from .payload import answer_payload, clean_history as _clean_history  # noqa: E402  (shared with the HTTP API)
from .render import (render_answer, render_articles, render_error, render_mode, render_panel,  # noqa: E402
                     render_partial, render_sources, render_status, render_user)
from .settings import Settings  # noqa: E402
from .records import Answer  # noqa: E402

_PAIR = re.compile(r"^(.+?)\s+(?:vs\.?|versus)\s+(.+?)(?:\s*[:?].*)?$", re.IGNORECASE)


def example_questions(kb: KnowledgeBase, n: int = 4) -> list[str]:
    """Example questions drawn from the articles themselves, one per article: a title that is a question,
    the pair a "X vs. Y" title compares, or a heading the article asks ("What Is A Journeyman Electrician?").
    Usage: example_questions(kb)  # ["How do Research Scientist and Lead Machine Learning Engineer differ?", …]"""
    headings: dict[str, str] = {}
    for record in kb.snapshot.records:
        asked = next((h for h in record.chunk.section if h.rstrip().endswith("?")), None)
        if asked and record.chunk.source not in headings:
            headings[record.chunk.source] = asked
    out: list[str] = []
    for article in kb.articles():
        pair = _PAIR.match(article.title)
        question = (article.title if article.title.rstrip().endswith("?") else
                    f"How do {pair.group(1).strip()} and {pair.group(2).strip()} differ?" if pair
                    else headings.get(article.source))
        if question and question not in out:
            out.append(question)
        if len(out) >= n:
            break
    return out


UPLOAD_TYPES = [".txt", ".md", ".html"]
ASSETS = Path(__file__).with_name("data")


# ----- chat ---------------------------------------------------------------------------------------
def _turns(chat: list[dict]) -> int:
    return sum(1 for m in chat if m.get("role") == "assistant")


class ChatHandlers:
    """The event handlers of one app; they share one knowledge base (model and index loaded once)."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb = kb
        self.settings = settings

    def start_turn(self, message: str, chat: list[dict]):
        """Show the question at once; the answer streams in the next step."""
        question = (message or "").strip()
        if not question:
            return gr.skip(), chat, ""
        if len(question) > self.settings.max_query_chars:
            gr.Warning(f"Questions are limited to {self.settings.max_query_chars:,} characters "
                       f"(this one has {len(question):,}).")
            return gr.skip(), chat, ""
        shown = chat + [{"role": "user", "content": render_user(question)}]
        return gr.update(value="", interactive=False), shown, question

    def pick_example(self, chat: list[dict], event: gr.SelectData):
        return self.start_turn(str((event.value or {}).get("text", "")), chat)

    def respond(self, question: str, chat: list[dict], history: list[dict], sections: list[str]) -> Iterator:
        """Stream the answer into the chat, then link its markers and fill the sources panel."""
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turn = _turns(chat) + 1
        text = ""
        try:
            for piece in self.kb.ask_stream(question, history):
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += piece
                reply = {"role": "assistant", "content": render_partial(text)}
                yield chat + [reply], gr.skip(), gr.skip(), gr.skip(), gr.skip()
            else:
                raise RuntimeError("the answer stream ended without an answer")
        except CareerbotError as exc:
            reply = {"role": "assistant", "content": render_error(str(exc))}
            yield chat + [reply], history, sections, gr.skip(), gr.skip()
            return
        reply = {"role": "assistant", "content": render_answer(answer.text, answer.citations, turn,
                                                               answer.abstained)}
        history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        sections = sections + [render_sources(answer, turn)]
        yield chat + [reply], history, sections, render_panel(sections), render_mode(answer.mode)

    def api_chat(self, message: str, history: list[dict] | None = None) -> dict:
        """Answer a question from the articles. history: earlier {"role", "content"} messages (optional).
        Returns {"answer": text with [n] markers, "citations": [{"n", "title", "source", "quote", ...}], ...}."""
        try:
            return answer_payload(self.kb.ask(message, _clean_history(history)))
        except CareerbotError as exc:
            raise gr.Error(str(exc)) from exc

    # ----- articles -------------------------------------------------------------------------------
    def add_articles(self, files: list[str] | None, progress=gr.Progress()):
        """Validate uploads, save them into the corpus under safe names and update the index."""
        if not files:
            return render_status([("warn", "Choose one or more .txt, .md or .html files first.")]), gr.skip(), None
        corpus = Path(self.settings.corpus_dir)
        lines, saved = [], []
        for path in files:
            try:
                target = store_upload(Path(path), corpus, self.settings.max_file_bytes)
            except UnsupportedFile as exc:
                lines.append(("error", str(exc)))
                gr.Warning(str(exc))
                continue
            if target is None:
                lines.append(("warn", f"{Path(path).name}: the same file is already in the knowledge base."))
            else:
                saved.append(target)
        if saved:
            try:
                report = self.kb.update(corpus, progress=lambda f, m: progress(f, desc=m))
            except CareerbotError as exc:
                for target in saved:  # keep corpus/ in step with the index the user sees
                    target.unlink(missing_ok=True)
                lines.append(("error", f"The index could not be updated: {exc}"))
                return render_status(lines), gr.skip(), gr.skip()
            titles = {a.source: a for a in self.kb.articles()}
            for target in saved:
                info = titles.get(target.name)
                if info:
                    lines.append(("ok", f"Added “{info.title}” as {target.name} ({info.chunks} chunks). "
                                        "You can ask about it now."))
                else:
                    lines.append(("error", f"{target.name} could not be indexed."))
            lines.append(("ok", f"Index updated: {report.summary()}."))
        return render_status(lines), render_articles(self.kb.articles()), None


def safe_name(name: str) -> str:
    """A plain file name for an upload: no folders, no dot files, only letters, digits, '.', '_' and '-'.

    Usage: safe_name("../../etc/x.txt") == "x.txt"
    """
    base = re.split(r"[\\/]", name)[-1]
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{base or name}: unsupported type {suffix or '(none)'}; use .txt, .md or .html")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", base[: -len(suffix)]).strip("_-")[:80] or "article"
    return stem + suffix


def store_upload(path: Path, corpus: Path, max_bytes: int) -> Path | None:
    """Check an uploaded file (type, size, readable article text) and copy it into corpus/.

    Returns the new file, or None when the same content is already there. Never overwrites.
    Raises UnsupportedFile with a reason to show the user.
    """
    name = safe_name(path.name)
    size = path.stat().st_size
    if size > max_bytes:
        raise UnsupportedFile(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit")
    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:  # parse a copy under its final name: same checks as indexing
        probe = Path(tmp) / name
        probe.write_bytes(data)
        parse_file(probe, Path(tmp), max_bytes)
    corpus = corpus.resolve()
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    for i in range(1, 1000):
        target = corpus / (name if i == 1 else f"{stem}-{i}{suffix}")
        if not target.exists():
            break
        if target.is_file() and target.read_bytes() == data:
            return None
    else:
        raise UnsupportedFile(f"{name}: too many files with this name")
    if target.resolve().parent != corpus:
        raise UnsupportedFile(f"{name}: refused, it would be saved outside the corpus folder")
    partial = corpus / f".{target.name}.part"  # not an article suffix, so never indexed half-written
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


# ----- app ----------------------------------------------------------------------------------------
def build_app(kb: KnowledgeBase, settings: Settings) -> gr.Blocks:
    """The Blocks app over a loaded knowledge base. Usage: build_app(kb, settings).launch(...)"""
    h = ChatHandlers(kb, settings)
    with gr.Blocks(title="careerbot", analytics_enabled=False) as app:
        examples = example_questions(kb)
        gr.HTML('<div class="cb-header"><h1>careerbot</h1><p>Questions answered only from the articles in its '
                "knowledge base, with numbered citations.</p></div>", js_on_load=None)
        history, sections, pending = gr.State([]), gr.State([]), gr.State("")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="cb-chat", label="Chat", height=540, layout="bubble",
                            render_markdown=False, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                            buttons=["copy"], feedback_options=None, allow_file_downloads=False,
                            examples=[{"text": q} for q in examples],
                            placeholder=f"<b>Ask about what {len(kb.articles())} articles cover</b><br>"
                                        "(the Articles tab lists them) or start from an example:")
                        with gr.Row():
                            question = gr.Textbox(elem_id="cb-question", show_label=False, scale=8, lines=1,
                                                  max_length=settings.max_query_chars, autofocus=True,
                                                  placeholder="Ask a question"
                                                              + (f", e.g. {examples[0]}" if examples else ""))
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="cb-send")
                        with gr.Row():
                            new_chat = gr.Button("New chat", size="sm", scale=0, elem_id="cb-new")
                            mode = gr.HTML(render_mode(settings.llm), elem_id="cb-mode", js_on_load=None)
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        panel = gr.HTML(render_panel([]), elem_id="cb-sources", js_on_load=None, max_height=640)
            with gr.Tab("Articles", id="articles"):
                articles = gr.HTML(render_articles(kb.articles()), elem_id="cb-articles", js_on_load=None)
                upload = gr.File(label="Add articles (.txt, .md, .html)", file_count="multiple",
                                 file_types=UPLOAD_TYPES, type="filepath", elem_id="cb-upload")
                add = gr.Button("Add to knowledge base", variant="primary", elem_id="cb-add")
                status = gr.HTML(elem_id="cb-status", js_on_load=None)

        def answer_after(shown):
            """Stream the answer once the question is shown; the input stays locked until it is done."""
            shown.then(h.respond, [pending, chatbot, history, sections], [chatbot, history, sections, panel, mode],
                       api_visibility="private", show_progress="minimal", show_progress_on=[chatbot]).then(
                lambda: gr.update(interactive=True), None, question, queue=False, api_visibility="private")

        answer_after(gr.on([question.submit, send.click], h.start_turn, [question, chatbot],
                           [question, chatbot, pending], queue=False, api_visibility="private"))
        answer_after(chatbot.example_select(h.pick_example, [chatbot], [question, chatbot, pending], queue=False,
                                            api_visibility="private"))

        def reset():
            return [], [], [], render_panel([]), ""

        new_chat.click(reset, None, [chatbot, history, sections, panel, pending], queue=False,
                       api_visibility="private")
        chatbot.clear(reset, None, [chatbot, history, sections, panel, pending], queue=False,
                      api_visibility="private")
        add.click(h.add_articles, [upload], [status, articles, upload], api_name="add_articles",
                  concurrency_limit=1)
        app.load(lambda: render_articles(kb.articles()), None, articles, queue=False, api_visibility="private")
        gr.api(h.api_chat, api_name="chat")
    return app


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

    def start(self, timeout: float = 60.0) -> "Server":
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
        from .http_api import api_router

        site.include_router(api_router(kb, settings, auth))
    gr.mount_gradio_app(
        site, app, path="/", server_name=settings.host, server_port=settings.port, auth=auth,
        max_file_size=settings.max_file_bytes, footer_links=["api"], ssr_mode=False, mcp_server=False, pwa=False,
        enable_monitoring=False, css=(ASSETS / "ui.css").read_text(encoding="utf-8"),
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
