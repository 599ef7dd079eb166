"""The HTTP API beside the app, on the same port: the real `openai` client (streamed and not) against a real
server on 127.0.0.1, /api/search and /api/ask as JSON, error statuses, and the app's login protecting it."""
from __future__ import annotations

import json
import os
import socket

import httpx
import pytest
from conftest import MLE_VS_LEAD, app_process

from careerbot.errors import (
    CareerbotError,
    CorruptIndex,
    EmptyCorpus,
    EmptyQuery,
    IndexLocked,
    IndexNotFound,
    InvalidArgument,
    ModelUnavailable,
    QueryTooLong,
    StaleIndex,
    UnsupportedFile,
)
from careerbot.http_api import MAX_BODY_BYTES, authorized, conversation, status_for
from careerbot.payload import answer_payload, without_sources

openai = pytest.importorskip("openai")  # the test extra installs it

SALARY = "What is the average salary for a Lead Machine Learning Engineer according to Glassdoor?"
OFF_TOPIC = "What is the best pizza in Naples?"
AUTH = ("ann", "s3:cret")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def api_url(kb, settings):
    """build_app + launch(kb=...) in this process, as `careerbot serve` does, on a free loopback port."""
    from careerbot.ui import build_app, launch

    config = settings.with_overrides(port=_free_port(), llm="", auth="")
    server = launch(build_app(kb, config), config, block=False, kb=kb)
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="module")
def client(api_url):
    return openai.OpenAI(base_url=f"{api_url}v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, session_corpus, session_index):
    """`python app.py` with CAREERBOT_AUTH set, on a free loopback port (the real serve() path)."""
    import shutil

    work = tmp_path_factory.mktemp("guarded")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(session_corpus, corpus)
    shutil.copytree(session_index, index)
    with app_process(work, corpus, index, {"CAREERBOT_AUTH": ":".join(AUTH)}) as (url, port, log_path):
        yield {"url": url, "log": log_path, "port": port}


def _assert_cited(text: str, citations: list[dict]) -> None:
    assert citations and all(f"[{c['n']}]" in text for c in citations)
    for c in citations:
        assert {"title", "section", "date", "source", "quote", "passage"} <= set(c)
        assert c["quote"] and c["quote"].split()[0] in c["passage"]


# ----- the openai client ----------------------------------------------------------------------------
def test_openai_client_gets_a_cited_answer_with_the_sources_listed(client, kb):
    completion = client.chat.completions.create(model="careerbot",
                                                messages=[{"role": "user", "content": SALARY}])
    content = completion.choices[0].message.content
    citations = completion.model_extra["citations"]
    assert completion.model == "careerbot" and completion.choices[0].finish_reason == "stop"
    assert "153,000" in content and not completion.model_extra["abstained"]
    _assert_cited(content, citations)
    assert any("153,000" in c["quote"] and c["source"] == MLE_VS_LEAD for c in citations)
    assert without_sources(content) == kb.ask(SALARY).text  # the engine's answer, then the sources list
    listed = content[len(without_sources(content)):]
    assert listed.startswith("\n\nSources:\n[1] ") and all(c["title"] in listed for c in citations)


def test_openai_client_gets_a_refusal_without_sources(client):
    completion = client.chat.completions.create(model="careerbot",
                                                messages=[{"role": "user", "content": OFF_TOPIC}])
    content = completion.choices[0].message.content
    assert completion.model_extra["abstained"] and completion.model_extra["citations"] == []
    assert "articles" in content and "Sources:" not in content


def test_openai_client_streams_the_same_answer_in_chunks(client):
    whole = client.chat.completions.create(model="careerbot", messages=[{"role": "user", "content": SALARY}])
    chunks = list(client.chat.completions.create(model="careerbot", stream=True,
                                                 messages=[{"role": "user", "content": SALARY}]))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 2  # streamed in pieces, not one blob
    assert "".join(pieces) == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1 and chunks[-1].choices[0].finish_reason
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]
    assert len({c.id for c in chunks}) == 1 and all(c.object == "chat.completion.chunk" for c in chunks)


