"""Exact and near-duplicate detection across every source, with a survivor rule.

Exact duplicates share a content id (``Record.id`` hashes the normalized fields). Near-duplicates are found
with MinHash + LSH (datasketch): each record's text is cut into shingles (word n-grams for passages,
character n-grams for short sentences, where three-word shingles of unrelated short texts collide), the
shingles are hashed in one numpy batch per record group and turned into MinHash signatures without a
per-shingle ``update`` loop (the values equal datasketch's ``MinHash.update_batch`` with the same hash
function), candidate pairs come from LSH bands and are confirmed by the exact Jaccard similarity of their
shingle sets (or the MinHash estimate, ``verify = "minhash"``), and
each connected component of confirmed pairs keeps its highest-priority record. Run it on records::

    from curate.dedup import exact_duplicates, near_duplicates
    dropped = exact_duplicates(records, priority_key)          # {index: survivor index}
    dropped = near_duplicates(records, config, priority_key)   # same shape

The bench (bench/bench_dedup.py) checks quality against brute-force Jaccard and throughput against the
per-shingle loop.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from synthmix.config.curate import DedupConfig
from synthmix.record import REQUIRED_FIELDS, Record

_WORD = re.compile(r"\w+", re.UNICODE)
_MIX = np.uint32(0x9E3779B1)  # odd multiplier of the polynomial that combines token hashes into shingles
_CHAR_MIX = np.uint32(0x01000193)


def dedup_text(record: Record) -> str:
    """The text near-dup compares: the required fields (a QA's shared context would make siblings alike)."""
    return "\n".join(record.fields.get(name, "") for name in REQUIRED_FIELDS[record.kind]).lower()


def shingle_mode(texts: Sequence[str], config: DedupConfig) -> str:
    """``word`` or ``char`` for a group of texts (curate passes one record kind at a time); ``auto``
    decides once per group by the median length, so near-duplicates on both sides of the length cut-off
    are still shingled alike."""
    if config.shingle != "auto":
        return config.shingle
    if not texts:
        return "char"
    median = sorted(len(t) for t in texts)[len(texts) // 2]
    return "char" if median < config.auto_char_below else "word"


def shingles(text: str, mode: str, config: DedupConfig) -> list[str]:
    """The shingle strings of a text (used by the brute-force reference and the slow baseline)."""
    if mode == "word":
        words = _WORD.findall(text)
        n = config.word_ngram
        if len(words) <= n:
            return [" ".join(words)] if words else []
        return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    squeezed = " ".join(_WORD.findall(text))
    n = config.char_ngram
    if len(squeezed) <= n:
        return [squeezed] if squeezed else []
    return [squeezed[i : i + n] for i in range(len(squeezed) - n + 1)]


def shingle_hashes(text: str, mode: str, config: DedupConfig) -> np.ndarray:
    """32-bit hashes of one text's shingles (may repeat; see ``batch_shingle_hashes``)."""
    return batch_shingle_hashes([text], mode, config)[0]


def batch_shingle_hashes(texts: Sequence[str], mode: str, config: DedupConfig) -> list[np.ndarray]:
    """32-bit hashes of every text's shingles, computed for the whole batch at once.

    Word mode hashes each word once (crc32, a C call) and char mode takes Unicode code points; then one
    vectorized pass over the batch's concatenated units combines each window of ``n`` consecutive units
    with a polynomial, and each text gets the windows that lie inside it. A text shorter than ``n`` units
    is one shingle. Deterministic across runs and machines. Hashes may repeat within a text (MinHash
    minima do not care; exact Jaccard takes the unique values).
    """
    if mode == "word":
        tokens = [_WORD.findall(t) for t in texts]
        lengths = [len(t) for t in tokens]
        flat_tokens = [w for t in tokens for w in t]
        # crc32 is a fast C call from the standard library; fmix before the permutations avalanches it.
        units = np.fromiter(
            (zlib.crc32(w.encode("utf-8")) for w in flat_tokens), dtype=np.uint32, count=len(flat_tokens)
        )
        n, mul = config.word_ngram, _MIX
    else:
        squeezed = [" ".join(_WORD.findall(t)) for t in texts]
        lengths = [len(t) for t in squeezed]
        units = np.frombuffer("".join(squeezed).encode("utf-32-le"), dtype=np.uint32)
        n, mul = config.char_ngram, _CHAR_MIX
    windows = np.zeros(0, dtype=np.uint32)
    if units.size >= n:
        view = np.lib.stride_tricks.sliding_window_view(units, n)
        windows = np.zeros(view.shape[0], dtype=np.uint32)
        for j in range(n):  # n is small (3-5): a loop over positions, vectorized over every window
            windows = windows * mul + view[:, j]
    out = []
    start = 0
    for length in lengths:
        if length >= n:
            out.append(windows[start : start + length - n + 1])
        elif length:
            acc = np.zeros(1, dtype=np.uint32)
            for j in range(length):
                acc = acc * mul + units[start + j : start + j + 1]
            out.append(acc)
        else:
            out.append(np.zeros(0, dtype=np.uint32))
        start += length
    return out


@dataclass(frozen=True)
class SignatureMaker:
    """MinHash signatures in datasketch's affine32 scheme, computed in bulk with numpy."""

    num_perm: int
    seed: int = 1

    def permutations(self) -> tuple[np.ndarray, np.ndarray]:
        proto = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=_identity32)
        a, b = proto.permutations
        return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)

    def signatures(self, hash_arrays: Sequence[np.ndarray]) -> np.ndarray:
        """One row of ``num_perm`` uint32 minima per input; an empty input gets the all-max row."""
        a, b = self.permutations()
        out = np.full((len(hash_arrays), self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        nonempty = [i for i, h in enumerate(hash_arrays) if h.size]
        if not nonempty:
            return out
        # Chunks keep the (shingles x num_perm) matrix small enough for the cache.
        chunk: list[int] = []
        size = 0
        for i in [*nonempty, -1]:
            if i >= 0:
                chunk.append(i)
                size += hash_arrays[i].size
            if chunk and (i < 0 or size >= 4096):
                hv = _fmix32(np.concatenate([hash_arrays[j] for j in chunk]))
                phv = hv[:, None] * a[None, :] + b[None, :]  # uint32 arithmetic wraps, like datasketch
                starts = np.cumsum([0] + [hash_arrays[j].size for j in chunk[:-1]])
                out[chunk] = np.minimum.reduceat(phv, starts, axis=0)
                chunk, size = [], 0
        return out

    def lean(self, row: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=self.seed, hashvalues=row, scheme="affine32")


def _identity32(value: Any) -> int:
    return int(value)


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer, as datasketch applies it before the affine permutations."""
    hv = hv.astype(np.uint32, copy=True)
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return hv


def make_lsh(config: DedupConfig) -> MinHashLSH:
    """datasketch's LSH, its bands tuned towards recall: candidates are verified afterwards, so a false
    positive costs one comparison while a false negative is a duplicate left in the corpus."""
    weights = (1 - config.lsh_recall_weight, config.lsh_recall_weight)
    return MinHashLSH(threshold=config.threshold, num_perm=config.num_perm, weights=weights)


def lsh_params(config: DedupConfig) -> tuple[int, int]:
    """(bands, rows) of ``make_lsh``; every executor bands the same way."""
    lsh = make_lsh(config)
    return lsh.b, lsh.r


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """One key per LSH band: records sharing any key are candidate duplicates."""
    return [struct.pack("<H", i) + signature[i * rows : (i + 1) * rows].tobytes() for i in range(bands)]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            # The smaller root wins so the result does not depend on the order pairs arrive in.
            lo, hi = min(ri, rj), max(ri, rj)
            self.parent[hi] = lo


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def survivors_from_pairs(n: int, pairs: Iterable[tuple[int, int]], rank: Sequence[Any]) -> dict[int, int]:
    """Connected components of confirmed pairs; in each, the lowest ``rank`` survives.

    Returns ``{dropped index: survivor index}``.
    """
    uf = UnionFind(n)
    for i, j in pairs:
        uf.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(uf.find(i), []).append(i)
    dropped: dict[int, int] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = min(members, key=lambda i: rank[i])
        for i in members:
            if i != keep:
                dropped[i] = keep
    return dropped


def exact_duplicates(records: Sequence[Record], rank: Sequence[Any]) -> dict[int, int]:
    """Records whose content id repeats; the best-ranked copy survives. ``{dropped: survivor}``."""
    best: dict[str, int] = {}
    for i, r in enumerate(records):
        j = best.get(r.id)
        if j is None or rank[i] < rank[j]:
            best[r.id] = i
    return {i: best[r.id] for i, r in enumerate(records) if best[r.id] != i}


def compute_signatures(texts: Sequence[str], mode: str, config: DedupConfig, seed: int = 1) -> np.ndarray:
    """MinHash signature rows for texts."""
    return sketch(texts, mode, config, seed)[0]


def sketch(
    texts: Sequence[str], mode: str, config: DedupConfig, seed: int = 1
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Signature rows and shingle-hash sets for texts (the unit of work an executor parallelizes)."""
    hashes = batch_shingle_hashes(texts, mode, config)
    return SignatureMaker(config.num_perm, seed).signatures(hashes), hashes


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two texts' shingle sets, given their shingle hashes."""
    a, b = np.unique(a), np.unique(b)
    if not a.size and not b.size:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def similarity(i: int, j: int, signatures: np.ndarray, hashes: Sequence[np.ndarray] | None) -> float:
    """Exact Jaccard when the shingle sets are at hand, else the MinHash estimate."""
    if hashes is not None:
        return exact_jaccard(hashes[i], hashes[j])
    return estimated_jaccard(signatures[i], signatures[j])


def confirmed_pairs(
    candidates: Iterable[tuple[int, int]],
    signatures: np.ndarray,
    threshold: float,
    hashes: Sequence[np.ndarray] | None = None,
) -> list[tuple[int, int]]:
    """Candidate pairs whose similarity reaches the threshold, sorted (LSH alone has false positives)."""
    unique = {(min(i, j), max(i, j)) for i, j in candidates if i != j}
    return sorted(p for p in unique if similarity(p[0], p[1], signatures, hashes) >= threshold)


def lsh_candidates(signatures: np.ndarray, config: DedupConfig, seed: int = 1) -> list[tuple[int, int]]:
    """Candidate pairs from datasketch's MinHashLSH (the in-process executor's path)."""
    lsh = make_lsh(config)
    maker = SignatureMaker(config.num_perm, seed)
    pairs: list[tuple[int, int]] = []
    for i, row in enumerate(signatures):
        if int(row.min()) == np.iinfo(np.uint32).max:
            continue  # no shingles: nothing to compare
        m = maker.lean(row)
        pairs.extend((int(j), i) for j in lsh.query(m))
        lsh.insert(i, m)
    return pairs


def banded_candidates(keys_per_record: Sequence[Sequence[bytes]]) -> list[tuple[int, int]]:
    """Candidate pairs from precomputed band keys (the Ray executor's path): same bands, same pairs."""
    buckets: dict[bytes, list[int]] = {}
    for i, keys in enumerate(keys_per_record):
        for key in keys:
            buckets.setdefault(key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        # Every pair of a bucket is a candidate (as MinHashLSH.query returns every match): the
        # confirmation step needs true pairs, not just links to the first member.
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pairs.add((members[a], members[b]))
    return sorted(pairs)


def near_duplicates(
    texts: Sequence[str], config: DedupConfig, rank: Sequence[Any]
) -> tuple[dict[int, int], dict[int, float]]:
    """Near-duplicate texts, in process; returns ``({dropped: survivor}, {dropped: similarity})``."""
    mode = shingle_mode(texts, config)
    signatures, hashes = sketch(texts, mode, config)
    kept_hashes = hashes if config.verify == "exact" else None
    pairs = confirmed_pairs(lsh_candidates(signatures, config), signatures, config.threshold, kept_hashes)
    dropped = survivors_from_pairs(len(texts), pairs, rank)
    sims = {i: similarity(i, s, signatures, kept_hashes) for i, s in dropped.items()}
    return dropped, sims
