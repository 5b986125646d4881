"""The comparison baseline's chunker: a recursive character splitter.

Imitates the common Langchain-Chatchat setup (``RecursiveCharacterTextSplitter``
with chunk size 750 and overlap 150, splitting on paragraph, line, sentence and
clause separators in that order).  Used only by the evaluation.
"""

from __future__ import annotations

from policyqa.corpus.types import Chunk, Document

SEPARATORS = ("\n\n", "\n", "。", "！", "？", "；", "，", "")


def _split(text: str, size: int, seps: tuple[str, ...]) -> list[str]:
    """Pieces of at most ``size`` characters, cut at the coarsest separator possible."""
    if len(text) <= size:
        return [text]
    sep = next((s for s in seps if s and s in text), "")
    if not sep:
        return [text[i : i + size] for i in range(0, len(text), size)]
    parts = [p + sep for p in text.split(sep)]
    parts[-1] = parts[-1][: -len(sep)]
    out: list[str] = []
    rest = seps[seps.index(sep) + 1 :]
    for p in parts:
        out.extend(_split(p, size, rest) if len(p) > size else [p])
    return [p for p in out if p]


def recursive_chunks(doc: Document, size: int = 750, overlap: int = 150) -> list[Chunk]:
    """Merge split pieces into chunks of up to ``size`` characters, each new chunk
    starting with up to ``overlap`` characters of the previous one's tail."""
    pieces = _split(doc.text, size, SEPARATORS)
    chunks: list[Chunk] = []
    pos = 0
    spans: list[tuple[int, int]] = []
    for p in pieces:  # pieces are consecutive substrings of the text
        s = doc.text.find(p, pos)
        spans.append((s, s + len(p)))
        pos = s + len(p)
    cur_s, cur_e = None, None
    for s, e in spans:
        if cur_s is None:
            cur_s, cur_e = s, e
        elif e - cur_s <= size:
            cur_e = e
        else:
            chunks.append((cur_s, cur_e))
            cur_s = max(s - overlap, cur_e - overlap, chunks[-1][0] + 1)
            cur_e = e
    if cur_s is not None:
        chunks.append((cur_s, cur_e))
    out = []
    for i, (s, e) in enumerate(chunks):
        text = doc.text[s:e]
        out.append(Chunk(chunk_id=f"{doc.doc_id}#rc#{i}", doc_id=doc.doc_id, section="", text=text, start=s, end=e,
                         header="", kind="text"))
    return out