def test_openai_client_streams_a_refusal(client):
    chunks = list(client.chat.completions.create(model="careerbot", stream=True,
                                                 messages=[{"role": "user", "content": OFF_TOPIC}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].model_extra["abstained"] and chunks[-1].model_extra["citations"] == []
    assert "articles" in text and "Sources:" not in text


def test_follow_up_uses_the_conversation_without_its_sources_list(client):
    first = client.chat.completions.create(model="careerbot", messages=[{"role": "user", "content": SALARY}])
    follow_up = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": SALARY},
                 {"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": [{"type": "text", "text": "And what skills do they need?"}]}]
    answer = client.chat.completions.create(model="careerbot", messages=follow_up)
    alone = client.chat.completions.create(model="careerbot",
                                           messages=[{"role": "user", "content": "And what skills do they need?"}])
    assert "lead" in answer.model_extra["query"].lower() and answer.model_extra["query"] != alone.model_extra["query"]
    assert answer.model_extra["citations"]
    question, history = conversation(follow_up)
    assert question == "And what skills do they need?" and [m["role"] for m in history] == ["user", "assistant"]
    assert "Sources:" not in history[1]["content"]


def test_models_lists_careerbot(client):
    assert [m.id for m in client.models.list()] == ["careerbot"]


# ----- search and ask ------------------------------------------------------------------------------
def test_search_returns_the_engines_hits(api_url, kb):
    for mode in ("hybrid", "bm25", "dense"):
        response = httpx.post(f"{api_url}api/search", json={"query": SALARY, "k": 3, "mode": mode}, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["mode"] == mode and body["k"] == 3
        assert [h["chunk_id"] for h in body["hits"]] == [h.chunk_id for h in kb.search(SALARY, k=3, mode=mode)]
        assert {"rank", "score", "title", "section", "date", "source", "text"} <= set(body["hits"][0])


def test_ask_returns_the_same_payload_as_the_apps_chat_api(api_url, kb):
    response = httpx.post(f"{api_url}api/ask", json={"message": SALARY}, timeout=120)
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(answer_payload(kb.ask(SALARY))))
    history = [{"role": "user", "content": SALARY}, {"role": "assistant", "content": response.json()["answer"]}]
    follow = httpx.post(f"{api_url}api/ask", json={"message": "And what skills do they need?",
                                                    "history": history}, timeout=120).json()
    assert "lead" in follow["query"].lower() and follow["citations"]


# ----- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, body, status, says", [
    ("api/ask", {"message": "   "}, 400, "empty"),
    ("api/ask", {"message": "x " * 1500}, 413, "limit"),
    ("api/ask", {}, 400, "text"),
    ("api/search", {"query": SALARY, "k": 0}, 400, "k must be"),
    ("api/search", {"query": SALARY, "mode": "fuzzy"}, 400, "mode must be"),
    ("api/search", ["not", "an", "object"], 400, "JSON object"),
    ("v1/chat/completions", {"messages": []}, 400, "messages"),
    ("v1/chat/completions", {"messages": [{"role": "assistant", "content": "hi"}]}, 400, "question"),
    ("v1/chat/completions", {"messages": [{"role": "user", "content": 42}]}, 400, "content"),
    ("v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": SALARY}]}, 404,
     "careerbot"),
    ("v1/chat/completions", {"stream": True, "messages": [{"role": "user", "content": ""}]}, 400, "empty"),
    ("v1/chat/completions", {"stream": True, "messages": [{"role": "user", "content": "y" * 2500}]}, 413, "limit"),
])
def test_bad_requests_get_a_json_error_with_a_fitting_status(api_url, path, body, status, says):
    response = httpx.post(f"{api_url}{path}", json=body, timeout=120)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in error["message"] and error["code"] == status and "Traceback" not in response.text


def test_malformed_and_oversized_bodies_are_refused(api_url):
    broken = httpx.post(f"{api_url}api/ask", content=b"{not json", timeout=60)
    assert broken.status_code == 400 and "must be JSON" in broken.json()["error"]["message"]
    huge = httpx.post(f"{api_url}api/ask", content=b" " * (MAX_BODY_BYTES + 1), timeout=60)
    assert huge.status_code == 413 and "limit" in huge.json()["error"]["message"]


