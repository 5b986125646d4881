"""Command line: ``policyqa COMMAND ...`` (see ``policyqa --help``).

Exit status: 0 success (an answer or an honest refusal is a success), 1 when
some input was skipped or a run failed, 2 for misuse of the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _report_skipped(skipped) -> None:
    for s in skipped:
        _err(s.reason)


# --- corpus -------------------------------------------------------------------


def cmd_ingest(args) -> int:
    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.corpus.pipeline import chunk_documents, load_corpus, write_jsonl

    report = load_corpus(args.paths)
    _report_skipped(report.skipped)
    chunks = chunk_documents(report.documents, ChunkerConfig(args.max_chars, args.min_chars))
    out = sys.stdout if args.out == "-" else None
    rows = (c.to_dict() for c in chunks)
    if out:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        write_jsonl(args.out, rows)
    _err(f"{len(report.documents)} documents, {len(chunks)} chunks"
         + (f" -> {args.out}" if args.out != "-" else "")
         + (f"; {len(report.skipped)} skipped" if report.skipped else ""))
    return 1 if report.skipped else 0


def cmd_docs(args) -> int:
    if args.items:
        from policyqa.match_commands import cmd_doc_items

        return cmd_doc_items(args)
    metas = None
    skipped = ()
    if args.corpus is None:
        from policyqa.settings import Settings

        settings = Settings.from_env()
        index_dir = Path(args.index) if args.index else settings.index_dir
        if settings.backend == "milvus" and not args.index:
            from policyqa.index.backend import load_backend
            from policyqa.index.store import IndexStoreError

            try:
                metas = list(load_backend("milvus", milvus=settings.milvus()).docs.values())
            except IndexStoreError as e:
                _err(str(e))
                return 1
        elif (index_dir / "manifest.json").exists():
            from policyqa.index.store import IndexStore

            metas = list(IndexStore.load(index_dir).docs.values())
    if metas is None:
        from policyqa.corpus.pipeline import load_corpus

        report = load_corpus(args.corpus)
        metas, skipped = [d.meta for d in report.documents], report.skipped
        _report_skipped(skipped)
    rows = [m.summary() for m in metas]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            print(f"{r['doc_id']}\t{r['region'] or '-'}\t{r['date'] or '-'}\t{r['doc_type'] or '-'}\t"
                  f"{r['doc_number'] or '-'}\t{r['title'] or '(无标题)'}")
    return 1 if skipped else 0


def build_parser() -> argparse.ArgumentParser:
    from policyqa.corpus.chunk import ChunkerConfig

    p = argparse.ArgumentParser(prog="policyqa", description="政策问答: cited answers from Chinese policy documents")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("ingest", help="load, clean and chunk documents into a chunks.jsonl")
    s.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .docx .pdf .jsonl)")
    s.add_argument("--out", required=True, help="output JSON Lines file ('-' for stdout)")
    s.add_argument("--max-chars", type=int, default=ChunkerConfig.max_chars, help=f"chunk size limit in characters (default {ChunkerConfig.max_chars})")
    s.add_argument("--min-chars", type=int, default=ChunkerConfig.min_chars, help=f"smaller fragments join a neighbour (default {ChunkerConfig.min_chars})")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("docs", help="list documents with their metadata")
    s.add_argument("--json", action="store_true", help="print a JSON array")
    s.add_argument("--corpus", nargs="+", help="list these files/folders instead of the index")
    s.add_argument("--index", help="index directory (default: the built-in knowledge base's index)")
    s.add_argument("--items", metavar="DOC", help="list the policy items (amounts, tiers, conditions) extracted from document DOC")
    s.set_defaults(func=cmd_docs)

    from policyqa import commands

    commands.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # the benchmark has its own options (--quick, --full, …)
        from policyqa.eval.bench import main as bench_main

        return int(bench_main(argv[1:]) or 0)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
