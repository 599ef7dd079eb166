"""The chat app's layout and wiring: saved chats | chat | sources on the Chat tab (on a phone the lists and
the sources become drawers/sheets, see data/ui.css), the Articles tab, and the article reader on top.

Usage: app = build_app(kb, settings); launch(app, settings)   (serving.py)
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from ..kb import KnowledgeBase
from ..render import render_mode, render_panel
from ..settings import Settings
from .articles import ArticleHandlers
from .chat import ChatHandlers
from .uploads import UPLOAD_TYPES
from .views import example_questions, render_chat_list, render_coverage

# The system's own fonts: nothing is fetched, and every weight comes from one family (the default theme's
# bundled Source Sans Pro ships a broken semi-bold file, which drew bold text in a second typeface).
SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Helvetica Neue", "Arial",
                "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace")
THEME = gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)

# Saved chats live in the browser's localStorage under this key. Gradio encrypts a BrowserState with its
# secret; a fixed one keeps chats readable across server restarts (they never leave the user's browser).
CHATS_KEY = "careerbot-chats"
CHATS_SECRET = "careerbot-saved-chats"

# Clicks inside these HTML views become Gradio events with data (trigger) or direct calls (server).
CHATS_JS = """
element.addEventListener('click', (event) => {
  const open = event.target.closest('.cb-chat-open'), drop = event.target.closest('.cb-chat-delete');
  if (open) { trigger('open_chat', {id: open.dataset.chat});
              document.getElementById('cb-layout').classList.remove('cb-chats-open'); }
  else if (drop) { trigger('delete_chat', {id: drop.dataset.chat}); }
});
"""
ARTICLES_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.cb-remove');
  if (!button) return;
  const question = 'Remove “' + button.dataset.title + '” from the knowledge base? Its file is deleted from ' +
                   'the corpus folder and questions are no longer answered from it.';
  if (window.confirm(question)) trigger('remove', {source: button.dataset.source});
});
"""
READER_JS = "window.cbReadArticle = (request) => server.read_article(request);"
READER = ('<div class="cb-reader" hidden><div class="cb-reader-box" role="dialog" aria-modal="true" '
          'aria-label="Article"><div class="cb-reader-bar"><button type="button" class="cb-reader-close">'
          '← Back</button></div><div class="cb-reader-body" tabindex="-1"></div></div></div>')
TOOLBAR = ('<div class="cb-toolbar"><button type="button" class="cb-chats-toggle" aria-controls="cb-chats-col">'
           "Saved chats</button></div>")


def _blocks() -> gr.Blocks:
    # The theme (THEME) is given where the app is served (serving.launch), as Gradio 6 expects.
    return gr.Blocks(title="careerbot", analytics_enabled=False)


