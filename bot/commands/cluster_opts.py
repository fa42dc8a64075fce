"""`-c CONFIG` and `-u URL_OR_MONIKER` for the commands that read a cluster (pools, quote, check, run).

`-u` takes what the Solana CLI's `--url` takes: a JSON-RPC URL, or a moniker (`m`/`mainnet-beta`,
`d`/`devnet`, `l`/`localhost`; testnet has no program-id preset here). A moniker brings the cluster's
preset URL and program ids; a URL keeps the program ids of the config (or of `--cluster`).
`-c` brings the config's cluster, endpoints, `[cluster.programs]` overrides and `[tokens]` aliases, so
`--mint-a SOL --mint-b devUSDC` works; `-u` overrides its endpoints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.config import PRESETS, WSOL_MINT, Config, EndpointConfig, default_ws_url, load_config
from bot.errors import UsageError

# Solana CLI monikers (solana-cli `--url`: "URL for Solana's JSON RPC or moniker (or their first letter):
# [mainnet-beta, testnet, devnet, localhost]") -> our cluster presets.
MONIKERS: dict[str, str] = {
    "m": "mainnet-beta",
    "mainnet-beta": "mainnet-beta",
    "mainnet": "mainnet-beta",
    "d": "devnet",
    "devnet": "devnet",
    "l": "localnet",
    "localhost": "localnet",
    "localnet": "localnet",
}
URL_HELP = "JSON-RPC URL or moniker: m/mainnet-beta, d/devnet, l/localhost (as the Solana CLI's -u)"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a read-only command looks: cluster preset, RPC URL, program ids and token aliases."""

    cluster: str
    rpc_url: str
    programs: dict[str, str]
    tokens: dict[str, str]

    def mint(self, text: str) -> str:
        """A `[tokens]` alias (SOL is always wrapped SOL) or the text itself."""
        if text in self.tokens:
            return self.tokens[text]
        return WSOL_MINT if text == "SOL" else text


def add_url_arg(p: Any, *, rpc_alias: bool = False) -> None:
    flags = ["-u", "--url", "--rpc"] if rpc_alias else ["-u", "--url"]
    p.add_argument(*flags, dest="url", default=None, metavar="URL_OR_MONIKER", help=URL_HELP)


def parse_url(text: str) -> tuple[str | None, str]:
    """(preset name or None for a plain URL, http URL)."""
    name = MONIKERS.get(text.strip().lower())
    if name is not None:
        return name, str(PRESETS[name]["rpc_url"])
    if text.strip().lower() in ("t", "testnet"):
        raise UsageError("-u testnet: there is no testnet preset (program ids); give its URL with "
                         "-u https://api.testnet.solana.com and the program ids in a config (-c)")  # fmt: skip
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or 1 <= parts.port <= 65535
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(f"-u {text!r}: expected an http(s) URL with a host, or a moniker (m, d, l, "
                         "mainnet-beta, devnet, localhost)")  # fmt: skip
    return None, text


def with_url(cfg: Config, text: str) -> Config:
    """`cfg` whose endpoints are replaced by the one `-u` names (a moniker must match the config's cluster)."""
    name, url = parse_url(text)
    if cfg.localnet.start:
        raise UsageError(f"-u {text} with [localnet] start = true: `run` starts its own cluster at the config's "
                         "endpoint; drop -u, or set [localnet] start = false")  # fmt: skip
    if name is not None and name != cfg.cluster.name:
        raise UsageError(f"-u {text} is {name} but the config's cluster is {cfg.cluster.name} (its program ids "
                         "differ); give a URL, or a config for that cluster")  # fmt: skip
    endpoint = EndpointConfig(name=name or "url", http=url, ws=default_ws_url(url), roles=("read", "send"))
    return dataclasses.replace(cfg, rpc=dataclasses.replace(cfg.rpc, endpoints=(endpoint,)))


def read_url(cfg: Config) -> str:
    """The config's preferred endpoint for reads."""
    readers = sorted((ep for ep in cfg.endpoints() if "read" in ep.roles), key=lambda ep: ep.priority)
    return (readers or list(cfg.endpoints()))[0].http


def resolve(config: str | None, url: str | None, cluster: str | None = None) -> Target | None:
    """The target of `-c`/`-u`/`--cluster`; None when none of them is given."""
    if config is not None:
        cfg = load_config(config)
        if url is not None:
            cfg = with_url(cfg, url)
        return Target(cfg.cluster.name, read_url(cfg), cfg.programs(), dict(cfg.tokens))
    if url is None and cluster is None:
        return None
    name, rpc_url = parse_url(url) if url is not None else (None, "")
    preset = name or cluster or "mainnet-beta"
    if name is not None and cluster is not None and name != cluster:
        raise UsageError(f"-u {url} is {name} but --cluster is {cluster}; give one of them")
    return Target(preset, rpc_url or str(PRESETS[preset]["rpc_url"]), dict(PRESETS[preset]["programs"]), {})
