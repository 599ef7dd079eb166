"""Settings: typed from CAREERBOT_* variables, bad values refused in one line naming where they came from,
frozen; the CLI's flags and the docs' table made from the same fields; nothing set up at import. No model."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from conftest import ROOT

from careerbot.cli import SETTING_FLAGS, build_parser, main
from careerbot.errors import InvalidArgument, UnsupportedFile
from careerbot.files import NAMED_SUFFIXES, SUPPORTED_SUFFIXES, format_of, sha256_file, supported_format
from careerbot.settings import RETRIEVAL_MODES, Settings, allowed, check_mode, choices, settings_table

FIELDS = Settings.model_fields


def test_variables_are_typed_and_only_from_env_reads_them(monkeypatch):
    monkeypatch.setenv("CAREERBOT_K", "8")
    monkeypatch.setenv("careerbot_alpha", "0.3")  # names are case-insensitive, as pydantic-settings reads them
    monkeypatch.setenv("CAREERBOT_EXPAND_NEIGHBOURS", "no")
    monkeypatch.setenv("CAREERBOT_FUSION", "rrf")
    monkeypatch.setenv("CAREERBOT_LLM_API_KEY", "not a setting")  # other CAREERBOT_ variables are no error
    settings = Settings.from_env()
    assert (settings.k, settings.alpha, settings.expand_neighbours, settings.fusion) == (8, 0.3, False, "rrf")
    assert Settings() == Settings.from_env({}) and Settings().k == FIELDS["k"].default  # Settings() reads no globals
    assert Settings.from_env({"CAREERBOT_PORT": "8000"}, overrides={"port": 9000, "k": None}).port == 9000


@pytest.mark.parametrize("name", [n for n, f in FIELDS.items() if choices(n) or f.annotation in (int, float)])
def test_every_bad_value_is_one_line_naming_the_setting_what_it_takes_and_the_variable(name):
    lowest = [getattr(m, "ge", getattr(m, "gt", None)) for m in FIELDS[name].metadata]
    bad = "neither" if choices(name) else str(min(v for v in lowest if v is not None) - 1)  # every number has one
    with pytest.raises(InvalidArgument) as refused:
        Settings.from_env({f"CAREERBOT_{name.upper()}": bad})
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{name} must be {allowed(name)}, not {bad!r}")
    assert message.endswith(f"(set by CAREERBOT_{name.upper()})")
    assert all(str(choice) in message for choice in choices(name))


def test_cross_field_and_url_checks_and_misspelt_settings():
    with pytest.raises(InvalidArgument, match=r"chunk_overlap must be below half of chunk_tokens \(64\), not 40"):
        Settings(chunk_tokens=64, chunk_overlap=40)
    with pytest.raises(InvalidArgument, match=r"chunk_overlap must be below half of chunk_tokens \(40\), not 32"):
        Settings(chunk_tokens=40)  # the default overlap is checked against a given chunk size too
    with pytest.raises(InvalidArgument, match="store must be a postgresql://.* not 'mysql://db'"):
        Settings.from_env({"CAREERBOT_STORE": "mysql://db"})
    with pytest.raises(InvalidArgument, match="'chunk_token' is not a setting; the settings are corpus_dir"):
        Settings(chunk_token=100)
    with pytest.raises(InvalidArgument, match="k must be a whole number ≥ 1, not 1.5"):
        Settings(k=1.5)
    with pytest.raises(InvalidArgument, match="expand_neighbours must be true or false, not 'maybe'"):
        Settings.from_env({"CAREERBOT_EXPAND_NEIGHBOURS": "maybe"})


def test_settings_are_frozen_and_copies_are_checked():
    settings = Settings()
    with pytest.raises(ValueError):
        settings.k = 8  # type: ignore[misc]
    assert settings.with_overrides(k=8, llm=None).k == 8 and settings.k == 5
    with pytest.raises(InvalidArgument, match="per_article_cap must be a whole number ≥ 0, not -1"):
        settings.with_overrides(per_article_cap=-1)
    assert hash(settings) == hash(Settings()) and Settings(**json.loads(json.dumps(settings.model_dump()))) == settings


def test_cli_flags_take_help_default_type_and_choices_from_the_fields():
    actions = {a.dest: a for sub in _subparsers(build_parser()) for a in sub._actions if a.dest in FIELDS}
    assert set(actions) == set(SETTING_FLAGS.values())
    for name, action in actions.items():
        field = FIELDS[name]
        assert action.default is None  # an unset flag leaves the variable or the default
        assert field.description in action.help and f"$CAREERBOT_{name.upper()}" in action.help
        assert str(field.default or "none") in action.help
        assert tuple(action.choices or ()) == choices(name)
        assert action.type in (None, field.annotation)
    assert actions["retrieval"].option_strings == ["--mode"] and tuple(actions["retrieval"].choices) == RETRIEVAL_MODES


def _subparsers(parser):
    yield parser
    for action in parser._actions:
        for sub in getattr(action, "choices", None) or {}:
            if isinstance(action.choices, dict):
                yield from _subparsers(action.choices[sub])


def test_cli_errors_name_the_flag_or_the_variable(tmp_path, capsys, monkeypatch):
    assert main(["search", "x", "--k", "0", "--index", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "careerbot: error: k must be a whole number ≥ 1, not 0 (set by --k)\n"
    monkeypatch.setenv("CAREERBOT_PORT", "http")
    assert main(["search", "x", "--index", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith("not 'http' (set by CAREERBOT_PORT)")
    monkeypatch.delenv("CAREERBOT_PORT")
    assert main(["eval", "--modes", "dense,sparse", "--index", str(tmp_path)]) == 2
    assert "--modes takes dense, bm25 or hybrid" in capsys.readouterr().err


def test_retrieval_modes_are_one_list():
    assert RETRIEVAL_MODES == choices("retrieval") == ("dense", "bm25", "hybrid")
    assert check_mode("bm25") == "bm25"
    with pytest.raises(InvalidArgument, match="mode must be dense, bm25 or hybrid, not 'sparse'"):
        check_mode("sparse")


def test_the_docs_settings_table_is_the_generated_one():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert settings_table() in doc, "the docs' settings table is stale: python scripts/settings_table.py --write"
    for name, field in FIELDS.items():
        assert f"| `{name}` |" in settings_table() and field.description


def test_formats_and_file_hash(tmp_path):
    assert [format_of(f"a{s.upper()}") for s in SUPPORTED_SUFFIXES] == ["txt", "md", "md", "html", "html"]
    assert NAMED_SUFFIXES == (".txt", ".md", ".html") and format_of("notes.pdf") is None
    with pytest.raises(UnsupportedFile, match=r"^sub/x\.pdf: unsupported type \.pdf; use \.txt, \.md or \.html$"):
        supported_format("x.pdf", "sub/x.pdf")
    data = bytes(range(256)) * 5000  # over a read block
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_importing_careerbot_starts_no_thread_and_sets_no_variable():
    # Every module but ui/ (gradio) and embed.py, which still set variables at import (left to their owners);
    # embed is imported before the snapshot, as other modules import it.
    code = ("import os, pkgutil, importlib, threading, careerbot, careerbot.index.embed\n"
            "from concurrent.futures import Executor\n"
            "before = dict(os.environ)\n"
            "names = [m.name for m in pkgutil.walk_packages(careerbot.__path__, 'careerbot.')\n"
            "         if not m.name.startswith('careerbot.ui')]\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "pools = sum(isinstance(value, Executor) for name in names  # a pool starts its threads lazily\n"
            "            for value in vars(importlib.import_module(name)).values())\n"
            "print(len(names), threading.active_count(), pools, sorted(set(os.environ.items()) ^ set(before.items())))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    count, threads, pools, changed = out.split(" ", 3)
    assert int(count) > 20 and (threads, pools) == ("1", "0") and changed.strip() == "[]"