def test_openai_client_raises_on_error_statuses(client):
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.chat.completions.create(model="careerbot", messages=[{"role": "user", "content": "  "}])
    with pytest.raises(openai.APIStatusError) as too_long:
        client.chat.completions.create(model="careerbot", messages=[{"role": "user", "content": "z" * 2500}])
    assert too_long.value.status_code == 413
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": SALARY}])


def test_domain_errors_map_to_http_statuses():
    assert status_for(EmptyQuery("x")) == status_for(InvalidArgument("x")) == 400
    assert status_for(QueryTooLong("x")) == 413
    for not_ready in (IndexNotFound, StaleIndex, CorruptIndex, EmptyCorpus, IndexLocked, ModelUnavailable):
        assert status_for(not_ready("x")) == 503, not_ready
    assert status_for(UnsupportedFile("x")) == status_for(CareerbotError("x")) == 500


# ----- auth ----------------------------------------------------------------------------------------
def test_credentials_are_checked_for_basic_and_bearer():
    import base64

    basic = "Basic " + base64.b64encode(b"ann:s3:cret").decode()
    assert authorized("", None) and authorized("anything", None)
    assert authorized(basic, AUTH) and authorized("Bearer ann:s3:cret", AUTH)
    for wrong in ("", "Bearer ann:wrong", "Bearer s3:cret", "Basic !!!", "Basic " + base64.b64encode(b"ann:x").decode(),
                  "Token ann:s3:cret"):
        assert not authorized(wrong, AUTH), wrong


@pytest.mark.slow
def test_the_apps_login_protects_the_api_on_the_same_port(guarded):
    url = guarded["url"]
    assert f"Running on local URL:  http://127.0.0.1:{guarded['port']}" in guarded["log"].read_text()
    for method, path, body in (("GET", "v1/models", None), ("POST", "v1/chat/completions", {
            "messages": [{"role": "user", "content": SALARY}]}), ("POST", "api/ask", {"message": SALARY}),
            ("POST", "api/search", {"query": SALARY})):
        refused = httpx.request(method, f"{url}{path}", json=body, timeout=120)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert "CAREERBOT_AUTH" in refused.json()["error"]["message"]
        wrong = httpx.request(method, f"{url}{path}", json=body, auth=("ann", "guess"), timeout=120)
        assert wrong.status_code == 401
        allowed = httpx.request(method, f"{url}{path}", json=body, auth=AUTH, timeout=120)
        assert allowed.status_code == 200, allowed.text
    outsider = openai.OpenAI(base_url=f"{url}v1", api_key="ann:guess", max_retries=0, timeout=120)
    with pytest.raises(openai.AuthenticationError):
        outsider.models.list()
    member = openai.OpenAI(base_url=f"{url}v1", api_key=":".join(AUTH), max_retries=0, timeout=120)
    completion = member.chat.completions.create(model="careerbot", messages=[{"role": "user", "content": SALARY}])
    assert "153,000" in completion.choices[0].message.content
    assert httpx.get(f"{url}config", timeout=60).status_code == 401  # the app itself still asks for the login
    from gradio_client import Client

    chat = Client(url, auth=AUTH, verbose=False).predict(SALARY, api_name="/chat")  # and its /chat API still works
    assert chat["answer"] == without_sources(completion.choices[0].message.content)


def test_workers_default_to_a_full_encoder_batch_and_refuse_negative_counts():
    from careerbot import Settings
    from careerbot.index.embed import BATCH_TEXTS

    assert Settings().workers() == max(BATCH_TEXTS, os.cpu_count() or 1)
    assert Settings(concurrency=3).workers() == 3
    assert Settings.from_env({"CAREERBOT_CONCURRENCY": "1"}).workers() == 1
    with pytest.raises(InvalidArgument, match="concurrency"):
        Settings(concurrency=-1)
