"""The `careerbot` command: build and update the index, search, ask, evaluate and serve.

Usage: careerbot index build && careerbot search "what do lead ML engineers earn?"
Heavy libraries are imported inside the commands that need them, so `--help` is instant.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from .errors import CareerbotError
from .records import section_label
from .settings import ENV_PREFIX, RETRIEVAL_MODES, Settings, allowed, choices

# The flags that set a Settings field (flag → field). Their help, default, type and choices come from the field.
SETTING_FLAGS = {"corpus": "corpus_dir", "index": "index_dir", "store": "store", "ray": "ray", "k": "k",
                 "mode": "retrieval", "llm": "llm", "host": "host", "port": "port"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("query", "question"):  # undecodable argv bytes arrive as lone surrogates; they cannot be printed
        if isinstance(getattr(args, name, None), str):
            setattr(args, name, getattr(args, name).encode("utf-8", "replace").decode("utf-8"))
    logging.basicConfig(level=logging.WARNING, format="careerbot: warning: %(message)s", stream=sys.stderr)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(overrides={field: getattr(args, field, None) for field in SETTING_FLAGS.values()},
                                     names={field: f"--{flag}" for flag, field in SETTING_FLAGS.items()})
        return args.handler(args, settings) or 0
    except CareerbotError as exc:
        print(f"careerbot: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("careerbot: interrupted; the previous index is intact", file=sys.stderr)
        return 130


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="careerbot",
                                     description="Offline, cited answers from a collection of career articles.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    index = commands.add_parser("index", help="build, update or inspect the index")
    index_commands = index.add_subparsers(title="index commands", metavar="ACTION")
    for name, handler, text in (("build", cmd_build, "(re)build the whole index from the corpus"),
                                ("update", cmd_update, "embed only new or changed articles, drop removed ones"),
                                ("info", cmd_info, "show the indexed articles, chunk counts, model and build time")):
        sub = index_commands.add_parser(name, help=text, description=text)
        _add_dirs(sub)
        if name == "info":
            sub.add_argument("--json", action="store_true", help="print JSON instead of text")
        else:
            _setting(sub, "ray", nargs="?", const="local", metavar="ADDRESS", more="--ray alone: a local one")
        sub.set_defaults(handler=handler)
    index.set_defaults(handler=lambda args, settings: _help(index))

    search = commands.add_parser("search", help="print the passages ranked for a question")
    search.add_argument("query")
    _setting(search, "k")
    _setting(search, "mode")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_dirs(search, corpus=False)
    search.set_defaults(handler=cmd_search)

    ask = commands.add_parser("ask", help="answer a question with numbered citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    _setting(ask, "llm")
    _add_dirs(ask, corpus=False)
    ask.set_defaults(handler=cmd_ask)

    evaluate = commands.add_parser("eval", help="retrieval and answer quality on a BEIR folder or our questions")
    evaluate.add_argument("dataset", nargs="?", help="BEIR-format folder (default: careerbot's own question set)")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    evaluate.add_argument("--split", default="test", help="qrels split to score (default test)")
    evaluate.add_argument("--modes", default=",".join(RETRIEVAL_MODES),
                          help=f"comma-separated retrieval modes (default {','.join(RETRIEVAL_MODES)})")
    _add_dirs(evaluate, corpus=False)
    evaluate.set_defaults(handler=cmd_eval)

    defaults = Settings()
    serve = commands.add_parser("serve", help=f"start the chat app (default http://{defaults.host}:{defaults.port})")
    for flag in ("host", "port", "llm"):
        _setting(serve, flag)
    _add_dirs(serve)
    serve.set_defaults(handler=cmd_serve)
    return parser


def _add_dirs(parser: argparse.ArgumentParser, corpus: bool = True) -> None:
    for flag in ("corpus", "index", "store") if corpus else ("index", "store"):
        _setting(parser, flag)


def _setting(parser: argparse.ArgumentParser, flag: str, more: str = "", **options) -> None:
    """--FLAG for a Settings field: its description and default as help, its type, its choices. The flag's
    default is None, so an unset flag leaves the field to CAREERBOT_<FIELD> or the field's default."""
    name = SETTING_FLAGS[flag]
    field = Settings.model_fields[name]
    default = f"{field.default}" if field.default != "" else "none"
    text = f"{field.description}{'; ' + more if more else ''} (default {default}, or ${ENV_PREFIX}{name.upper()})"
    if field.annotation in (int, float):
        options.setdefault("type", field.annotation)
    if not choices(name):
        options.setdefault("metavar", flag.upper())  # --index INDEX, not the field's name
    parser.add_argument(f"--{flag}", dest=name, default=None, choices=choices(name) or None,
                        help=text.replace("%", "%%"), **options)


def _progress_printer():
    """Stage lines on stderr; the embedding bars come from sentence-transformers on a terminal."""
    def report(fraction: float, message: str) -> None:
        if fraction < 1.0:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
    return report


