"""The chat's event handlers: a question shown at once, its answer streamed in, ratings written to the
feedback file, and conversations saved in the browser (a gr.BrowserState, i.e. localStorage).

A conversation is a list of turns, {"question", "answer": the /chat payload} (or {"question", "error"}),
from which the chat, the engine's history and the sources panel are all drawn; that is also what a saved
chat stores, so reopening one shows exactly what was shown. Usage: h = ChatHandlers(kb, settings)
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from ..errors import CareerbotError
from ..feedback import record_feedback
from ..kb import KnowledgeBase
from ..payload import answer_payload  # shared with the HTTP API
from ..payload import clean_history as _clean_history
from ..records import Answer, Citation, Hit
from ..render import render_answer, render_error, render_panel, render_partial, render_sources, render_user
from ..settings import Settings
from .views import example_questions, render_chat_list, render_coverage, render_notice

MAX_SAVED_CHATS = 30  # localStorage holds about 5 MB per site; a chat with its passages takes 5-50 KB
RATING = {True: "up", False: "down"}


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def answer_from_payload(question: str, payload: dict) -> Answer:
    """An Answer rebuilt from a payload (e.g. a saved chat coming back from the browser); fields of the
    wrong type become empty, so what renders is always text."""
    citations = []
    for c in payload.get("citations") or []:
        if not isinstance(c, dict) or not isinstance(c.get("n"), int):
            continue
        section = tuple(s for s in c.get("section_path") or [] if isinstance(s, str))
        hit = Hit(chunk_id=_text(c.get("chunk_id")), text=_text(c.get("passage")), score=0.0,
                  title=_text(c.get("title"), "Untitled"), section=section, source=_text(c.get("source")),
                  date=c.get("date") if isinstance(c.get("date"), str) else None, position=0)
        citations.append(Citation(c["n"], hit, _text(c.get("quote"))))
    return Answer(question=question, text=_text(payload.get("answer")), citations=tuple(citations),
                  abstained=bool(payload.get("abstained")), mode=_text(payload.get("mode"), "extractive"),
                  query=_text(payload.get("query")))


def clean_turns(turns: Any) -> list[dict]:
    """Only well-formed turns pass (a saved chat is data from the browser)."""
    if not isinstance(turns, list):
        return []
    out = []
    for t in turns:
        if not isinstance(t, dict) or not isinstance(t.get("question"), str):
            continue
        if isinstance(t.get("answer"), dict):
            out.append({"question": t["question"], "answer": t["answer"],
                        "rating": t.get("rating") if t.get("rating") in ("up", "down") else None})
        elif isinstance(t.get("error"), str):
            out.append({"question": t["question"], "error": t["error"]})
    return out


def history_of(turns: list[dict]) -> list[dict]:
    """The engine's history (messages format) of a conversation: answered turns only."""
    history = []
    for t in turns:
        if "answer" in t:
            history += [{"role": "user", "content": t["question"]},
                        {"role": "assistant", "content": _text(t["answer"].get("answer"))}]
    return history


def chat_of(turns: list[dict]) -> list[dict]:
    """The chat messages of a conversation, one question and one reply per turn."""
    messages = []
    for i, t in enumerate(turns, 1):
        messages.append({"role": "user", "content": render_user(t["question"])})
        if "answer" in t:
            answer = answer_from_payload(t["question"], t["answer"])
            content = render_answer(answer.text, answer.citations, i, answer.abstained)
        else:
            content = render_error(t["error"])
        messages.append({"role": "assistant", "content": content})
    return messages


def panel_of(turns: list[dict]) -> str:
    """The sources panel of a conversation: each answered turn's sources, newest first."""
    return render_panel([render_sources(answer_from_payload(t["question"], t["answer"]), i)
                         for i, t in enumerate(turns, 1) if "answer" in t])


def feedback_of(turns: list[dict]) -> list[str | None]:
    """The thumbs shown under each answer: "Like", "Dislike" or none."""
    return [{"up": "Like", "down": "Dislike"}.get(t.get("rating") or "") for t in turns]


def _clean_saved(saved: Any) -> dict:
    if not isinstance(saved, dict):
        return {"current": "", "chats": []}
    chats = [c for c in saved.get("chats") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]
    return {"current": _text(saved.get("current")), "chats": chats}


