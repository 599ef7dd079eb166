"""The careerbot command in-process: messages, JSON output and exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import MLE_VS_LEAD, ROOT

from careerbot.cli import main


def test_search_json_ranks_glassdoor_first(session_index, capsys):
    code = main(["search", "How much does a Lead Machine Learning Engineer earn?", "--json", "--k", "3",
                 "--index", str(session_index)])
    hits = json.loads(capsys.readouterr().out)
    assert code == 0 and len(hits) == 3
    assert hits[0]["source"] == MLE_VS_LEAD and "$153,000" in hits[0]["text"]
    assert {"title", "section", "score", "chunk_id", "date"} <= set(hits[0])


def test_search_text_output(session_index, capsys):
    assert main(["search", "CircleCI", "--index", str(session_index), "--k", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] ") and "CircleCI" in out and "Tools and Software Used" in out


def test_errors_are_messages_with_exit_codes(session_index, tmp_path, capsys):
    assert main(["search", "  ", "--index", str(session_index)]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["search", "x", "--k", "0", "--index", str(session_index)]) == 2
    assert main(["search", "x", "--index", str(tmp_path / "none")]) == 3
    err = capsys.readouterr().err
    assert "careerbot index build" in err and "Traceback" not in err
    assert main(["index", "build", "--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "i")]) == 6


def test_build_update_info_cycle(writable, capsys):
    corpus, index = writable
    args = ["--corpus", str(corpus), "--index", str(index)]
    assert main(["index", "update", *args]) == 0
    assert "up to date" in capsys.readouterr().out
    (corpus / "zz_new.md").write_text("# Robotics Engineer\n\n## Salary\n\nRobotics engineers earn "
                                      "$101,010 on average.\n", encoding="utf-8")
    assert main(["index", "info", *args]) == 0
    assert "changed since the build" in capsys.readouterr().out
    assert main(["index", "update", *args]) == 0
    out = capsys.readouterr().out
    assert "added 1" in out and "embedded 1 of" in out and "zz_new.md" in out
    assert main(["index", "info", "--json", *args]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["articles"] == 5 and info["corpus_current"] is True
    assert "Robotics Engineer" in [a["title"] for a in info["articles"]]


def test_console_script_help_does_not_import_heavy_libraries():
    code = ("import sys, careerbot.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'gradio', 'faiss', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().endswith("[]")


def test_undecodable_question_bytes_are_printed_not_crashed_on(session_index, capsys):
    # A lone surrogate is what Python makes of undecodable argv bytes (found by Hypothesis).
    assert main(["ask", "\ud8000", "--json", "--index", str(session_index)]) in (0, 2)
    out = capsys.readouterr().out
    if out:
        json.loads(out)


def test_info_says_when_a_title_comes_from_the_file_name(tmp_path, capsys):
    from conftest import CORPUS, RS_VS_LEAD

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    pages = ROOT / "tests" / "fixtures" / "pages"
    for source in (CORPUS / RS_VS_LEAD, pages / "long_opening_paragraph.txt", pages / "nurse_salary_guide.md"):
        (corpus / source.name).write_bytes(source.read_bytes())
    args = ["--corpus", str(corpus), "--index", str(index)]
    assert main(["index", "build", *args]) == 0
    capsys.readouterr()
    assert main(["index", "info", *args]) == 0
    lines = {line.split("[")[-1].split("]")[0]: line for line in capsys.readouterr().out.splitlines() if "[" in line}
    assert "Long opening paragraph" in lines["long_opening_paragraph.txt"]
    assert "(title from the file name)" in lines["long_opening_paragraph.txt"]
    nurse = lines["nurse_salary_guide.md"]
    assert "Registered Nurse Salary Guide" in nurse and "2024-05-02" in nurse
    assert "from the file name" not in lines[RS_VS_LEAD]
