"""The chat app: Gradio Blocks with streamed, cited answers, a sources panel, saved chats, an article
reader, ratings and an Articles tab.

Usage: careerbot serve [--host H] [--port P]   or   python app.py   (http://127.0.0.1:7860)
From Python: app = build_app(kb, settings); launch(app, settings)
"""
# No analytics: the app's Blocks are built with analytics_enabled=False (ui/app.py), which every telemetry
# call of Gradio checks; importing careerbot.ui changes no environment variable.
from .app import build_app
from .articles import ArticleHandlers
from .chat import ChatHandlers, answer_payload
from .serving import is_loopback, launch, open_knowledge_base, parse_auth, serve
from .uploads import UPLOAD_TYPES, safe_name, store_upload
from .views import example_questions

__all__ = ["ArticleHandlers", "ChatHandlers", "UPLOAD_TYPES", "answer_payload", "build_app", "example_questions",
           "is_loopback", "launch", "open_knowledge_base", "parse_auth", "safe_name", "serve", "store_upload"]