def _title(question: str, limit: int = 60) -> str:
    text = " ".join(question.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_chat_id() -> str:
    return uuid.uuid4().hex[:12]


class ChatHandlers:
    """The chat's event handlers; they share one knowledge base (model and index loaded once)."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb = kb
        self.settings = settings

    # ----- asking ---------------------------------------------------------------------------------
    def start_turn(self, message: str, chat: list[dict]):
        """Show the question at once; the answer streams in the next step. A question over the limit stays
        in the box, uncut, with a notice of how much to shorten it. Returns (box, chat, pending, notice)."""
        question = (message or "").strip()
        if not question:
            return gr.skip(), chat, "", ""
        limit = self.settings.max_query_chars
        if len(question) > limit:
            return gr.skip(), chat, "", render_notice(
                f"Your question has {len(question):,} characters; the limit is {limit:,}. Shorten it by "
                f"{len(question) - limit:,} characters, for instance to the sentences that ask.")
        shown = chat + [{"role": "user", "content": render_user(question)}]
        return gr.update(value="", interactive=False), shown, question, ""

    def pick_example(self, chat: list[dict], event: gr.SelectData):
        return self.start_turn(str((event.value or {}).get("text", "")), chat)

    def respond(self, question: str, chat: list[dict], turns: list[dict]) -> Iterator:
        """Put the answer in the chat. An extractive answer is complete at once, so it comes in one event; a
        model's answer streams, each event carrying only the text added since the last one (render_partial
        appends). The reply's links and the sources panel are rendered once, at the end."""
        if not question:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        turns = clean_turns(turns)
        text = ""
        try:
            if not (self.kb.settings.llm or "").strip():  # the extractive engine: nothing to wait for piecewise
                answer = self.kb.ask(question, history_of(turns))
            else:
                for piece in self.kb.ask_stream(question, history_of(turns)):
                    if isinstance(piece, Answer):
                        answer = piece
                        break
                    text += piece
                    yield chat + [{"role": "assistant", "content": render_partial(text)}], gr.skip(), gr.skip()
                else:
                    raise RuntimeError("the answer stream ended without an answer")
        except CareerbotError as exc:
            turns = turns + [{"question": question, "error": str(exc)}]
            yield chat + [{"role": "assistant", "content": render_error(str(exc))}], turns, gr.skip()
            return
        turns = turns + [{"question": question, "answer": answer_payload(answer), "rating": None}]
        reply = render_answer(answer.text, answer.citations, len(turns), answer.abstained)
        yield chat + [{"role": "assistant", "content": reply}], turns, panel_of(turns)

    def api_chat(self, message: str, history: list[dict] | None = None) -> dict:
        """Answer a question from the articles. history: earlier {"role", "content"} messages (optional).
        Returns {"answer": text with [n] markers, "citations": [{"n", "title", "source", "quote", ...}], ...}."""
        try:
            return answer_payload(self.kb.ask(message, _clean_history(history)))
        except CareerbotError as exc:
            raise gr.Error(str(exc)) from exc

    # ----- ratings --------------------------------------------------------------------------------
    def rate(self, turns: list[dict], event: gr.LikeData):
        """Thumbs up or down on an answer: one line in the feedback file (settings.feedback_file())."""
        turns = clean_turns(turns)
        index = event.index if isinstance(event.index, int) else event.index[0]
        turn = index // 2  # the chat alternates question, reply
        if event.liked not in RATING or not 0 <= turn < len(turns) or "answer" not in turns[turn]:
            return gr.skip()
        rating = RATING[event.liked]
        try:
            record_feedback(self.settings.feedback_file(), turns[turn]["question"], turns[turn]["answer"], rating)
        except OSError as exc:
            gr.Warning(f"Your rating could not be saved: {exc}")
            return gr.skip()
        gr.Info("Thanks: your rating was saved.")
        turns[turn] = {**turns[turn], "rating": rating}
        return turns

    # ----- saved chats ----------------------------------------------------------------------------
    def save(self, chat_id: str, turns: list[dict], saved: Any):
        """Keep the conversation in the browser's list, newest first (after each answer and rating)."""
        saved, turns = _clean_saved(saved), clean_turns(turns)
        if not turns:
            return gr.skip(), gr.skip(), gr.skip()
        chat_id = chat_id or new_chat_id()
        entry = {"id": chat_id, "title": _title(turns[0]["question"]),
                 "updated": datetime.now(UTC).isoformat(timespec="seconds"), "turns": turns}
        chats = [entry] + [c for c in saved["chats"] if c["id"] != chat_id]
        saved = {"current": chat_id, "chats": chats[:MAX_SAVED_CHATS]}
        return chat_id, saved, render_chat_list(saved["chats"], chat_id)

    def _show(self, saved: dict, chat_id: str):
        """Outputs that show one saved chat (or a fresh one when chat_id is not saved)."""
        chat = next((c for c in saved["chats"] if c["id"] == chat_id), None)
        turns = clean_turns(chat["turns"]) if chat else []
        saved = {**saved, "current": chat_id}
        first = gr.update(value=chat_of(turns), feedback_value=feedback_of(turns),  # the first screen follows
                          placeholder=render_coverage([a.title for a in self.kb.articles()]),  # uploads, removals
                          examples=[{"text": q} for q in example_questions(self.kb)])
        return (first, turns, panel_of(turns),
                chat_id, saved, render_chat_list(saved["chats"], chat_id), "")

    def restore(self, saved: Any):
        """On page load: the chat the browser was showing, and the list of saved chats."""
        saved = _clean_saved(saved)
        current = saved["current"] if any(c["id"] == saved["current"] for c in saved["chats"]) else new_chat_id()
        return self._show(saved, current)

    def open_saved(self, saved: Any, event: gr.EventData):
        saved = _clean_saved(saved)
        return self._show(saved, _text((event._data or {}).get("id")))

    def delete_saved(self, chat_id: str, saved: Any, event: gr.EventData):
        """Forget a saved chat; deleting the one on screen starts a new chat."""
        saved, gone = _clean_saved(saved), _text((event._data or {}).get("id"))
        saved = {**saved, "chats": [c for c in saved["chats"] if c["id"] != gone]}
        return self._show(saved, new_chat_id() if gone == chat_id else chat_id)

    def new_chat(self, saved: Any):
        return self._show(_clean_saved(saved), new_chat_id())
