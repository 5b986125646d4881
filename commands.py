"""CLI sub-commands of the later pipeline stages: index, answers, evaluation, app."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


INDEX_BACKENDS = ("inprocess", "milvus")


def _settings(args):
    from policyqa.settings import Settings

    # --backend names the index backend (inprocess | milvus); an embedding backend
    # name (torch, onnx, ...) given there is still taken as --embedding-backend.
    backend = getattr(args, "backend", None)
    index_backend = backend if backend in INDEX_BACKENDS else None
    embedding_backend = getattr(args, "embedding_backend", None) or (backend if backend and not index_backend else None)
    return Settings.from_env(index_dir=getattr(args, "index", None), embedding_model=getattr(args, "model", None),
                             embedding_backend=embedding_backend, backend=index_backend,
                             milvus_uri=getattr(args, "milvus_uri", None), milvus_collection=getattr(args, "collection", None))


# --- index ---------------------------------------------------------------------


def cmd_build(args) -> int:
    from policyqa.qa.service import build_index

    settings = _settings(args)
    try:
        store, skipped = build_index(settings, args.corpus, progress=not args.quiet)
    except Exception as e:
        _err(f"build failed: {e}")
        return 1
    for s in skipped:
        _err(s.reason)
    m = store.manifest
    _err(f"index {settings.index_label}: {len(store.docs)} documents, {m['n_chunks']} chunks, "
         f"model {m['embedding']['model']} ({m['embedding']['backend']}), {m['build_seconds']:.1f} s"
         + (f"; {len(skipped)} files skipped" if skipped else ""))
    return 1 if skipped else 0


def cmd_migrate(args) -> int:
    """Copy the in-process index (chunks, metadata, vectors: nothing re-embedded) into Milvus."""
    import time

    from policyqa.index.backend import migrate
    from policyqa.index.store import IndexStore, IndexStoreError

    settings = _settings(args)
    t0 = time.monotonic()
    try:
        source = IndexStore.load(settings.index_dir)
        target = migrate(source, args.to, milvus=settings.milvus(), progress=_err)
    except (IndexStoreError, ValueError) as e:
        _err(f"migrate failed: {e}")
        return 1
    _err(f"migrated {len(target.docs)} documents, {target.n_chunks} chunks from {settings.index_dir} to "
         f"{target.config.label} in {time.monotonic() - t0:.1f} s; serve it with POLICYQA_BACKEND=milvus"
         + (f" POLICYQA_MILVUS_URI={target.config.uri}" if target.config.uri != settings.milvus().uri else ""))
    return 0


def _open_kb(args, build_if_missing=True):
    from policyqa.index.store import IndexStoreError
    from policyqa.qa.service import KnowledgeBase

    try:
        return KnowledgeBase.open(_settings(args), build_if_missing=build_if_missing, progress=True)
    except IndexStoreError as e:
        _err(str(e))
        return None


def cmd_add(args) -> int:
    kb = _open_kb(args)
    if kb is None:
        return 1
    from policyqa.index.lockfile import IndexBusy
    from policyqa.index.store import IndexStoreError

    try:
        rep = kb.add(args.files, progress=True)
    except (IndexStoreError, IndexBusy) as e:
        _err(f"add failed, nothing changed: {e}")
        return 1
    for s in rep.skipped:
        _err(s.reason)
    _err(f"added {len(rep.added)}, replaced {len(rep.replaced)} documents; embedded {rep.chunks_embedded} chunks"
         + (f"; {len(rep.skipped)} skipped" if rep.skipped else ""))
    return 1 if rep.skipped or not (rep.added or rep.replaced) else 0


def cmd_remove(args) -> int:
    kb = _open_kb(args, build_if_missing=False)
    if kb is None:
        return 1
    from policyqa.index.lockfile import IndexBusy
    from policyqa.index.store import IndexStoreError

    try:
        n = kb.remove(args.doc_id)
    except KeyError as e:
        _err(str(e.args[0]))
        return 1
    except (IndexStoreError, IndexBusy) as e:
        _err(f"remove failed, nothing changed: {e}")
        return 1
    _err(f"removed {args.doc_id} ({n} chunks)")
    return 0


# --- answers -------------------------------------------------------------------


def _filters(args):
    from policyqa.index.types import Filters

    return Filters(region=args.region or "", doc_ids=tuple(args.doc or ()))


def _history(path: str | None):
    if not path:
        return None
    from policyqa.web.jsonbody import BadJSON, loads_checked

    try:
        data = loads_checked(Path(path).read_bytes(), max_bytes=10_000_000, what=f"--history {path}")
    except BadJSON as e:
        raise ValueError(str(e)) from None
    if not isinstance(data, list) or not all(isinstance(t, dict) and isinstance(t.get("question"), str) for t in data):
        raise ValueError('--history must be a JSON list of {"question", "answer"} objects')
    return data


def cmd_ask(args) -> int:
    try:
        history = _history(args.history)
    except (OSError, ValueError) as e:
        _err(f"policyqa ask: {e}")
        return 2
    if args.top_k is not None and not (1 <= args.top_k <= 50):
        _err("policyqa ask: --top-k must be between 1 and 50")
        return 2
    from policyqa.qa.answerer import invalid_answer

    a = invalid_answer(args.question)  # an empty or oversized question is answered without loading the index
    if a is None:
        kb = _open_kb(args)
        if kb is None:
            return 1
        a = kb.answer(args.question, history=history, filters=_filters(args), top_k=args.top_k)
    if args.json:
        print(json.dumps(a.to_json(), ensure_ascii=False))
    else:
        if a.resolved_question and a.resolved_question != a.question:
            print(f"（理解为：{a.resolved_question}）")
        print(a.text)
    return 0


def cmd_chat(args) -> int:
    kb = _open_kb(args)
    if kb is None:
        return 1
    from policyqa.qa.types import Turn

    history: list[Turn] = []
    print("政策问答 — 输入问题，回车提问；「新对话」清空上下文；Ctrl-D 退出。")
    while True:
        try:
            q = input("\n问> ")
        except EOFError:
            print()
            return 0
        if q.strip() in ("新对话", "/new"):
            history = []
            print("（已开始新对话）")
            continue
        a = kb.answer(q, history=history, filters=_filters(args))
        if a.resolved_question and a.resolved_question != q.strip():
            print(f"（理解为：{a.resolved_question}）")
        print(a.text)
        if a.kind != "invalid":
            history.append(Turn(q, a.text, a.resolved_question))


# --- evaluation ----------------------------------------------------------------


def cmd_eval(args) -> int:
    from policyqa.eval.run import CONFIGS, evaluate, write_report

    names = args.config or ["default"]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        _err(f"policyqa eval: unknown config {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
        return 2
    if not Path(args.questions).is_file():
        _err(f"policyqa eval: no question file {args.questions}")
        return 2
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        _err(f"policyqa eval: --threshold is a probability between 0 and 1, not {args.threshold}")
        return 2
    settings = _settings(args)
    cache = Path(args.index) if args.index else settings.home / "eval-indexes"
    from policyqa.index.embeddings import EmbeddingModelError, load_embedder

    try:
        embedder = load_embedder(settings.embedding_model, settings.embedding_backend, cache=settings.embedding_cache_path)
    except EmbeddingModelError as e:
        _err(str(e))
        return 1
    runs, errors = evaluate(args.questions, args.corpus, names, cache, embedder=embedder, progress=not args.json or True,
                            split=args.split, threshold=args.threshold)
    if args.details:
        from policyqa.eval.run import write_details

        for r in runs:
            target = Path(args.details) if len(runs) == 1 else Path(args.details).with_name(f"{Path(args.details).stem}-{r.config.name}.jsonl")
            write_details(target, r)
            _err(f"details: {target}")
    if args.json:
        out = runs[0].summary if len(runs) == 1 else {r.config.name: r.summary for r in runs}
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for r in runs:
            s = r.summary
            _err(f"{r.config.name}: n={s['n']} recall@5={s['recall@5']} mrr@10={s['mrr@10']} facts_all={s['facts_all']} "
                 f"rouge_l={s['rouge_l']} refusal={s['refusal_rate']} false_refusal={s['false_refusal_rate']} "
                 f"p50={s['latency_ms_p50']}ms")
    if args.report:
        cmd = "policyqa eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "policyqa eval"
        corpus_label = ", ".join(args.corpus) if args.corpus else "built-in knowledge base"
        write_report(Path(args.report), runs, args.questions, corpus_label, cmd)
        _err(f"report: {args.report} ({args.split} half)" if args.split != "all" else f"report: {args.report}")
    return 1 if errors else 0


def cmd_train(args) -> int:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        _err("policyqa train needs scikit-learn: pip install 'policyqa[train]'")
        return 2
    for f in (args.team, args.ncp, args.ncp_corpus, *((args.dev, args.dev_documents) if args.dev else ())):
        if not Path(f).exists():
            _err(f"policyqa train: no such file {f}")
            return 2
    from policyqa.eval.train import train

    settings = _settings(args)
    out = train(args.team, args.ncp, args.ncp_corpus, settings.home / "eval-indexes", Path(args.out), grid=not args.no_grid,
                dev_path=args.dev or None, dev_docs=args.dev_documents)
    print(json.dumps({"threshold": out["answerable"]["threshold"], "selector_C": out["selector"]["C"], "params": out["params"]}, ensure_ascii=False))
    return 0


def cmd_serve(args) -> int:
    from policyqa.app import serve

    return serve(host=args.host, port=args.port, index=args.index) or 0


def register(sub) -> None:
    """Add the sub-commands of the later pipeline stages to the parser."""
    def common(p, model=True):
        p.add_argument("--index", help="index directory (default: $POLICYQA_INDEX or ~/.local/share/policyqa/index)")
        if model:
            p.add_argument("--model", help="embedding model: 'default' or a sentence-transformers name/path")
            from policyqa.index.embeddings import BACKENDS, DEFAULT_BACKEND

            p.add_argument("--embedding-backend", choices=BACKENDS, help=f"embedding backend (default {DEFAULT_BACKEND}; "
                           "see docs/embedding-backends.md)")
            milvus_options(p, backend=True)

    def milvus_options(p, backend=False):
        if backend:
            p.add_argument("--backend", metavar="{inprocess,milvus}",
                           help="index backend (default $POLICYQA_BACKEND or inprocess); "
                                "an embedding backend name (onnx-int8, onnx, onnx-mixed, torch) here is read as --embedding-backend")
        p.add_argument("--milvus-uri", help="Milvus Lite .db path or server URI (default $POLICYQA_MILVUS_URI or $POLICYQA_HOME/milvus.db)")
        p.add_argument("--collection", help="Milvus collection name (default $POLICYQA_MILVUS_COLLECTION or policyqa)")

    p = sub.add_parser("build", help="build the index (default: the built-in knowledge base)")
    p.add_argument("--corpus", nargs="+", help="files or folders to index instead of the built-in documents")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    common(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("migrate", help="copy the in-process index into Milvus (no re-embedding)")
    p.add_argument("--to", required=True, choices=("milvus",), help="target backend")
    p.add_argument("--index", help="the in-process index directory to copy (default: $POLICYQA_INDEX or $POLICYQA_HOME/index)")
    milvus_options(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("add", help="add documents to the index (embeds only their chunks)")
    p.add_argument("files", nargs="+")
    common(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="remove a document from the index")
    p.add_argument("doc_id")
    common(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("ask", help="answer one question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--region", help="only documents of this region (e.g. 亭湖区, 江苏省)")
    p.add_argument("--doc", action="append", help="only this document id (repeatable)")
    p.add_argument("--top-k", type=int, help="passages retrieved (1-50, default 8)")
    p.add_argument("--history", help='JSON file: list of earlier {"question", "answer"} turns')
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive conversation in the terminal")
    p.add_argument("--region")
    p.add_argument("--doc", action="append")
    common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="score a question set (JSON Lines) on one or more configurations")
    p.add_argument("questions")
    p.add_argument("--corpus", nargs="+", help="evaluate on these documents (index built or reused by fingerprint)")
    p.add_argument("--config", nargs="+", help="configurations to compare (default: default); "
                   "choices: default bm25 dense hybrid-rrf-equal hybrid-rrf60 hybrid-minmax hybrid-minmax-sparse chunks-250 chunks-400 chunks-600 baseline")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--report", help="write a Markdown report (and a PNG chart beside it)")
    p.add_argument("--split", choices=("tune", "test", "all"), default="all",
                   help="which fixed half of the question set (by a hash of the conversation's first id): "
                        "choose and fit on 'tune', report 'test' (default all)")
    p.add_argument("--details", help="write one JSON line per question (answer, citations, evidence rank, facts found)")
    p.add_argument("--threshold", type=float, help="answerability threshold instead of the fitted one in qa/models/answerable.json "
                   "(measure the false-refusal / out-of-corpus trade-off on tune halves; 0 never refuses on it)")
    common(p)
    p.set_defaults(func=cmd_eval)

    from policyqa.qa.model import MODELS

    p = sub.add_parser("train", help="refit the answer selector and answerability models from the tune halves (needs scikit-learn)")
    p.add_argument("--team", default=str(Path(__file__).parent / "eval" / "questions" / "team.jsonl"), help="team question set (its tune half is used)")
    p.add_argument("--ncp", default="../shared/external/ncp-policies/dev.jsonl", help="NCP questions (its tune half is used)")
    p.add_argument("--ncp-corpus", default="../shared/external/ncp-policies/corpus.jsonl", help="NCP corpus")
    p.add_argument("--dev", default=str(Path(__file__).parent / "eval" / "questions" / "dev.jsonl"),
                   help="tune-only dev set, fitted on whole ('' to leave it out)")
    p.add_argument("--dev-documents", default=str(Path(__file__).parent / "eval" / "dev" / "documents"),
                   help="documents the dev set asks about (indexed with the built-in ones)")
    p.add_argument("--out", default=str(MODELS), help="folder for selector.json, answerable.json and trimmer.json")
    p.add_argument("--no-grid", action="store_true", help="skip the end-to-end choice of decoding settings")
    common(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("serve", help="serve the web chat and HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--index", help="index directory (default: the built-in knowledge base's index)")
    p.set_defaults(func=cmd_serve)

    from policyqa import match_commands

    match_commands.register(sub)  # match, compare, eval-match

    # `policyqa bench [--quick|--full] …` is handed to eval/bench.py before parsing (cli.main);
    # listed here for --help only.
    sub.add_parser("bench", help="benchmark build, latency, memory and ANN recall (policyqa bench --help)", add_help=False)
