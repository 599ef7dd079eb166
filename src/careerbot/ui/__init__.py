"""The chat app: Gradio Blocks with streamed, cited answers, a sources panel, saved chats, an article
reader, ratings and an Articles tab.

Usage: careerbot serve [--host H] [--port P]   or   python app.py   (http://127.0.0.1:7860)
From Python: app = build_app(kb, settings); launch(app, settings)
"""
import os

# Analytics must be off before gradio is imported: it reads the variable at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from .app import build_app  # noqa: E402
from .articles import ArticleHandlers  # noqa: E402
from .chat import ChatHandlers, answer_payload  # noqa: E402
from .serving import is_loopback, launch, open_knowledge_base, parse_auth, serve  # noqa: E402
from .uploads import UPLOAD_TYPES, safe_name, store_upload  # noqa: E402
from .views import example_questions  # noqa: E402

__all__ = ["ArticleHandlers", "ChatHandlers", "UPLOAD_TYPES", "answer_payload", "build_app", "example_questions",
           "is_loopback", "launch", "open_knowledge_base", "parse_auth", "safe_name", "serve", "store_upload"]