def cmd_build(args, settings: Settings) -> int:
    from .kb import KnowledgeBase

    kb = KnowledgeBase.build(settings.corpus_dir, settings.index_dir, settings, _progress_printer())
    _print_report(kb, "built")
    return 0


def cmd_update(args, settings: Settings) -> int:
    from .kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.index_dir, settings)
    report = kb.update(settings.corpus_dir, _progress_printer())
    if not report.changed_anything and not report.skipped:
        print(f"{kb.store.location} is up to date with {settings.corpus_dir} "
              f"({len(report.unchanged)} article(s), {report.chunks_total} chunks)")
        return 0
    for reason in report.skipped:
        print(f"  skipped: {reason}")
    print(f"updated {kb.store.location}: {report.summary()}")
    for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for name in names:
            print(f"  {label}: {name}")
    return 0


def _print_report(kb, verb: str) -> None:
    info = kb.info()
    counts = info["counts"]
    print(f"{verb} {kb.store.location}: {counts['articles']} article(s), {counts['chunks']} chunks, "
          f"{counts['units']} sentences, model {info['model']}")


def cmd_info(args, settings: Settings) -> int:
    from .kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.index_dir, settings)
    info = kb.info()
    articles = [asdict(a) for a in kb.articles()]
    diff = kb.diff(settings.corpus_dir)
    if args.json:
        print(json.dumps({**info, "articles": articles, "corpus_current": diff.is_current}, indent=2))
        return 0
    print(f"index:      {info['index']}\nmodel:      {info['model']} ({info['dimension']} dims, "
          f"{info['index_type']})\nbuilt:      {info['built_at']}\nchunks:     {info['counts']['chunks']} "
          f"({info['counts']['units']} sentences)\nchunker:    {info['chunker']}")
    print(f"articles:   {len(articles)}")
    for article in articles:
        # A title the page does not state is flagged, so a wrong guess is easy to spot and fix in the file.
        guessed = "  (title from the file name)" if article["title_from"] == "file name" else ""
        print(f"  {article['chunks']:>4} chunks  {article['date'] or '—':<20} {article['title']}  "
              f"[{article['source']}]{guessed}")
    if not diff.is_current:
        print(f"corpus:     changed since the build ({len(diff.added)} new, {len(diff.changed)} changed, "
              f"{len(diff.removed)} removed); run: careerbot index update")
    return 0


def cmd_search(args, settings: Settings) -> int:
    from .kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.index_dir, settings)
    hits = kb.search(args.query)  # k and mode: settings, with --k and --mode applied
    if args.json:
        print(json.dumps([asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no passages found")
    for hit in hits:
        print(f"[{hit.rank}] {hit.score:.3f}  {section_label((hit.title, *hit.section))}  ({hit.source})")
        for line in hit.text.split("\n"):
            print(f"    {line}")
        print()
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from .kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.index_dir, settings)
    answer = kb.ask(args.question)
    if args.json:
        print(json.dumps(answer_to_json(answer), indent=2, ensure_ascii=False))
        return 0
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        for citation in answer.citations:
            hit = citation.hit
            where = section_label((hit.title, *hit.section))
            print(f"  [{citation.n}] {where} ({hit.date or 'undated'}, {hit.source})")
    print(f"\n(mode: {answer.mode})")
    return 0


def answer_to_json(answer) -> dict:
    """An Answer as plain JSON (used by `ask --json` and scripts)."""
    return {"question": answer.question, "text": answer.text, "abstained": answer.abstained,
            "mode": answer.mode, "query": answer.query,
            "citations": [{"n": c.n, "quote": c.quote, **asdict(c.hit)} for c in answer.citations]}


def cmd_eval(args, settings: Settings) -> int:
    """`careerbot eval [DATASET] [--json] [--split S] [--modes M,...] [--index DIR]`: a BEIR folder, or a
    question file (careerbot's own by default)."""
    from .errors import InvalidArgument
    from .evaluation.questions import default_questions, evaluate_questions, format_questions

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in RETRIEVAL_MODES]
    if bad or not modes:
        raise InvalidArgument(f"--modes takes {allowed('retrieval')}, comma-separated; not {','.join(bad)!r}")
    progress = settings.show_progress()
    dataset = Path(args.dataset) if args.dataset else None
    if dataset is not None and dataset.is_dir():
        from .evaluation.beir import evaluate_beir, format_beir

        report = evaluate_beir(dataset, settings, modes, args.split or "test", progress)
        text = format_beir(report)
    else:
        from .kb import KnowledgeBase

        kb = KnowledgeBase.load(settings.index_dir, settings)
        report = evaluate_questions(kb, dataset or default_questions(), modes, progress)
        text = format_questions(report)
    print(json.dumps(report, indent=2) if args.json else text)
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .ui import serve

    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
