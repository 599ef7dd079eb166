"""The HTTP API, served beside the app on the same port: OpenAI-compatible chat, and search and ask as JSON.

Usage: site.include_router(api_router(kb, settings, credentials=("ann", "s3cret")))  (ui.launch does this)
    POST /v1/chat/completions  {"messages": [...], "stream": false}  OpenAI's chat format; citations in an
                               extra "citations" field and listed at the end of the text
    GET  /v1/models            one model, "careerbot"
    POST /api/search           {"query": "...", "k": 5, "mode": "hybrid"}  → {"hits": [...]}
    POST /api/ask              {"message": "...", "history": [...]}  → the app's /chat payload
Errors are JSON, {"error": {"message", "type", "code"}}: 400 bad request, 401 login needed, 404 unknown model,
413 too long, 503 index or model not ready, 500 a bug (details in the server log, never in the reply).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .errors import (
    CareerbotError,
    CorruptIndex,
    EmptyCorpus,
    IndexLocked,
    IndexNotFound,
    InvalidQuery,
    ModelUnavailable,
    QueryTooLong,
    StaleIndex,
)
from .kb import KnowledgeBase
from .payload import answer_payload, citation_payload, clean_history, hit_payload, sources_text, without_sources
from .records import Answer
from .settings import Settings

log = logging.getLogger("careerbot.http")
MODEL_ID = "careerbot"
INTERNAL = "internal error; the server's log has the details"
MAX_BODY_BYTES = 1_000_000  # a long conversation fits many times over; anything bigger is refused unread
STATUS_BY_ERROR: tuple[tuple[type[CareerbotError] | tuple[type[CareerbotError], ...], int], ...] = (
    (QueryTooLong, 413),
    (InvalidQuery, 400),
    ((IndexNotFound, StaleIndex, CorruptIndex, EmptyCorpus, IndexLocked, ModelUnavailable), 503),
)
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               413: "request_too_large", 503: "service_unavailable", 500: "server_error"}


class ApiError(Exception):
    """A request the API refuses before it reaches the engine: its HTTP status and what to do instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_for(exc: CareerbotError) -> int:
    """The HTTP status for a domain error: 413 too long, 400 other bad input, 503 index or model not ready."""
    for kinds, status in STATUS_BY_ERROR:
        if isinstance(exc, kinds):
            return status
    return 500


def error_payload(status: int, message: str) -> dict:
    """An error in the shape OpenAI clients read: {"error": {"message", "type", "code"}}."""
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": status}}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_payload(status, message), status, headers=headers)


def authorized(header: str, credentials: tuple[str, str] | None) -> bool:
    """HTTP basic with the app's user and password, or `Bearer user:password` (what an OpenAI client sends
    as its api_key). Always true when the app has no login."""
    if credentials is None:
        return True
    expected = f"{credentials[0]}:{credentials[1]}".encode()
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
    elif scheme.lower() == "bearer":
        given = value.strip().encode()
    else:
        return False
    return hmac.compare_digest(given, expected)


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """OpenAI `messages` → (the question, the earlier user/assistant turns). System and tool messages are
    not used: careerbot answers only from its articles. Earlier answers lose their appended sources list."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, '"messages" must be a non-empty list of {"role": ..., "content": ...} objects')
    turns = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(400, f'messages[{i}] must be an object with a "role" and a "content"')
        role, text = message["role"], _text(message.get("content"), i)
        if role == "assistant":
            turns.append({"role": role, "content": without_sources(text)})
        elif role == "user":
            turns.append({"role": role, "content": text})
    if not turns or turns[-1]["role"] != "user":
        raise ApiError(400, 'the last user or assistant message must be the question, with "role": "user"')
    return turns[-1]["content"], turns[:-1]


def _text(content: Any, i: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part["text"] for part in content if isinstance(part, dict)
                         and part.get("type") == "text" and isinstance(part.get("text"), str))
    raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts")


class Api:
    """The routes over one loaded knowledge base; engine work runs in `settings.workers()` threads at most."""

    def __init__(self, kb: KnowledgeBase, settings: Settings, credentials: tuple[str, str] | None) -> None:
        self.kb = kb
        self.settings = settings
        self.credentials = credentials
        self.limiter = anyio.CapacityLimiter(settings.workers())
        self.started = int(time.time())

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Engine work off the event loop, at most `workers` at once (the rest wait for a thread)."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    def route(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """Auth first, then the handler; every failure becomes a JSON error, never a traceback."""
        async def endpoint(request: Request) -> Response:
            if not authorized(request.headers.get("authorization", ""), self.credentials):
                return error_response(401, "log in: HTTP basic with CAREERBOT_AUTH's user and password, or "
                                           "'Authorization: Bearer user:password'",
                                      headers={"WWW-Authenticate": 'Basic realm="careerbot"'})
            try:
                return await handler(request)
            except ApiError as exc:
                return error_response(exc.status, str(exc))
            except CareerbotError as exc:
                return error_response(status_for(exc), str(exc))
            except Exception:  # a bug: logged with its traceback here, reported without it
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(500, INTERNAL)
        return endpoint

    # ----- routes ---------------------------------------------------------------------------------
    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [
            {"id": MODEL_ID, "object": "model", "created": self.started, "owned_by": "careerbot"}]})

    async def search(self, request: Request) -> Response:
        body = await read_json(request)
        query: Any = body.get("query")  # checked by the engine: text, not empty, within the limit
        k, mode = body.get("k"), body.get("mode")
        hits = await self.run(lambda: self.kb.search(query, k=k, mode=mode))
        return JSONResponse({"query": query, "k": k or self.settings.k,
                             "mode": mode or self.settings.retrieval, "hits": [hit_payload(h) for h in hits]})

    async def ask(self, request: Request) -> Response:
        body = await read_json(request)
        message = body.get("message", body.get("question"))
        answer = await self.run(self.kb.ask, message, clean_history(body.get("history")))
        return JSONResponse(answer_payload(answer))

    async def chat_completions(self, request: Request) -> Response:
        body = await read_json(request)
        model = body.get("model", MODEL_ID)
        if model != MODEL_ID:
            raise ApiError(404, f"model {model!r} does not exist; this server has one model, {MODEL_ID!r}")
        question, history = conversation(body.get("messages"))
        reply = Reply(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))
        if not body.get("stream"):
            answer = await self.run(self.kb.ask, question, history)
            return JSONResponse(reply.completion(answer))
        events = iter(self.kb.ask_stream(question, history))
        first = await self.run(next, events)  # a bad question fails here, while a JSON status can still be sent
        return StreamingResponse(self._chunks(reply, first, events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _chunks(self, reply: Reply, first: str | Answer, events: Iterator[str | Answer]) -> AsyncIterator[str]:
        """Server-sent events in OpenAI's chunk format, then `data: [DONE]`."""
        yield reply.event({"role": "assistant", "content": ""})
        streamed, event = "", first
        try:
            while not isinstance(event, Answer):
                streamed += event
                yield reply.event({"content": event})
                event = await self.run(next, events)
        except Exception as exc:  # the status line is sent: the error goes in the stream, as OpenAI's does
            if not isinstance(exc, CareerbotError):
                log.exception("streamed chat completion failed")
            status = status_for(exc) if isinstance(exc, CareerbotError) else 500
            message = str(exc) if isinstance(exc, CareerbotError) else INTERNAL
            yield f"data: {json.dumps(error_payload(status, message), ensure_ascii=False)}\n\n"
            return
        yield reply.event({"content": reply.rest(event, streamed)})
        yield reply.event({}, finish=event)
        yield "data: [DONE]\n\n"


