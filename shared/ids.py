"""Deterministic identities: canonical URLs and article ids.

The article id is the OpenSearch ``_id`` and part of every ``Nats-Msg-Id``,
so re-ingesting the same article (or a redelivery) is idempotent end to end.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that identify a campaign or a click, never the article itself.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|"
    r"_hsenc|_hsmi|ref|ref_src|ref_url|cmpid|ito|ocid|smid|smtyp|share|spm|src|at_medium|at_campaign)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Normalise a URL so that the links one article is shared under compare equal.

    Lower-cases scheme and host, drops default ports, fragments, tracking
    parameters and a trailing slash, and sorts the remaining query.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    netloc = host
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k))
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def normalised_text(text: str) -> str:
    """Text reduced to what identifies it: case, accents, punctuation and spacing folded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", folded))


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


def article_id(url: str | None, title: str = "", body: str = "") -> str:
    """Hash of the canonical URL, or of the normalised text when there is no URL."""
    if url:
        return _digest("url:" + canonical_url(url))
    return _digest("text:" + normalised_text(f"{title}\n{body}"))


def domain_of(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None
