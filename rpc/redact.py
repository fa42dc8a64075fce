"""Keep RPC secrets out of every message: providers put API keys in a URL's path (``/v2/KEY``), its
query (``?api-key=KEY``) or its user-info (``https://user:KEY@host``).

`redact_url` keeps what identifies the endpoint to an operator (scheme, host, port) and drops the rest;
`redact_text` scrubs a URL and each of its secret parts out of text that something else produced (a
library's exception message, a server's error body). Every error of the ``rpc`` package names its
endpoint with `redact_url`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "…redacted"

# Shorter fragments ("v2", "rpc") are path vocabulary, not keys; scrubbing them would only garble text.
_MIN_SECRET_LEN = 4


def redact_url(url: str) -> str:
    """``scheme://host[:port]``, plus ``/…redacted`` when the URL had a path, query, fragment or
    user-info; ``…redacted`` alone when it does not parse as a URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:  # e.g. a port that is not a number
        return REDACTED
    if not parts.scheme or not host:
        return REDACTED
    if ":" in host:
        host = f"[{host}]"
    base = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    return base + "/" + REDACTED if hidden else base


def secret_parts(url: str) -> tuple[str, ...]:
    """The pieces of ``url`` that may be secret (path, its segments, query, its values, user-info,
    fragment, each also percent-decoded), longest first so the longest match is scrubbed first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,) if len(url) >= _MIN_SECRET_LEN else ()
    found: set[str] = set()
    if parts.path not in ("", "/"):
        found.add(parts.path)
        found.update(parts.path.split("/"))
    if parts.query:
        found.add(parts.query)
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            found.update((key, value))
        found.update(parts.query.split("&"))
    if parts.fragment:
        found.add(parts.fragment)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        found.add(userinfo)
        found.update(userinfo.split(":", 1))
    found |= {unquote(s) for s in found}
    shown = redact_url(url)  # what stays visible (the host) is not scrubbed
    keep = (s for s in found if len(s) >= _MIN_SECRET_LEN and s not in shown)
    return tuple(sorted(keep, key=len, reverse=True))


def redact_text(text: str, url: str, secrets: tuple[str, ...] | None = None) -> str:
    """``text`` with ``url`` replaced by `redact_url` (url) and every secret part of it by ``…redacted``.

    ``secrets`` may pass `secret_parts(url)` computed once, for callers that scrub often.
    """
    if url and url in text:
        text = text.replace(url, redact_url(url))
    for secret in secret_parts(url) if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
