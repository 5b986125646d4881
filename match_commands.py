"""CLI sub-commands of policy matching: ``match``, ``compare``, ``eval-match``, and ``docs --items``.

They read documents and chunks only (no embedding model): from the index when
one exists, else from ``--corpus`` files, else the built-in documents.
Exit status: 0 success, 1 when input documents were skipped or a run failed,
2 for misuse (a missing or unreadable profile, a bad field value).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

MAX_PROFILE_BYTES = 1_000_000


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def load_kb(args):
    """(docs, chunks, catalog, skipped) from --corpus, the index (in-process, or Milvus when
    ``POLICYQA_BACKEND=milvus``: its stored items), or the built-in documents."""
    from policyqa.corpus.items import ItemCatalog

    corpus = getattr(args, "corpus", None)
    if not corpus:
        from policyqa.settings import Settings

        settings = Settings.from_env()
        if settings.backend == "milvus" and not getattr(args, "index", None):
            from policyqa.index.milvus_store import MilvusStore
            from policyqa.index.store import IndexNotFound, IndexStoreError

            try:  # the items stored in the Milvus side collection; no embedding model needed
                store = MilvusStore.load(settings.milvus())
            except IndexNotFound:
                pass
            except IndexStoreError as e:
                _err(f"{e}; reading the built-in documents instead")
            else:
                if store.items_report.derived:
                    _err(store.items_report.message(store.path))
                return dict(store.docs), list(store.chunks.values()), store.items, ()
        index_dir = Path(args.index) if getattr(args, "index", None) else settings.index_dir
        if (index_dir / "manifest.json").exists():
            from policyqa.index.lockfile import IndexBusy, IndexLock
            from policyqa.index.store import IndexStore, IndexStoreError
            from policyqa.qa.service import keep_derived_items

            try:
                with IndexLock(index_dir, timeout=60).shared():  # items derived for an older index are stored once
                    store = IndexStore.load(index_dir)
                    keep_derived_items(store)
            except (IndexStoreError, IndexBusy, OSError) as e:
                _err(f"{e}; reading the built-in documents instead")
            else:
                docs = dict(store.docs)
                chunks = list(store.chunks.values())
                return docs, chunks, store.items, ()  # the items stored with the index
    from policyqa.corpus.pipeline import chunk_documents, load_corpus

    report = load_corpus(corpus or None)
    for s in report.skipped:
        _err(s.reason)
    docs = {d.doc_id: d.meta for d in report.documents}
    chunks = chunk_documents(report.documents)
    return docs, chunks, ItemCatalog.build(docs, chunks), report.skipped


def read_profile(path: str):
    """The profile JSON object from a file ('-': stdin); ValueError with a one-line message."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_PROFILE_BYTES + 1)
        else:
            p = Path(path)
            if not p.is_file():
                raise ValueError(f"no profile file {path}")
            if p.stat().st_size > MAX_PROFILE_BYTES:
                raise ValueError(f"profile file {path} is larger than {MAX_PROFILE_BYTES // 1000} kB")
            raw = p.read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read profile {path}: {e.strerror or e}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise ValueError(f"profile is larger than {MAX_PROFILE_BYTES // 1000} kB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"profile {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"profile {path} is not valid JSON ({e.msg}, line {e.lineno})") from None


def _today(s: str | None) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"--today must be a date like 2025-06-01, not {s!r}") from None


def cmd_match(args) -> int:
    from policyqa.qa.match import ProfileError, match, parse_profile

    try:
        obj = read_profile(args.profile)
        profile, unknown = parse_profile(obj)
        today = _today(args.today)
    except (ValueError, ProfileError) as e:
        _err(f"policyqa match: {e}")
        return 2
    if unknown:
        _err("unknown profile fields ignored: " + ", ".join(unknown))
    docs, _, catalog, skipped = load_kb(args)
    result = match(profile, catalog.all_items(), docs, today=today, unknown_fields=unknown,
                   include_unquantified=args.include_unquantified)
    if args.csv:
        try:
            Path(args.csv).write_text(result.to_csv(), encoding="utf-8-sig")
        except OSError as e:
            _err(f"policyqa match: cannot write {args.csv}: {e.strerror or e}")
            return 1
        _err(f"csv: {args.csv} ({len(result.items) + len(result.elsewhere)} rows)")
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(result.to_text())
    return 1 if skipped else 0


def cmd_compare(args) -> int:
    from policyqa.qa.compare import compare

    if not args.topic.strip():
        _err("policyqa compare: give a topic, e.g. 小巨人")
        return 2
    docs, chunks, catalog, skipped = load_kb(args)
    try:
        today = _today(args.today)
    except ValueError as e:
        _err(f"policyqa compare: {e}")
        return 2
    table = compare(args.topic, catalog.all_items(), docs, chunks, regions=args.regions or (), today=today)
    print(json.dumps(table.to_json(), ensure_ascii=False) if args.json else table.to_text())
    return 1 if skipped else 0


