"""Story signature: MinHash over word 3-shingles, cut into LSH bands the index can match with a terms query.

Parameters, and why (figures from bench/enrich_neardup.py):

* Shingles are 3 consecutive lower-cased words of the body's prose, so
  padding that ingest left around a retelling does not dilute it. The five
  retellings of one story in corpus/sample (trillion-*) have pairwise
  Jaccard 0.61-0.76; BBC articles rewritten by dropping 30% of sentences,
  swapping sentence pairs and replacing common words keep a median of 0.46
  (5th percentile 0.31); unrelated articles on one topic share almost no
  shingles (at most 0.03 in the sample corpus).
* ``NUM_PERM = 192`` permutations cut into ``BANDS = 64`` bands of
  ``ROWS = 3``. Two documents share at least one band key with probability
  ``1 - (1 - J**3)**64``: 0.002 at J = 0.03, 0.06 at J = 0.1, 0.83 at
  J = 0.3, 0.95 at J = 0.36 and 0.998 at J = 0.45. The S-curve's midpoint
  ``(1/64)**(1/3)`` is 0.25; the Jaccard targeted is ``NEAR_DUPLICATE_JACCARD``.
* The index finds candidates with a terms query on the band keys and keeps
  those whose ``estimated_similarity`` (the share of equal MinHash values,
  an unbiased estimate of Jaccard with standard error ~0.035 at J = 0.3)
  is at least ``NEAR_DUPLICATE_JACCARD = 0.3``. Of 321,247 pairs of BBC
  articles in one class, 145 share a band: 126 are versions of one story
  (exact Jaccard >= 0.3) and 17 of the other 19 fail that check.
* A story re-reported in other words (the aggregator captures' "kestrel"
  pages, Jaccard 0.01-0.07) is beyond any shingle signature: that needs
  grouping by entities and time, downstream.

Hashing uses datasketch (the field's MinHash library, affine32 scheme) with
CRC32 as the shingle hash: datasketch's default SHA-1 hash is the slow part,
and with CRC32 a signature costs ~0.3 ms per BBC article, the same as a
hand-written numpy version measured side by side.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import cache

import numpy as np
from datasketch import MinHash

from shared.messages import Signature
from shared.signature import NUM_PERM, pack_minhash

SHINGLE_WORDS = 3
SEED = 1
# datasketch 2's default: a bijective affine permutation of a pre-mixed 32-bit hash, values stored as uint32.
SCHEME = "affine32"
# Fewer shingles than this (a one-line body) would make chance matches likely: no signature.
MIN_SHINGLES = 8
# Bounds the cost of a huge body: 20,000 shingles is ~20 pages of text.
MAX_SHINGLES = 20_000


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutations for (NUM_PERM, SEED), computed once instead of per document."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    return minhash.permutations


def shingles(tokens: Sequence[str]) -> set[bytes]:
    last = min(len(tokens), MAX_SHINGLES + SHINGLE_WORDS - 1) - SHINGLE_WORDS + 1
    return {" ".join(tokens[i : i + SHINGLE_WORDS]).encode() for i in range(max(0, last))}


def minhash_of(tokens: Sequence[str]) -> MinHash | None:
    shingle_set = shingles(tokens)
    if len(shingle_set) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch(list(shingle_set))
    return minhash


def signature_of(tokens: Sequence[str]) -> Signature | None:
    minhash = minhash_of(tokens)
    if minhash is None:
        return None
    return Signature(minhash=pack_minhash(minhash.hashvalues))
