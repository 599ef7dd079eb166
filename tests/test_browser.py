"""The chat app in headless Chromium (Debian's, driven by Playwright), at desktop size and on a 390x844 phone
screen: streamed answers, citations and the phone's sources sheet, plain-text copy and accessible names, the
layout (bounding boxes), system fonts, saved chats across a reload, the article reader, removing an article,
ratings written to the feedback file, uploads, and untrusted HTML shown as text, never run or fetched.
One server per module runs in this process, so that its own outbound connections can be watched too."""
from __future__ import annotations

import json
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
SIZES = {"desktop": {"width": 1400, "height": 950}, "phone": {"width": 390, "height": 844}}
GLASSDOOR = "What is the average salary of a Lead Machine Learning Engineer according to Glassdoor?"

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
def served(connections, tmp_path_factory, session_corpus, session_index, settings):
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
    config = settings.with_overrides(corpus_dir=str(corpus), index_dir=str(index), port=port, llm="",
                                     feedback_path=str(work / "feedback.jsonl"))
    kb = KnowledgeBase.load(index, config, corpus=corpus)
    app = build_app(kb, config)
    server = launch(app, config, block=False, kb=kb)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "kb": kb, "settings": config, "corpus": corpus}
    finally:
        server.close()


@pytest.fixture(scope="module")
def app_url(served):
    return served["url"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def expect(target):
    """Playwright's expect (it retries until the state holds), bounded like the page's waits rather than by its
    own 5 s default: a read right after an action races the page's update on a slow machine."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=TIMEOUT_MS)
    return playwright_expect(target)


def open_page(browser, app_url, size: str = "desktop"):
    """A fresh browser context (empty localStorage) and page on the app; every request it makes is recorded,
    and any to another host is blocked."""
    context = browser.new_context(viewport=SIZES[size])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = context.new_page()
    page.size = size
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
    return context, page


@pytest.fixture
def page(browser, app_url):
    context, page = open_page(browser, app_url)
    yield page
    context.close()


@pytest.fixture(params=list(SIZES))
def sized(browser, app_url, request):
    """The page at each screen size in turn: desktop, then a 390x844 phone."""
    context, page = open_page(browser, app_url, request.param)
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


def test_an_answer_comes_whole_and_a_citation_shows_its_passage(page, app_url, artifacts_dir):
    page.evaluate(WATCH_STREAM)
    ask(page, GLASSDOOR)
    # The extractive engine's answer is complete at once: it is shown whole, never piecewise (a model's
    # answer streams; tests/test_ui.py checks what each of its events sends).
    assert page.evaluate("window.__cbPartial.length") == 0, "an extractive answer was shown piecewise"
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
    # One progress display for an upload (the status line's), never one per output: count the progress
    # trackers (Gradio's .progress-level / .eta-bar) on the page at every change while it runs.
    page.evaluate("""() => { window.__cbBars = 0; window.__cbChanges = 0;
        new MutationObserver(() => { window.__cbChanges += 1;
            const bars = [...document.querySelectorAll('.progress-level, .eta-bar')]
                .filter(e => e.getClientRects().length).length;
            window.__cbBars = Math.max(window.__cbBars, bars); })
        .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
    page.click("#cb-add")
    page.locator("#cb-status .cb-ok").first.wait_for()
    assert page.evaluate("window.__cbChanges") > 0 and page.evaluate("window.__cbBars") <= 1
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


# ----- the chat app a person expects, at both sizes ------------------------------------------------
def rect(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, "
        "right: r.right, width: r.width, height: r.height}; }")


def in_view(page, selector: str) -> bool:
    r, size = rect(page, selector), page.viewport_size
    return r["height"] > 0 and r["top"] >= 0 and r["left"] >= 0 and r["bottom"] <= size["height"] + 0.5 \
        and r["right"] <= size["width"] + 0.5


def wait_in_view(page, selector: str) -> None:
    """Until the element is wholly inside the window (sheets slide and scrolling is smooth)."""
    page.wait_for_function("""s => { const e = document.querySelector(s); if (!e) return false;
        const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.left >= 0 &&
        r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5; }""", arg=selector)


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def open_saved_chats(page) -> None:
    """On a phone the saved chats are a drawer behind the "Saved chats" button: open it and wait until it has
    slid in (wholly on screen), as a person would before reading it."""
    if page.size == "phone":
        page.click(".cb-chats-toggle")
        page.wait_for_function("document.getElementById('cb-layout').classList.contains('cb-chats-open')")
        wait_in_view(page, "#cb-chats-col")


def show_sources(page, answer_index: int = -1) -> str:
    """Click [1] of an answer; returns the id of the source entry it shows."""
    link = page.locator("#cb-chat .cb-answer").nth(answer_index).locator("a.cb-cite").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    page.wait_for_function(f"document.getElementById('{target}').classList.contains('cb-active')")
    return target


def test_copy_gives_plain_text_and_messages_have_readable_names(sized):
    page = sized
    assert page.get_by_label("Your question").evaluate("e => e.tagName") == "TEXTAREA"  # the input has a label
    ask(page, GLASSDOOR)
    page.locator("#cb-chat button[aria-label='Copy message']").last.click()  # the answer's, under it
    copied = page.evaluate("navigator.clipboard.readText()")
    shown = page.locator("#cb-chat .cb-answer").last.inner_text().strip()
    # textContent: on a phone the sources sheet is closed, so nothing of it is rendered as text
    title = page.locator("#cb-sources .cb-source .cb-source-title").first.text_content().replace("[1]", "").strip()
    meta = page.locator("#cb-sources .cb-source .cb-source-meta").first.text_content().strip()
    assert copied.startswith(shown) and "[1]" in copied and "153,000" in copied
    assert f"\n\nSources:\n[1] {title} — " + meta.replace(" · ", " — ") in copied
    assert "<" not in copied and "&#" not in copied and "&amp;" not in copied
    names = page.evaluate("Array.from(document.querySelectorAll('#cb-chat [data-testid=bot][aria-label], "
                          "#cb-chat [data-testid=user][aria-label]')).map(e => e.getAttribute('aria-label'))")
    assert names == [f"Your question: {GLASSDOOR}", "careerbot's answer: " + copied]


def test_layout_fits_both_sizes_and_the_phone_sheet_closes_back_to_the_answer(sized, artifacts_dir):
    page = sized
    assert in_view(page, "#cb-send") and in_view(page, "#cb-question textarea")  # the first screen
    for question in (GLASSDOOR, "What skills does a research scientist need?"):
        ask(page, question)
    page.locator("#cb-chat [role=log]").first.evaluate("e => e.scrollTop = e.scrollHeight / 2")
    messages = page.locator("#cb-chat [data-testid=bot], #cb-chat [data-testid=user]")
    labels = page.locator("#cb-chat label:visible, #cb-chat [data-testid=block-label]:visible")
    for i in range(labels.count()):
        box = labels.nth(i).bounding_box()
        for j in range(messages.count()):
            other = messages.nth(j).bounding_box()
            assert not (box and other and overlaps(
                {"left": box["x"], "right": box["x"] + box["width"], "top": box["y"], "bottom": box["y"] + box["height"]},
                {"left": other["x"], "right": other["x"] + other["width"], "top": other["y"],
                 "bottom": other["y"] + other["height"]})), "a label covers a message"
    assert in_view(page, "#cb-send") and in_view(page, "#cb-question textarea")
    page.screenshot(path=str(artifacts_dir / f"ui-{page.size}.png"))
    target = show_sources(page)
    wait_in_view(page, f"#{target}")
    if page.size == "phone":  # the sources are a sheet over the chat, with a way back
        page.screenshot(path=str(artifacts_dir / "ui-phone-sources.png"))
        assert rect(page, "#cb-sources-col")["top"] < page.viewport_size["height"] / 3  # a sheet over the chat
        page.locator("#cb-sources .cb-sheet-close").click()
        page.wait_for_function("document.getElementById('cb-sources-col').getBoundingClientRect().top >= innerHeight")
        link = page.locator("#cb-chat .cb-answer").last.locator("a.cb-cite").first
        assert link.evaluate("e => e === document.activeElement")  # back where the reader left the answer
        box = link.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]
    else:  # beside the chat
        assert rect(page, "#cb-sources-col")["left"] >= rect(page, "#cb-chat")["right"]
        assert page.locator("#cb-sources .cb-sheet-close").is_hidden()
    page.get_by_role("tab", name="Articles").click()
    table = page.locator("#cb-articles table.cb-articles")
    table.wait_for()
    assert table.evaluate("e => e.getBoundingClientRect().right <= document.documentElement.clientWidth + 0.5")
    for selector in ("#cb-articles tbody tr >> nth=0 >> td.cb-title", "#cb-articles tbody tr >> nth=0 >> .cb-remove"):
        r = rect(page, selector)
        assert r["left"] >= 0 and r["right"] <= page.viewport_size["width"], selector
    page.screenshot(path=str(artifacts_dir / f"ui-{page.size}-articles.png"))


def test_fonts_are_the_systems_and_none_is_fetched(sized):
    page = sized
    ask(page, GLASSDOOR)
    for selector in ("#cb-send", ".cb-header h1", "#cb-chat .cb-answer", "#cb-sources .cb-source-title"):
        family = page.locator(selector).first.evaluate("e => getComputedStyle(e).fontFamily")
        assert family.startswith("system-ui"), (selector, family)
    assert page.evaluate("document.fonts.ready.then(f => Array.from(f).filter(x => x.status === 'loaded')"
                         ".map(x => x.family))") == []  # no web font loaded, so no stub or mixed weights
    fetched = [u for u in page.requests if re.search(r"\.(woff2?|ttf|otf)(\?|$)", u)]
    assert fetched == [], fetched


def test_saved_chats_survive_a_reload_reopen_and_delete(sized):
    # Every check after an action waits for its state (expect): the page updates when the server's reply comes.
    page = sized
    answers, items = page.locator("#cb-chat .cb-answer"), page.locator("#cb-chats .cb-chat-item")
    ask(page, GLASSDOOR)
    items.first.wait_for(state="attached")
    page.reload()
    page.wait_for_selector("#cb-question textarea")
    expect(answers.first).to_contain_text("153,000", use_inner_text=True)  # the chat is back after the reload,
    expect(answers).to_have_count(1)
    # with its sources (textContent: on a phone they are a closed sheet until a citation is clicked)
    expect(page.locator("#cb-sources .cb-source mark.cb-quote").first).to_contain_text("153,000")
    page.click("#cb-new")
    expect(answers).to_have_count(0)
    ask(page, "What skills does a research scientist need?")
    expect(items).to_have_count(2)
    open_saved_chats(page)
    expect(page.locator("#cb-chats .cb-chat-title")).to_have_text(  # newest first, as shown
        [re.compile(r"^What skills does a research scientist"), re.compile(r"^What is the average")],
        use_inner_text=True)
    page.locator("#cb-chats .cb-chat-open").nth(1).click()  # reopen the first chat
    expect(answers.first).to_contain_text("153,000", use_inner_text=True)
    expect(answers).to_have_count(1)
    open_saved_chats(page)
    page.locator("#cb-chats .cb-chat-delete").nth(0).click()  # delete the other one
    expect(items).to_have_count(1)
    expect(answers).to_have_count(1)  # the open chat stays on screen
    expect(answers.first).to_contain_text("153,000", use_inner_text=True)
    page.reload()
    page.wait_for_selector("#cb-question textarea")
    items.first.wait_for(state="attached")
    expect(items).to_have_count(1)
    open_saved_chats(page)
    page.locator("#cb-chats .cb-chat-delete").first.click()  # delete the chat on screen: a new one starts
    expect(items).to_have_count(0)
    expect(answers).to_have_count(0)


def test_article_view_opens_at_the_cited_passage(sized, artifacts_dir):
    page = sized
    ask(page, GLASSDOOR)
    target = show_sources(page)
    wait_in_view(page, f"#{target}")  # on a phone, once the sources sheet has slid up to it
    source = page.locator(f"#{target}")
    expect(source.locator("mark.cb-quote")).to_be_visible()
    quote = source.locator("mark.cb-quote").inner_text().strip()  # what the reader sees, so never ""
    title = source.locator(".cb-source-title").inner_text().replace("[1]", "").strip()
    assert quote and title
    source.locator(".cb-open-article").click()
    hit = page.locator("#cb-reader-hit")
    # the article comes from the server: wait for it, then it shows the same quote (whitespace aside)
    expect(hit).to_have_text(" ".join(quote.split()), use_inner_text=True)
    expect(page.locator(".cb-reader-title")).to_have_text(title, use_inner_text=True)
    assert page.locator(".cb-reader-body h3, .cb-reader-body h4").count() > 2  # the whole article, by section
    page.wait_for_function("""(() => { const h = document.getElementById('cb-reader-hit').getBoundingClientRect();
        const e = document.querySelector('.cb-reader-body'), b = e.getBoundingClientRect();
        return e.scrollTop > 0 && h.top >= b.top && h.bottom <= b.bottom; })()""")  # scrolled to it in the reader
    page.screenshot(path=str(artifacts_dir / f"ui-{page.size}-article.png"))
    page.click(".cb-reader-close")
    page.locator(".cb-reader").wait_for(state="hidden")
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="Articles").click()  # the same reader from the Articles tab, at the top
    row = page.locator("#cb-articles tbody tr").first
    row.locator(".cb-open-article").click()
    expect(page.locator(".cb-reader-title")).to_have_text(row.locator("td.cb-title").inner_text(),
                                                          use_inner_text=True)
    assert page.locator("#cb-reader-hit").count() == 0
    assert page.locator(".cb-reader-body").evaluate("e => e.scrollTop") == 0