def cmd_doc_items(args) -> int:
    """``policyqa docs --items DOC``: the items extracted from one document."""
    docs, _, catalog, skipped = load_kb(args)
    doc = args.items
    if doc not in docs:
        near = [d for d in docs if doc in d]
        if len(near) == 1:
            doc = near[0]
        else:
            _err(f"no document '{args.items}' in the knowledge base" + (f" (did you mean {', '.join(near[:5])}?)" if near else ""))
            return 1
    items = catalog.items_for(doc)
    if args.json:
        print(json.dumps([it.to_dict() for it in items], ensure_ascii=False, indent=1))
        return 1 if skipped else 0
    meta = docs[doc]
    print(f"{doc}\t{meta.region or '-'}\t{meta.title or '(无标题)'}\t{len(items)} items")
    for it in items:
        valid = f"\t有效期至{it.valid_to}" if it.valid_to else ""
        print(f"- [{it.kind}] {it.label() or '—'}：{it.amount_text}{valid}\t({it.chunk_id} {it.span[0]}-{it.span[1]})")
        for c in it.conditions:
            print(f"    · {c.text}")
    return 1 if skipped else 0


def cmd_eval_match(args) -> int:
    from policyqa.eval import match_eval as me

    clauses = None if args.matching_only else Path(args.clauses) if args.clauses else me.CLAUSES
    profiles = Path(args.profiles) if args.profiles else me.PROFILES
    for p in (clauses, profiles):
        if p is not None and not p.is_file():
            _err(f"policyqa eval-match: no file {p}")
            return 2
    if args.timing:
        print(json.dumps(me.timing(profiles=profiles, corpus=args.corpus), ensure_ascii=False, indent=1))
        return 0
    try:
        run = me.run(clauses, profiles, args.split, corpus=args.corpus)
    except ValueError as e:
        _err(f"policyqa eval-match: {e}")
        return 2
    if args.details:
        me.write_details(Path(args.details), run)
        _err(f"details: {args.details}")
    if args.report:
        cmd = "policyqa eval-match " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval-match"] else "policyqa eval-match"
        me.write_report(Path(args.report), run, cmd)
        _err(f"report: {args.report} ({args.split} half)")
    if args.json:
        print(json.dumps(run.summary(), ensure_ascii=False, indent=1))
    else:
        s = run.summary()
        ex, ma = s["extraction"], s["matching"]
        if ex["clauses"]:
            _err(f"[{args.split}] extraction: clauses={ex['clauses']} amount+cap exact={ex['amount_cap_exact']} "
                 f"tier exact={ex['tier_exact']} item recall={ex['item_recall']} precision={ex['item_precision']}")
        _err(f"[{args.split}] matching: profiles={ma['profiles']} precision={ma['precision']} recall={ma['recall']} "
             f"amount accuracy={ma['amount_accuracy']} expired flagged={ma['expired_flagged']} "
             f"other-region violations={ma['other_region_violations']} latency p50={ma['latency_ms_p50']} ms "
             f"max={ma['latency_ms_max']} ms; items built in {s['catalog']['build_ms']} ms")
        if ma["should_not_checked"] or ma["superseded_flagged"] is not None or ma["elsewhere_found"] is not None:
            _err(f"[{args.split}] must-not-match items shown as applicable={ma['should_not_violations']}/{ma['should_not_checked']} "
                 f"superseded flagged={ma['superseded_flagged']} elsewhere listed={ma['elsewhere_found']}")
    return 0


def register(sub) -> None:
    def kb_args(p):
        p.add_argument("--corpus", nargs="+", help="match against these files/folders instead of the knowledge base")
        p.add_argument("--index", help="index directory (default: the knowledge base's index; without one, the built-in documents)")

    p = sub.add_parser("match", help="the policy items an enterprise profile can claim, with amounts, conditions and sources")
    p.add_argument("--profile", required=True, help='profile JSON file (\'-\' for stdin): {"region", "industry", "enterprise_type", '
                   '"revenue_wan", "tax_paid_wan", "employees", "honours", "planned_investments": [{"kind", "amount_wan"}]}')
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--csv", help="also write the result as a CSV file (UTF-8, opens in Excel)")
    p.add_argument("--today", help="judge validity on this date (YYYY-MM-DD; default today)")
    p.add_argument("--include-unquantified", action="store_true", help="also list grants that state no amount (按规定给予补贴)")
    kb_args(p)
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("compare", help="compare one kind of reward across regions (e.g. 小巨人)")
    p.add_argument("topic", help="an honour (小巨人, 高新技术企业, 五星级上云), an investment kind (工业机器人) or any phrase")
    p.add_argument("--regions", nargs="+", help="only these regions (e.g. 宿迁 宿州 亭湖区)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--today", help="judge validity on this date (YYYY-MM-DD)")
    kb_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("eval-match", help="score item extraction and profile matching (eval/match/)")
    p.add_argument("--split", choices=("tune", "test", "all"), default="all",
                   help="fixed half of the labelled clauses and profiles (by a hash of each id): fit on tune, report test")
    p.add_argument("--clauses", help="labelled clauses (default eval/match/clauses.jsonl)")
    p.add_argument("--profiles", help="profiles with expected items (default eval/match/profiles.jsonl)")
    p.add_argument("--corpus", nargs="+", help="documents to match against (default: built-in + eval/match/documents)")
    p.add_argument("--matching-only", action="store_true", help="score the profiles only (no labelled clauses), e.g. the "
                   "held-out set: --profiles eval/match/heldout/profiles.jsonl --corpus corpus/documents eval/documents")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--report", help="write a Markdown report with PNG figures beside it")
    p.add_argument("--details", help="write one JSON line per clause and per profile")
    p.add_argument("--timing", action="store_true", help="instead: time item extraction against reading stored items and "
                   "loading the index, and matching, on the built-in knowledge base or --corpus (medians of 7)")
    p.set_defaults(func=cmd_eval_match)
