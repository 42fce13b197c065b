"""Versions of the models and data files a field was computed with, for per-field provenance."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def content_version(*paths: Path) -> str:
    """A short digest of the files' bytes: the same files give the same version on every machine."""
    digest = hashlib.blake2b(digest_size=6)
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def package_version(name: str) -> str:
    """``name==version`` of an installed package whose data a field was computed with."""
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return f"{name}==unknown"
