"""The near-duplicate signature's band format: the contract between the stage that
computes signatures (enrich) and the stages that compare them (index, stories).

A signature is ``NUM_PERM`` MinHash values cut into ``BANDS`` bands of ``ROWS``
values; two documents are near-duplicate candidates when they share a band key,
and near-duplicates when ``estimated_similarity`` reaches ``NEAR_DUPLICATE_JACCARD``.
Why these numbers: services/enrich/signature.py (figures from bench/enrich_neardup.py).
"""

from __future__ import annotations

import base64
import hashlib
import sys
from array import array
from collections.abc import Sequence

import numpy as np

NUM_PERM = 192
BANDS = 64
ROWS = NUM_PERM // BANDS
NEAR_DUPLICATE_JACCARD = 0.3
# A MinHash's values are uint32: kept as ``array(MINHASH_TYPECODE)`` they take 4 bytes each, not a Python int's
# 28, and numpy compares two of them without converting.
MINHASH_TYPECODE = "I"


def pack_minhash(hashvalues: Sequence[int] | np.ndarray) -> str:
    """A MinHash as messages carry it and the index stores it (a ``binary`` doc-values field): its uint32
    values, little-endian, base64."""
    return base64.b64encode(np.asarray(hashvalues, dtype="<u4").tobytes()).decode("ascii")


def unpack_minhash(packed: str) -> array[int]:
    """The values of a packed MinHash; ``ValueError`` when ``packed`` is not one."""
    values = array(MINHASH_TYPECODE, base64.b64decode(packed, validate=True))
    if sys.byteorder != "little":
        values.byteswap()
    return values


def band_rows(hashvalues: Sequence[int] | np.ndarray) -> list[bytes]:
    """The signature's BANDS bands, each its ROWS values as little-endian 32-bit bytes: two signatures
    share a band key exactly when they share that band's row (the index stage compares rows directly)."""
    raw = np.asarray(hashvalues, dtype="<u4").tobytes()
    width = len(raw) // BANDS
    return [raw[start : start + width] for start in range(0, len(raw), width)]


def band_keys(hashvalues: Sequence[int] | np.ndarray) -> list[str]:
    """One key per band: the band's number and a 64-bit digest of its row."""
    rows = band_rows(hashvalues)
    return [f"{band:02d}-{hashlib.blake2b(row, digest_size=8).hexdigest()}" for band, row in enumerate(rows)]


def estimated_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two documents' shingle sets, from their ``minhash`` lists."""
    if len(a) != len(b):
        raise ValueError(f"MinHash lengths differ ({len(a)} and {len(b)}): signatures of different schemes")
    if not a:
        return 0.0
    return float(np.count_nonzero(np.asarray(a) == np.asarray(b)) / len(a))


def shares_band(a: Sequence[str], b: Sequence[str]) -> bool:
    """What the index's terms query does: do two signatures have a band key in common?"""
    return not set(a).isdisjoint(b)
