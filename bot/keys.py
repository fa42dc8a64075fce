"""Keypairs: Solana-CLI JSON files (an array of 64 bytes), loaded with care.

`solders.keypair.Keypair`'s repr and str print the secret key, so the bot never lets one escape:
`Wallet` wraps it with a repr that shows the public key only, errors never quote file contents, and
parse failures are raised `from None` so no chained exception carries the bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from bot.errors import KeyfileError

SOLANA_CLI_DEFAULT = Path("~/.config/solana/id.json")


class Wallet:
    """A keypair that cannot be printed. Use `.pubkey` freely; `.keypair` only to sign."""

    __slots__ = ("_keypair", "path", "pubkey")

    def __init__(self, keypair: Keypair, path: Path | None = None) -> None:
        self._keypair = keypair
        self.pubkey: Pubkey = keypair.pubkey()
        self.path = path

    @property
    def keypair(self) -> Keypair:
        return self._keypair

    def __repr__(self) -> str:
        return f"Wallet(pubkey={self.pubkey})"

    __str__ = __repr__

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("a Wallet cannot be pickled (it holds a secret key)")


def load_wallet(path: str | os.PathLike[str]) -> Wallet:
    """Load a Solana-CLI keypair file, refusing files readable by group or others."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KeyfileError(f"{p}: keypair file not found (create one with `solarb keygen -o {p}`)") from None
    except OSError as err:
        raise KeyfileError(f"{p}: cannot read keypair file ({err.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyfileError(f"{p}: not a regular file")
    if st.st_mode & 0o077:
        raise KeyfileError(
            f"{p}: keypair file is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"fix it with `chmod 600 {p}`"
        )
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise KeyfileError(f"{p}: cannot read keypair file ({err.strerror})") from None
    return Wallet(parse_keypair_json(raw, str(p)), p)


def parse_keypair_json(raw: bytes, source: str) -> Keypair:
    bad = f"{source}: not a Solana keypair file (expected a JSON array of 64 integers 0..255, as `solana-keygen` writes)"
    try:
        values = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise KeyfileError(bad) from None
    if (
        not isinstance(values, list)
        or len(values) != 64
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values)
    ):
        raise KeyfileError(bad) from None
    try:
        return Keypair.from_bytes(bytes(values))
    except ValueError:
        # solders' message is safe, but we do not chain it: the bytes live in the frame being unwound.
        raise KeyfileError(
            f"{source}: keypair bytes are inconsistent (the public half does not match the secret)"
        ) from None


def write_new_keypair(path: str | os.PathLike[str], *, force: bool = False) -> Wallet:
    """Create a new keypair file with mode 0600 (never world-readable, not even briefly)."""
    p = Path(path).expanduser()
    if p.exists() and not force:
        raise KeyfileError(
            f"{p}: already exists; refusing to overwrite a keypair (pass --force to replace it)"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    kp = Keypair()
    data = orjson.dumps(list(bytes(kp)))
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(p, flags, 0o600)
    except OSError as err:
        raise KeyfileError(f"{p}: cannot create keypair file ({err.strerror})") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    return Wallet(kp, p)


def resolve_payer_path(configured: str, *, live: bool) -> Path:
    """The keypair path to use. Live mode demands an explicit one; otherwise the Solana CLI default."""
    if configured:
        return Path(configured).expanduser()
    if live:
        raise KeyfileError(
            'live mode needs an explicitly configured keypair: set [keys] payer = "/path/to/bot.json" in the config'
        )
    return SOLANA_CLI_DEFAULT.expanduser()