class Reply:
    """One chat completion's id and time, and its answer in OpenAI's response and chunk shapes."""

    def __init__(self, id: str, created: int) -> None:
        self.id, self.created = id, created

    def _base(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL_ID}

    @staticmethod
    def extra(answer: Answer) -> dict:
        """careerbot's fields beside OpenAI's: clients that do not read them still get the sources as text."""
        return {"citations": [citation_payload(c) for c in answer.citations], "abstained": answer.abstained,
                "mode": answer.mode, "query": answer.query}

    def completion(self, answer: Answer) -> dict:
        message = {"role": "assistant", "content": answer.text + sources_text(answer.citations)}
        return {**self._base("chat.completion"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                **self.extra(answer)}

    def event(self, delta: dict, finish: Answer | None = None) -> str:
        chunk = {**self._base("chat.completion.chunk"),
                 "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if finish else None,
                              "logprobs": None}]}
        if finish is not None:
            chunk.update(self.extra(finish))
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    @staticmethod
    def rest(answer: Answer, streamed: str) -> str:
        """What follows the streamed text: the sources list, after the final text when a model's answer was
        repaired or replaced (the final Answer is authoritative; see KnowledgeBase.ask_stream)."""
        if answer.text == streamed:
            return sources_text(answer.citations)
        if answer.text.startswith(streamed):
            return answer.text[len(streamed):] + sources_text(answer.citations)
        return f"\n\n(revised answer)\n{answer.text}" + sources_text(answer.citations)


async def read_json(request: Request) -> dict:
    """The request body as a JSON object; 413 past MAX_BODY_BYTES (refused before reading it all)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    raw = bytearray()
    async for part in request.stream():
        raw += part
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"the request body is over the {MAX_BODY_BYTES:,}-byte limit")
    try:
        body = json.loads(bytes(raw))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, 'the body must be JSON, e.g. {"message": "Do I need a PhD?"}') from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def api_router(kb: KnowledgeBase, settings: Settings, credentials: tuple[str, str] | None = None) -> APIRouter:
    """The API's routes, to include in the FastAPI app the Gradio app is mounted in.

    Usage: site = FastAPI(); site.include_router(api_router(kb, settings)); gr.mount_gradio_app(site, app, "/")
    """
    api = Api(kb, settings, credentials)
    router = APIRouter()
    router.add_route("/v1/models", api.route(api.models), methods=["GET"])
    router.add_route("/v1/chat/completions", api.route(api.chat_completions), methods=["POST"])
    router.add_route("/api/search", api.route(api.search), methods=["POST"])
    router.add_route("/api/ask", api.route(api.ask), methods=["POST"])
    return router
