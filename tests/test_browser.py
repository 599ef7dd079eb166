"""The chat app in headless Chromium (Debian's, driven by Playwright): streamed answers, clickable citations,
uploads, and untrusted HTML shown as text, never run or fetched. The server runs in this process so that
its own outbound connections can be watched too."""
from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 120_000  # generous bound for a slow shared CI machine, not a speed assertion

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}")]

XSS_ARTICLE = """# Prompt Auditor vs. Machine Learning Engineer

Jan. 5, 2026

## Salary

The Glimmerbot survey <script>window.__cbXssArticle = 1</script> says a Prompt Auditor earns $171,717 per year <img src="http://evil.example/article.png" onerror="window.__cbXssArticle = 2">.

## Responsibilities

- Auditing prompts and model outputs for leaks of private data.
"""
XSS_QUESTION = ('What does the Glimmerbot survey say a Prompt Auditor earns? <script>window.__cbXssQuestion = 1'
                '</script><img src="http://evil.example/question.png" onerror="window.__cbXssQuestion = 2">')


@pytest.fixture(scope="module")
def connections():
    """Every TCP connection this process opens while the module runs (the app serves from here)."""
    seen: list[str] = []
    original, original_ex = socket.socket.connect, socket.socket.connect_ex

    def record(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            seen.append(str(address[0]))

    def connect(sock, address):
        record(sock, address)
        return original(sock, address)

    def connect_ex(sock, address):
        record(sock, address)
        return original_ex(sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    try:
        yield seen
    finally:
        socket.socket.connect, socket.socket.connect_ex = original, original_ex


@pytest.fixture(scope="module")
def app_url(connections, tmp_path_factory, session_corpus, session_index, settings):
    """The real app (build_app + launch, as `careerbot serve` does) on a free loopback port."""
    from careerbot import KnowledgeBase
    from careerbot.ui import build_app, launch

    work = tmp_path_factory.mktemp("browser")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = settings.with_overrides(corpus_dir=str(corpus), index_dir=str(index), port=port, llm="")
    app = build_app(KnowledgeBase.load(index, config, corpus=corpus), config)
    server = launch(app, config, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page on the app; every request it makes is recorded, and any to another host is blocked."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.requests = []
    app_host = urlparse(app_url).netloc

    def route(route):
        page.requests.append(route.request.url)
        if urlparse(route.request.url).netloc == app_host or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", route)
    page.goto(app_url)
    page.wait_for_selector("#cb-question textarea")
    yield page
    context.close()


def ask(page, question: str) -> None:
    """Type a question, send it, and wait until the finished answer has its citation links."""
    answers_before = page.locator("#cb-chat .cb-answer:not(.cb-streaming)").count()
    page.fill("#cb-question textarea", question)
    page.press("#cb-question textarea", "Enter")
    page.locator("#cb-chat .cb-answer:not(.cb-streaming)").nth(answers_before).wait_for()


WATCH_STREAM = """() => {
  window.__cbPartial = [];
  new MutationObserver(() => {
    const partial = document.querySelector('#cb-chat .cb-streaming');
    if (partial) window.__cbPartial.push(partial.textContent.length);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_question_streams_and_a_citation_shows_its_passage(page, app_url, artifacts_dir):
    assert "Answer mode: extractive" in page.inner_text("#cb-mode")
    page.evaluate(WATCH_STREAM)
    ask(page, "What is the average salary of a Lead Machine Learning Engineer according to Glassdoor?")
    assert page.evaluate("window.__cbPartial.length") > 0, "no partial answer was shown before the final one"
    answer = page.locator("#cb-chat .cb-answer").last
    assert "153,000" in answer.inner_text()
    link = answer.locator("a.cb-cite").first
    target_id = link.get_attribute("href").lstrip("#")
    source = page.locator(f"#{target_id}")
    assert "cb-active" not in (source.get_attribute("class") or "")
    link.click()
    page.wait_for_function(f"document.getElementById('{target_id}').classList.contains('cb-active')")
    page.wait_for_function(f"""(() => {{ const r = document.getElementById('{target_id}').getBoundingClientRect();
                                return r.top >= 0 && r.bottom <= window.innerHeight; }})()""")
    quote = source.locator("mark.cb-quote")
    assert quote.is_visible() and quote.inner_text().strip()
    assert source.locator(".cb-source-title").inner_text().strip()
    assert re.search(r"\b20\d\d\b", source.locator(".cb-source-meta").inner_text())  # the article's date
    page.screenshot(path=str(artifacts_dir / "chat_citation.png"))


def test_example_question_then_new_chat(page):
    page.locator("#cb-chat button", has_text="?").first.click()  # examples come from the articles
    page.locator("#cb-chat .cb-answer:not(.cb-streaming)").first.wait_for()
    assert page.locator("#cb-sources .cb-source").count() > 0 or page.locator("#cb-sources .cb-none").count()
    page.click("#cb-new")
    page.wait_for_function("document.querySelectorAll('#cb-chat .cb-answer').length === 0")
    assert page.locator("#cb-sources .cb-source").count() == 0


def test_untrusted_html_is_shown_as_text_never_run_or_fetched(page, app_url, connections, tmp_path,
                                                               artifacts_dir):
    article = tmp_path / "prompt_auditor.md"
    article.write_text(XSS_ARTICLE, encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#cb-upload input[type=file]", str(article))
    page.locator("#cb-upload", has_text="prompt_auditor.md").wait_for()
    page.click("#cb-add")
    page.locator("#cb-status .cb-ok").first.wait_for()
    assert "Prompt Auditor vs. Machine Learning Engineer" in page.inner_text("#cb-articles")

    page.get_by_role("tab", name="Chat").click()
    ask(page, XSS_QUESTION)
    answer = page.locator("#cb-chat .cb-answer").last
    assert "171,717" in answer.inner_text()
    answer.locator("a.cb-cite").first.click()
    chat, sources = page.inner_text("#cb-chat"), page.inner_text("#cb-sources")
    assert "<script>window.__cbXssQuestion = 1</script>" in chat  # the question, shown as typed
    assert '<img src="http://evil.example/question.png"' in chat
    # The article's markup was reduced to its text at ingestion: no tag and no script text is left to show.
    assert "The Glimmerbot survey says a Prompt Auditor earns $171,717 per year." in sources
    assert "__cbXssArticle" not in chat + sources and "evil.example/article" not in sources
    page.screenshot(path=str(artifacts_dir / "untrusted_html.png"))

    assert page.evaluate("[typeof window.__cbXssArticle, typeof window.__cbXssQuestion]") == \
        ["undefined", "undefined"]
    assert page.evaluate("Array.from(document.images).filter(i => i.src.includes('evil')).length") == 0
    assert page.evaluate("Array.from(document.scripts).filter(s => s.text.includes('__cbXss')).length") == 0
    hosts = {urlparse(url).netloc for url in page.requests if not url.startswith("data:")}
    assert hosts == {urlparse(app_url).netloc}, f"the page contacted other hosts: {hosts}"
    outside = {host for host in connections if not host.startswith("127.") and host not in ("::1", "localhost")}
    assert not outside, f"the app opened connections to {outside}"
