"""URL redaction: what stays visible (scheme, host, port) and what never does (path, query, user-info)."""

from __future__ import annotations

import pytest

from rpc.redact import redact_text, redact_url, secret_parts

KEY = "k3y-9f8e7d6c5b4a"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8899", "http://127.0.0.1:8899"),
        ("http://127.0.0.1:8899/", "http://127.0.0.1:8899"),
        (f"https://mainnet.helius-rpc.com/?api-key={KEY}", "https://mainnet.helius-rpc.com/…redacted"),
        (f"https://solana-mainnet.g.alchemy.com/v2/{KEY}", "https://solana-mainnet.g.alchemy.com/…redacted"),
        (f"https://user:{KEY}@rpc.example.com:8443/", "https://rpc.example.com:8443/…redacted"),
        (f"wss://rpc.example.com/ws#{KEY}", "wss://rpc.example.com/…redacted"),
        (f"http://[::1]:9000/{KEY}", "http://[::1]:9000/…redacted"),
        (f"http://host:notaport/{KEY}", "…redacted"),
        (f"{KEY}", "…redacted"),
    ],
)
def test_redact_url_keeps_scheme_host_port_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert KEY not in redact_url(url)


def test_redact_text_scrubs_the_url_and_each_secret_part() -> None:
    url = f"https://u:{KEY}@h.example.com/v2/{KEY}x?api-key={KEY}y&b=2"
    text = f"failed {url!r}; raw key {KEY}, path key {KEY}x, query {KEY}y, decoded {KEY}"
    out = redact_text(text, url)
    assert KEY not in out and "h.example.com" in out
    # Percent-encoded keys are found decoded too (a library may have unquoted the URL).
    enc = "https://h.example.com/p%2Fsecret%3Dvalue"
    assert "secret=value" not in redact_text("saw /p/secret=value", enc)
    # The host stays readable even when a path segment repeats part of it.
    assert "solana" not in secret_parts("https://solana.example.com/solana/abcdef")