def build_app(kb: KnowledgeBase, settings: Settings) -> gr.Blocks:
    """The Blocks app over a loaded knowledge base. Usage: build_app(kb, settings).launch(...)"""
    h, a = ChatHandlers(kb, settings), ArticleHandlers(kb, settings)

    def read_article(request):  # a plain function: Gradio marks server functions with an attribute
        return a.read_article(request)

    with _blocks() as app:
        examples = example_questions(kb)
        gr.HTML('<header class="cb-header"><h1>careerbot</h1><p>Answers only from the articles in its knowledge '
                "base, each claim with a numbered source.</p></header>", js_on_load=None)
        turns, pending, chat_id = gr.State([]), gr.State(""), gr.State("")
        saved = gr.BrowserState({"current": "", "chats": []}, storage_key=CHATS_KEY, secret=CHATS_SECRET)
        gr.HTML(READER, elem_id="cb-reader", js_on_load=READER_JS, server_functions=[read_article])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="cb-layout"):
                    with gr.Column(scale=1, min_width=180, elem_id="cb-chats-col"):
                        gr.HTML('<h2 class="cb-side-head">Saved chats</h2>', js_on_load=None)
                        chat_list = gr.HTML(render_chat_list([]), elem_id="cb-chats", js_on_load=CHATS_JS)
                    with gr.Column(scale=3, min_width=300, elem_id="cb-chat-col"):
                        with gr.Row(elem_id="cb-toolbar-row"):
                            gr.HTML(TOOLBAR, js_on_load=None)
                            new_chat = gr.Button("New chat", size="sm", scale=0, elem_id="cb-new")
                        chatbot = gr.Chatbot(
                            elem_id="cb-chat", label="Conversation", show_label=False, height=520, layout="bubble",
                            render_markdown=False, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                            buttons=["copy"], feedback_options=("Like", "Dislike"), allow_file_downloads=False,
                            examples=[{"text": q} for q in examples],
                            placeholder=render_coverage([x.title for x in kb.articles()]))
                        with gr.Row(elem_id="cb-ask-row"):
                            question = gr.Textbox(elem_id="cb-question", label="Your question", show_label=False,
                                                  scale=8, lines=1, max_lines=6, autofocus=True,
                                                  placeholder="Ask a question")
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="cb-send")
                        notice = gr.HTML("", elem_id="cb-notice", js_on_load=None)
                        gr.HTML(f'<div class="cb-under"><span id="cb-counter" class="cb-counter" aria-live="polite" '
                                f'data-max="{settings.max_query_chars}"></span>{render_mode(settings.llm)}</div>',
                                elem_id="cb-mode", js_on_load=None)
                    with gr.Column(scale=2, min_width=280, elem_id="cb-sources-col"):
                        gr.HTML('<h2 class="cb-side-head">Sources</h2>', js_on_load=None)
                        panel = gr.HTML(render_panel([]), elem_id="cb-sources", js_on_load=None)
            with gr.Tab("Articles", id="articles"):
                articles = gr.HTML(a.table(), elem_id="cb-articles", js_on_load=ARTICLES_JS)
                status = gr.HTML(elem_id="cb-status", js_on_load=None)
                upload = gr.File(label="Add articles (.txt, .md, .html)", file_count="multiple",
                                 file_types=UPLOAD_TYPES, type="filepath", elem_id="cb-upload")
                add = gr.Button("Add to knowledge base", variant="primary", elem_id="cb-add")

        show = [chatbot, turns, panel, chat_id, saved, chat_list, pending]
        private: dict[str, Any] = {"queue": False, "api_visibility": "private"}

        def answer_after(shown):
            """Stream the answer once the question is shown, unlock the input, then save the chat."""
            shown.then(h.respond, [pending, chatbot, turns], [chatbot, turns, panel], api_visibility="private",
                       show_progress="minimal", show_progress_on=[chatbot]).then(
                lambda: gr.update(interactive=True), None, question, **private).then(
                h.save, [chat_id, turns, saved], [chat_id, saved, chat_list], **private)

        answer_after(gr.on([question.submit, send.click], h.start_turn, [question, chatbot],
                           [question, chatbot, pending, notice], **private))
        answer_after(chatbot.example_select(h.pick_example, [chatbot], [question, chatbot, pending, notice],
                                            **private))
        chatbot.like(h.rate, [turns], [turns], **private).then(
            h.save, [chat_id, turns, saved], [chat_id, saved, chat_list], **private)
        new_chat.click(h.new_chat, [saved], show, **private)
        chatbot.clear(h.new_chat, [saved], show, **private)
        chat_list.open_chat(h.open_saved, [saved], show, **private)
        chat_list.delete_chat(h.delete_saved, [chat_id, saved], show, **private)
        app.load(h.restore, [saved], show, **private)
        app.load(a.table, None, articles, **private)

        add.click(a.add_articles, [upload], [status, articles, upload], api_name="add_articles",
                  concurrency_limit=1, show_progress_on=[status])
        articles.remove(a.remove, None, [status, articles], concurrency_limit=1, api_visibility="private",
                        show_progress_on=[status])
        gr.api(h.api_chat, api_name="chat")
    return app