REMOVABLE = """# Harbour Pilot vs. Tugboat Captain

Apr. 4, 2026

## Salary

The invented Brinemark survey says a Harbour Pilot earns ${pay} per year.

## Duties

- Guiding ships through narrow harbour channels.
"""


def test_an_article_can_be_removed_after_a_confirmation_and_is_no_longer_answered(sized, tmp_path, served):
    page, pay = sized, {"desktop": "203,911", "phone": "204,922"}[sized.size]
    article = tmp_path / f"harbour_pilot_{page.size}.md"
    article.write_text(REMOVABLE.format(pay=pay), encoding="utf-8")
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#cb-upload input[type=file]", str(article))
    page.locator("#cb-upload", has_text=article.name).wait_for()
    page.click("#cb-add")
    status = page.locator("#cb-status .cb-ok").first
    status.wait_for()
    assert "Added “Harbour Pilot vs. Tugboat Captain”. You can ask about it now." in status.inner_text()
    assert article.name in status.get_attribute("title")  # the file name and counts only in the tooltip
    assert ".md" not in page.inner_text("#cb-articles") and ".txt" not in page.inner_text("#cb-articles")
    page.get_by_role("tab", name="Chat").click()
    question = "What does the Brinemark survey say a Harbour Pilot earns?"
    ask(page, question)
    assert pay in page.locator("#cb-chat .cb-answer").last.inner_text()

    page.get_by_role("tab", name="Articles").click()
    row = page.locator("#cb-articles tbody tr", has_text="Harbour Pilot vs. Tugboat Captain")
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    row.locator(".cb-remove").click()
    page.wait_for_timeout(300)
    assert dialogs and "Harbour Pilot vs. Tugboat Captain" in dialogs[0] and row.count() == 1  # cancelled
    page.once("dialog", lambda d: d.accept())
    row.locator(".cb-remove").click()
    page.locator("#cb-status .cb-ok", has_text="Removed").wait_for()
    assert row.count() == 0 and not (served["corpus"] / article.name).exists()
    page.get_by_role("tab", name="Chat").click()
    ask(page, question)
    last = page.locator("#cb-chat .cb-answer").last.inner_text()
    assert pay not in last
    assert all(a.source != article.name for a in served["kb"].articles())


def test_ratings_are_written_with_question_answer_and_citations(sized, served):
    page, path = sized, served["settings"].feedback_file()
    before = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    ask(page, GLASSDOOR)
    ask(page, "What is the best pizza in Naples?")
    likes = page.locator("#cb-chat button[aria-label='Like']")
    dislikes = page.locator("#cb-chat button[aria-label='Dislike']")
    assert likes.count() == 2
    likes.nth(0).click()
    dislikes.nth(1).click()
    lines: list[str] = []
    for _ in range(600):  # the rating is written by the server; wait for it (a bound, not a timing test)
        lines = path.read_text(encoding="utf-8").splitlines()[before:] if path.exists() else []
        if len(lines) >= 2:
            break
        page.wait_for_timeout(100)
    rows = [json.loads(line) for line in lines]
    assert [(r["question"], r["rating"]) for r in rows] == [(GLASSDOOR, "up"), ("What is the best pizza in Naples?",
                                                                              "down")]
    assert "153,000" in rows[0]["answer"] and rows[0]["citations"] and rows[0]["citations"][0]["quote"]
    assert rows[1]["abstained"] and rows[1]["citations"] == [] and rows[0]["time"]


def test_first_screen_names_the_articles_in_plain_words(sized, served):
    page = sized
    titles = [a.title for a in served["kb"].articles()]  # more than at start when an upload test ran first
    page.wait_for_function("n => document.getElementById('cb-chat').innerText.includes(n + ' articles')",
                           arg=len(titles))
    first = page.inner_text("#cb-chat")
    assert f"{len(titles)} articles" in first and all(t in first for t in titles)
    assert page.locator("#cb-chat button", has_text="?").count() >= 2  # examples drawn from them
    note = page.inner_text("#cb-mode")
    assert "no AI model" in note and "xtractive" not in note
    assert "xtractive" in page.locator("#cb-mode .cb-mode").get_attribute("title")  # the term, for who wants it


def test_a_long_question_shows_its_length_and_is_kept_when_refused(page):
    text = ("Pay and hours? " * 140)[:2099] + "?"  # 2,100 characters, none of them trailing space
    page.fill("#cb-question textarea", text)
    page.wait_for_function("document.getElementById('cb-counter').textContent.includes('shorten it by 100')")
    assert page.locator("#cb-counter").inner_text() == "2,100 / 2,000 characters: shorten it by 100"
    page.press("#cb-question textarea", "Enter")
    page.locator("#cb-notice [role=alert]", has_text="the limit is 2,000. Shorten it by 100").wait_for()
    assert len(page.locator("#cb-question textarea").input_value()) == 2100  # not cut, so it can be shortened
    assert page.locator("#cb-chat [data-testid=user]").count() == 0
