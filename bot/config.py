"""Strict config tree: `config.toml` -> typed, frozen `Config`.

Every mistake is one `ConfigError` line naming the table, the key and the fix: unknown keys (with the
nearest valid key), wrong types, out-of-range values, missing required values, unset `${ENV_VAR}`s.
Money and time are integers in their smallest unit (lamports, raw token amounts, ms); floats only for
CEX-price based settings.

The schema is the dataclasses below: each field's type is checked, and `meta(...)` adds a range,
a set of choices and the help line that `solarb check` and the README's config reference use.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from solders.pubkey import Pubkey

from bot.errors import ConfigError
from bot.ledger.config import LedgerConfig
from rpc.redact import redact_url
from strategies.venues import registry
from strategies.venues.base import Venue

_MISSING = dataclasses.MISSING


def meta(
    help: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
) -> dict[str, Any]:
    return {"help": help, "lo": lo, "hi": hi, "choices": choices, "secret": secret}


def _f(default: Any = _MISSING, **kw: Any) -> Any:
    m = meta(**kw)
    if default is _MISSING:
        return field(metadata=m)
    if isinstance(default, (list, dict, tuple)) and not isinstance(default, tuple):
        return field(default_factory=lambda: type(default)(default), metadata=m)
    return field(default=default, metadata=m)


# --- cluster presets -----------------------------------------------------------------------------
# Program ids differ per cluster. Mainnet ids: protocols.md §1-§3. Devnet ids: raydium-io/raydium-amm
# README (AMM v4), Raydium CP-Swap docs (CPMM, second-hand), Orca docs (Whirlpool is deployed at the same
# id on devnet); PumpSwap: @pump-fun/pump-swap-sdk has one PUMP_AMM_PROGRAM_ID and runs its specs against
# devnet with it; DLMM: @meteora-ag/dlmm LBCLMM_PROGRAM_IDS (same id on devnet). localnet loads our reference programs at the mainnet ids, so mainnet-shaped configs
# work unchanged against it.
MAINNET_PROGRAMS: dict[str, str] = {
    "raydium_amm_v4": "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",
    "raydium_cpmm": "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C",
    "orca_whirlpool": "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
    "pumpswap": "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA",
    "meteora_dlmm": "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo",
}
DEVNET_PROGRAMS: dict[str, str] = {
    "raydium_amm_v4": "HWy1jotHpo6UqeQxx49dpYYdQB8wj9Qk9MdxwjLvDHB8",  # raydium-sdk-V2 DEVNET_PROGRAM_ID.AmmV4
    "raydium_cpmm": "CPMDWBwJDtYax9qW7AyRuVC19Cc4L4Vcy4n2BHAbHkCW",
    "orca_whirlpool": "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
    "pumpswap": "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA",
    "meteora_dlmm": "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo",
}
PRESETS: dict[str, dict[str, Any]] = {
    "localnet": {
        "rpc_url": "http://127.0.0.1:8899",
        "ws_url": "ws://127.0.0.1:8900",
        "programs": MAINNET_PROGRAMS,
    },
    "devnet": {
        "rpc_url": "https://api.devnet.solana.com",
        "ws_url": "wss://api.devnet.solana.com",
        "programs": DEVNET_PROGRAMS,
    },
    "mainnet-beta": {
        "rpc_url": "https://api.mainnet-beta.solana.com",
        "ws_url": "wss://api.mainnet-beta.solana.com",
        "programs": MAINNET_PROGRAMS,
    },
}
# --- end of cluster presets ------------------------------------------------------------------------
for _name, _preset in PRESETS.items():  # every venue of the registry has an id on every cluster
    assert set(_preset["programs"]) == {v.name for v in Venue}, f"cluster preset {_name} misses a venue"
VENUES = tuple(v.name for v in Venue)
WSOL_MINT = "So11111111111111111111111111111111111111112"
U64_MAX = (1 << 64) - 1
USD_QUOTES = frozenset({"USD", "USDC", "USDT"})  # CEX quote assets valued at 1 USD


# --- schema ----------------------------------------------------------------------------------------
# One key per venue of the registry, each overriding the cluster preset's program id.
if TYPE_CHECKING:
    ProgramsConfig = Any
else:
    ProgramsConfig = dataclasses.make_dataclass(
        "ProgramsConfig",
        [(v.name, str, _f("", help=f"{v.name} program id (default: the cluster preset's)")) for v in Venue],
        frozen=True,
        slots=True,
    )


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    name: str = _f("localnet", help="cluster preset", choices=tuple(PRESETS))
    rpc_url: str = _f("", help="override the preset's HTTP RPC url")
    ws_url: str = _f("", help="override the preset's PubSub url")
    programs: ProgramsConfig = _f(ProgramsConfig(), help="DEX program ids, per venue")


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    name: str = _f(help="a short name used in logs")
    http: str = _f(help="HTTP JSON-RPC url (use ${ENV_VAR} for urls that embed API keys)", secret=True)
    ws: str = _f(
        "",
        help="PubSub websocket url (default: http url with ws scheme, port + 1 for localhost)",
        secret=True,
    )
    priority: int = _f(0, help="lower is preferred", lo=0, hi=1000)
    roles: tuple[str, ...] = _f(
        ("read", "send"), help="what this endpoint is used for", choices=("read", "send", "bundle")
    )
    rate_limit_rps: int = _f(0, help="requests per second, 0 = unlimited", lo=0, hi=100_000)
    timeout_ms: int = _f(2_000, help="per-request timeout", lo=10, hi=120_000)


@dataclass(frozen=True, slots=True)
class RpcConfig:
    commitment: str = _f(
        "processed",
        help="commitment for reads and subscriptions",
        choices=("processed", "confirmed", "finalized"),
    )
    endpoints: tuple[EndpointConfig, ...] = _f(
        (), help="[[rpc.endpoints]] entries; default: one from the cluster preset"
    )
    probe_interval_ms: int = _f(
        1_000,
        help="health probe (getSlot) of every endpoint, off the hot path; ranks reads and sends",
        lo=50,
        hi=600_000,
    )
    ws_transport: str = _f(
        "picows",
        help="PubSub websocket library: picows (frames parsed straight from the socket callback; faster in `solarb bench --e2e`) or websockets",
        choices=("picows", "websockets"),
    )


@dataclass(frozen=True, slots=True)
class CexFeedConfig:
    venue: str = _f(help="exchange", choices=("binance", "coinbase", "okx", "bybit"))
    url: str = _f(help="websocket url")
    symbols: tuple[str, ...] = _f(help="venue symbols, e.g. SOLUSDC")


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    stale_after_ms: int = _f(
        2_000, help="a CEX symbol without an update for this long is ignored", lo=50, hi=600_000
    )
    cex: tuple[CexFeedConfig, ...] = _f((), help="[[feeds.cex]] entries")
    symbols: dict[str, str] = _f({}, help='venue symbol -> token pair alias, e.g. SOLUSDC = "SOL/USDC"')


@dataclass(frozen=True, slots=True)
class PoolConfig:
    venue: str = _f(help="pool program", choices=VENUES)
    address: str = _f(help="pool account address (base58)")


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    base_tokens: tuple[str, ...] = _f(
        ("SOL",), help="tokens a cycle may start and end in (aliases from [tokens] or mints)"
    )
    max_legs: int = _f(3, help="longest cycle", lo=2, hi=3)
    min_profit_lamports: int = _f(
        10_000,
        help="minimum net profit after all costs, in lamports (converted at the SOL price)",
        lo=0,
        hi=U64_MAX,
    )
    min_profit_bps: int = _f(
        5, help="minimum net profit relative to amount_in, in basis points", lo=0, hi=10_000
    )
    max_notional_lamports: int = _f(
        10_000_000_000, help="largest amount_in of one trade, in lamports of value", lo=1, hi=U64_MAX
    )
    cex_dex: bool = _f(
        False,
        help="report pool prices that deviate from the CEX mid by more than all costs (signals in the log; not traded until an inventory path exists)",
    )


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    dry_run: bool = _f(True, help="simulate every opportunity, never send")
    cu_price_policy: str = _f("fixed", help="compute-unit price policy", choices=("fixed", "percentile"))
    cu_price_micro_lamports: int = _f(1_000, help="fixed compute-unit price", lo=0, hi=100_000_000)
    cu_price_percentile: int = _f(75, help="percentile of getRecentPrioritizationFees", lo=0, hi=100)
    cu_price_cap_micro_lamports: int = _f(
        1_000_000, help="cap for the percentile policy", lo=0, hi=100_000_000
    )
    tip_policy: str = _f(
        "none",
        help="Jito tip inside the guarded transaction: none, fixed (tip_lamports), or share (tip_share_bps of the expected profit, at least tip_lamports, at most tip_cap_lamports)",
        choices=("none", "fixed", "share"),
    )
    tip_lamports: int = _f(0, help="the fixed tip, and the share policy's floor", lo=0, hi=1_000_000_000)
    tip_share_bps: int = _f(
        5_000, help="share policy: this part of the expected profit goes to the tip", lo=0, hi=10_000
    )
    tip_cap_lamports: int = _f(100_000_000, help="share policy: the largest tip", lo=0, hi=U64_MAX)
    tip_accounts: tuple[str, ...] = _f(
        (), help="tip recipients (default with a bundle endpoint: the block engine's getTipAccounts)"
    )
    send_mode: str = _f(
        "rpc",
        help="where signed trades go: rpc (the send endpoints), bundle (Jito block engines: endpoints with the bundle role), or both",
        choices=("rpc", "bundle", "both"),
    )
    slippage_bps: int = _f(
        0,
        help="min-out tolerance per leg; the last leg never goes below all costs + min_profit",
        lo=0,
        hi=5_000,
    )
    working_balance_lamports: int = _f(
        1_000_000_000, help="wSOL working balance wrapped at start-up", lo=0, hi=U64_MAX
    )
    budget_ms: int = _f(
        10, help="decision -> submitted budget; older opportunities are dropped", lo=1, hi=10_000
    )
    send_fan_out: int = _f(
        3, help="the same signed bytes go to this many of the healthiest send endpoints at once", lo=1, hi=16
    )
    rebroadcast_ms: int = _f(
        400,
        help="the same signed bytes are sent again this often until they land or their blockhash expires",
        lo=20,
        hi=10_000,
    )


@dataclass(frozen=True, slots=True)
class RiskConfig:
    sol_reserve_lamports: int = _f(
        50_000_000,
        help="SOL kept untouchable for fees; no trade is sent while the wallet holds less",
        lo=0,
        hi=U64_MAX,
    )
    max_trades_per_minute: int = _f(60, help="rate limit on sends", lo=1, hi=100_000)
    max_daily_loss_lamports: int = _f(
        100_000_000,
        help="kill switch: stop sending when realized + marked-to-market PnL of the UTC day falls this far (kept in the ledger; `solarb risk reset` resumes)",
        lo=0,
        hi=U64_MAX,
    )
    max_in_flight: int = _f(4, help="trades sent and not yet landed, at most", lo=1, hi=1_000)
    quarantine_after_reverts: int = _f(
        2,
        help="a route is quarantined after this many reverts in a row (at once when the pools did not change)",
        lo=1,
        hi=100,
    )
    price_band_bps: int = _f(
        2_000,
        help="refuse a trade when a leg's pool price deviates from the CEX mid by more (only where both tokens have a CEX price)",
        lo=1,
        hi=10_000,
    )


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    path: str = _f("logs/solarb.jsonl", help="JSON-lines log file")
    level: str = _f("info", help="lowest level written", choices=("debug", "info", "warning", "error"))
    max_bytes: int = _f(50_000_000, help="rotate when the file exceeds this size", lo=10_000)
    backups: int = _f(5, help="rotated files kept", lo=0, hi=100)
    queue_size: int = _f(65_536, help="bounded queue between the bot and the writer thread", lo=16)
    console: str = _f(
        "auto",
        help="mirror every record on stdout, terminal or not (auto/always), or not at all (never)",
        choices=("auto", "always", "never"),
    )
    format: str = _f(
        "human",
        help="console format: aligned human lines, or JSON lines for log collectors",
        choices=("human", "json"),
    )


@dataclass(frozen=True, slots=True)
class LocalnetConfig:
    start: bool = _f(
        False, help="start a local cluster with `run` (cluster localnet only) and stop it on exit"
    )
    scenario: str = _f("demo", help="seeded state: pools, mints and wallet funding", choices=("demo",))
    slot_ms: int = _f(400, help="slot time of the local cluster", lo=1, hi=10_000)
    simulate: bool = _f(
        False, help="run the market simulator in the local cluster: noise traders keep moving the pools"
    )
    simulate_rate: float = _f(5.0, help="simulator swaps per second (an upper bound)", lo=0.01, hi=200)
    simulate_seed: int = _f(
        1, help="simulator seed: the same seed on the same state gives the same trades", lo=0
    )
    cex_port: int = _f(
        0,
        help="serve the simulator's reference price as a Binance-format CEX feed on this port "
        "(0 = none); point a [[feeds.cex]] url at ws://127.0.0.1:PORT/stream",
        lo=0,
        hi=65_535,
    )


@dataclass(frozen=True, slots=True)
class StatusConfig:
    port: int = _f(
        0,
        help="`solarb status` endpoint of the running bot on loopback (GET /status, JSON); 0 = off",
        lo=0,
        hi=65_535,
    )
    host: str = _f(
        "127.0.0.1", help="address it listens on (keep it on loopback: it names the wallet and endpoints)"
    )


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    cpus: tuple[int, ...] = _f(
        (),
        help="pin `solarb run` to these CPU ids (os.sched_setaffinity; `solarb bench --e2e` shows the effect); empty: no pinning",
        lo=0,
        hi=4095,
    )
    metrics_port: int = _f(
        0,
        help="serve Prometheus metrics at http://<metrics_host>:<port>/metrics, read from the stats at scrape time (off the hot path); 0 = off",
        lo=0,
        hi=65_535,
    )
    metrics_host: str = _f(
        "127.0.0.1", help="address the metrics endpoint listens on (0.0.0.0 for a remote Prometheus)"
    )


@dataclass(frozen=True, slots=True)
class KeysConfig:
    payer: str = _f(
        "", help="Solana-CLI keypair JSON (default ~/.config/solana/id.json; required in live mode)"
    )


@dataclass(frozen=True, slots=True)
class Config:
    live: bool = _f(False, help="allow sending on mainnet-beta (also needs --live and [keys] payer)")
    cluster: ClusterConfig = _f(ClusterConfig(), help="cluster preset and overrides")
    rpc: RpcConfig = _f(RpcConfig(), help="RPC endpoints")
    keys: KeysConfig = _f(KeysConfig(), help="wallet")
    tokens: dict[str, str] = _f({}, help='alias -> mint, e.g. USDC = "EPjF..."')
    pools: tuple[PoolConfig, ...] = _f((), help="[[pools]] entries")
    feeds: FeedsConfig = _f(FeedsConfig(), help="CEX price feeds")
    strategy: StrategyConfig = _f(StrategyConfig(), help="routes and thresholds")
    execution: ExecutionConfig = _f(ExecutionConfig(), help="transactions and fees")
    risk: RiskConfig = _f(RiskConfig(), help="risk limits")
    logging: LoggingConfig = _f(LoggingConfig(), help="structured logs")
    localnet: LocalnetConfig = _f(LocalnetConfig(), help="the local cluster started by `run` (demo)")
    ledger: LedgerConfig = _f(LedgerConfig(), help="trades, the in-flight journal and the risk state")
    status: StatusConfig = _f(StatusConfig(), help="the running bot's state for `solarb status`")
    runtime: RuntimeConfig = _f(
        RuntimeConfig(), help="process placement (CPU pinning) and the metrics endpoint"
    )

    # Derived views (not config keys).
    def programs(self) -> dict[str, str]:
        """Venue name -> program id on this cluster (preset, or the [cluster.programs] override)."""
        preset = PRESETS[self.cluster.name]["programs"]
        override = self.cluster.programs
        return {v.name: getattr(override, v.name) or preset[v.name] for v in Venue}

    def endpoints(self) -> tuple[EndpointConfig, ...]:
        preset = PRESETS[self.cluster.name]
        if self.rpc.endpoints:
            return tuple(
                ep if ep.ws else dataclasses.replace(ep, ws=default_ws_url(ep.http))
                for ep in self.rpc.endpoints
            )
        return (
            EndpointConfig(
                name=self.cluster.name,
                http=self.cluster.rpc_url or preset["rpc_url"],
                ws=self.cluster.ws_url or preset["ws_url"],
                roles=("read", "send"),
            ),
        )

    def mint(self, alias_or_mint: str) -> str:
        return self.tokens.get(alias_or_mint, alias_or_mint)


# --- loading ------------------------------------------------------------------------------------------
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Keys that are planned but not enforced yet: refused, since a safety setting that is accepted and does
# nothing is worse than none.
_NOT_WIRED: dict[str, dict[str, str]] = {
    "risk": {
        "max_inventory_lamports": "CEX-DEX inventory trades do not exist yet, so there is no inventory to limit; "
        "remove the key",
    },
}
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "a boolean (true/false)"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if origin is tuple:
        (inner, _) = typing.get_args(tp)
        if dataclasses.is_dataclass(inner):
            return "an array of tables"
        return f"an array of {_type_name(inner).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "a table of strings"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return str(tp)


def _toml_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Loader:
    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env

    def fail(self, where: str, key: str | None, msg: str) -> typing.NoReturn:
        loc = f"[{where}]" if where else "top level"
        if key is not None:
            raise ConfigError(f"{self.source}: {loc} {key}: {msg}")
        raise ConfigError(f"{self.source}: {loc}: {msg}")

    def substitute(self, where: str, key: str, value: str) -> str:
        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in self.env:
                self.fail(
                    where,
                    key,
                    f"environment variable {name} is not set (export {name}=... or remove ${{{name}}})",
                )
            return self.env[name]

        return _ENV.sub(repl, value)

    def table(self, cls: type, raw: Any, where: str) -> Any:
        if not isinstance(raw, dict):
            self.fail(where, None, f"expected a table, got {_toml_type(raw)}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in raw:
            if key in _NOT_WIRED.get(where, {}):
                self.fail(where, key, _NOT_WIRED[where][key])
            if key not in fields:
                near = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
                hint = f' (did you mean "{near[0]}"?)' if near else f" (valid keys: {', '.join(fields)})"
                self.fail(where, None, f'unknown key "{key}"{hint}')
        values: dict[str, Any] = {}
        for name, f in fields.items():
            sub = f"{where}.{name}" if where else name
            if name not in raw:
                if f.default is _MISSING and f.default_factory is _MISSING:
                    self.fail(
                        where,
                        name,
                        f"missing required value ({_type_name(hints[name])}: {f.metadata['help']})",
                    )
                continue
            values[name] = self.value(hints[name], raw[name], where, name, sub, f.metadata)
        return cls(**values)

    def value(self, tp: Any, raw: Any, where: str, key: str, sub: str, m: Mapping[str, Any]) -> Any:
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.table(tp, raw, sub)
        if origin is tuple:
            (inner, _) = typing.get_args(tp)
            if not isinstance(raw, list):
                self.fail(where, key, f"expected {_type_name(tp)}, got {_toml_type(raw)}")
            if isinstance(inner, type) and dataclasses.is_dataclass(inner):
                return tuple(self.table(inner, item, f"{sub}[{i}]") for i, item in enumerate(raw))
            return tuple(self.value(inner, item, where, f"{key}[{i}]", sub, m) for i, item in enumerate(raw))
        if origin is dict:
            if not isinstance(raw, dict):
                self.fail(where, key, f"expected a table of strings, got {_toml_type(raw)}")
            out = {}
            for k, v in raw.items():
                if not isinstance(v, str):
                    self.fail(sub, k, f"expected a string, got {_toml_type(v)}")
                out[k] = self.substitute(sub, k, v)
            return out
        if tp is bool:
            if not isinstance(raw, bool):
                self.fail(where, key, f"expected a boolean (true/false), got {_toml_type(raw)}")
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.fail(where, key, f"expected an integer, got {_toml_type(raw)}")
            self.check_range(where, key, raw, m)
            if (
                not -U64_MAX <= raw <= U64_MAX
            ):  # fields without a range: nothing on chain or in a log holds more
                self.fail(where, key, f"{raw} does not fit in 64 bits (at most {U64_MAX})")
            return raw
        if tp is float:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                self.fail(where, key, f"expected a number, got {_toml_type(raw)}")
            self.check_range(where, key, raw, m)
            return float(raw)
        if tp is str:
            if not isinstance(raw, str):
                self.fail(where, key, f"expected a string, got {_toml_type(raw)}")
            value = self.substitute(where, key, raw)
            choices = m.get("choices")
            if choices and value not in choices:
                near = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
                hint = f' (did you mean "{near[0]}"?)' if near else ""
                self.fail(where, key, f'"{value}" is not one of {", ".join(choices)}{hint}')
            return value
        raise AssertionError(f"unsupported config type {tp!r}")  # a schema bug, not a user error

    def check_range(self, where: str, key: str, value: float, m: Mapping[str, Any]) -> None:
        lo, hi = m.get("lo"), m.get("hi")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
            self.fail(where, key, f"{value} is out of range (expected {rng})")


def parse_config(text: str, *, source: str = "config.toml", env: Mapping[str, str] | None = None) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from None
    loader = _Loader(source, os.environ if env is None else env)
    cfg: Config = loader.table(Config, raw, "")
    _check_semantics(cfg, loader)
    return cfg


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{p}: config file not found (pass -c PATH; see config.toml in the repository)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{p}: cannot read config file: {err.__class__.__name__}") from None
    return parse_config(text, source=str(p), env=env)


def _check_semantics(cfg: Config, ld: _Loader) -> None:
    for key, schemes in (("rpc_url", ("http", "https")), ("ws_url", ("ws", "wss"))):
        url = getattr(cfg.cluster, key)
        if url and (why := _url_problem(url, schemes)):
            ld.fail("cluster", key, why)
    if why := _log_path_problem(cfg.logging.path):
        ld.fail("logging", "path", why)
    for venue in Venue:
        pid = getattr(cfg.cluster.programs, venue.name)
        if pid and (why := _pubkey_problem(pid)):
            ld.fail("cluster.programs", venue.name, f'"{pid}" {why}')
    for alias, mint in cfg.tokens.items():
        if why := _pubkey_problem(mint):
            ld.fail("tokens", alias, f'"{mint}" {why} (a mint address)')
    seen: set[str] = set()
    for i, pool in enumerate(cfg.pools):
        if why := _pubkey_problem(pool.address):
            ld.fail(f"pools[{i}]", "address", f'"{pool.address}" {why}')
        if pool.address in seen:
            ld.fail(f"pools[{i}]", "address", f"{pool.address} is listed twice")
        seen.add(pool.address)
        why_not = registry.adapter(Venue[pool.venue]).executable
        if why_not is not None:
            ld.fail(f"pools[{i}]", "venue", f"{pool.venue} cannot be traded yet: {why_not}")
    for i, tok in enumerate(cfg.strategy.base_tokens):
        if tok not in cfg.tokens and _pubkey_problem(tok) and tok != "SOL":
            ld.fail(
                "strategy", f"base_tokens[{i}]", f'"{tok}" is neither an alias in [tokens] nor a mint address'
            )
    names: set[str] = set()
    for i, ep in enumerate(cfg.rpc.endpoints):
        if ep.name in names:
            ld.fail(f"rpc.endpoints[{i}]", "name", f'"{ep.name}" is used twice; names must be unique')
        names.add(ep.name)
        if why := _url_problem(ep.http, ("http", "https")):
            ld.fail(f"rpc.endpoints[{i}]", "http", why)
        if ep.ws and (why := _url_problem(ep.ws, ("ws", "wss"))):
            ld.fail(f"rpc.endpoints[{i}]", "ws", why)
    if (
        cfg.rpc.endpoints
        and not any("send" in ep.roles for ep in cfg.rpc.endpoints)
        and not cfg.execution.dry_run
    ):
        ld.fail("rpc", "endpoints", 'no endpoint has the "send" role; add roles = ["read", "send"] to one')
    if cfg.rpc.endpoints and not any("read" in ep.roles for ep in cfg.rpc.endpoints):
        ld.fail("rpc", "endpoints", 'no endpoint has the "read" role; add roles = ["read", "send"] to one')
    ex = cfg.execution
    bundle_endpoints = [ep for ep in cfg.rpc.endpoints if "bundle" in ep.roles]
    if ex.tip_policy != "none" and ex.tip_lamports == 0:
        ld.fail("execution", "tip_lamports", f'must be > 0 when tip_policy = "{ex.tip_policy}"')
    if ex.tip_policy == "share" and ex.tip_cap_lamports < ex.tip_lamports:
        ld.fail("execution", "tip_cap_lamports", f"must be >= tip_lamports ({ex.tip_lamports})")
    if ex.tip_policy != "none" and not ex.tip_accounts and not bundle_endpoints:
        ld.fail(
            "execution",
            "tip_accounts",
            f'needs at least one account when tip_policy = "{ex.tip_policy}" '
            "(or an endpoint with the bundle role to ask getTipAccounts)",
        )
    if ex.send_mode != "rpc" and not bundle_endpoints:
        ld.fail(
            "execution",
            "send_mode",
            f'"{ex.send_mode}" needs an [[rpc.endpoints]] entry with roles = ["bundle"] '
            "(a Jito block engine, e.g. http://127.0.0.1:8899/api/v1/bundles on localnet)",
        )
    if ex.send_mode != "rpc" and ex.tip_policy == "none":
        ld.fail(
            "execution",
            "tip_policy",
            f'send_mode = "{ex.send_mode}" needs a tip (a block engine refuses '
            'bundles without one): set tip_policy = "fixed" or "share"',
        )
    for i, acct in enumerate(cfg.execution.tip_accounts):
        if why := _pubkey_problem(acct):
            ld.fail("execution", f"tip_accounts[{i}]", f'"{acct}" {why}')
    if cfg.strategy.cex_dex and not cfg.feeds.cex:
        ld.fail(
            "strategy", "cex_dex", "needs at least one [[feeds.cex]] price feed to compare pool prices with"
        )
    if cfg.localnet.start and cfg.cluster.name != "localnet":
        ld.fail("localnet", "start", f'only with [cluster] name = "localnet" (it is "{cfg.cluster.name}")')
    for key in ("simulate", "cex_port"):
        if getattr(cfg.localnet, key) and not cfg.localnet.start:
            ld.fail(
                "localnet",
                key,
                "only with start = true (the local cluster `run` starts runs it; or run "
                "`solarb localnet --scenario demo --simulate --cex-port PORT` yourself)",
            )
    for i, feed in enumerate(cfg.feeds.cex):
        if why := _url_problem(feed.url, ("ws", "wss")):
            ld.fail(f"feeds.cex[{i}]", "url", why)
        if not feed.symbols:
            ld.fail(f"feeds.cex[{i}]", "symbols", "needs at least one symbol")
        for sym in feed.symbols:
            if sym not in cfg.feeds.symbols:
                ld.fail(
                    f"feeds.cex[{i}]",
                    "symbols",
                    f'"{sym}" has no pair in [feeds.symbols] (add {sym} = "SOL/USDC")',
                )
    for sym, pair in cfg.feeds.symbols.items():
        base, sep, quote = pair.partition("/")
        if not sep or quote not in USD_QUOTES:
            ld.fail(
                "feeds.symbols",
                sym,
                f'"{pair}" must be BASE/QUOTE with QUOTE one of {", ".join(sorted(USD_QUOTES))}',
            )
        if base != "SOL" and base not in cfg.tokens:
            ld.fail("feeds.symbols", sym, f'base "{base}" is not an alias in [tokens]')


def _pubkey_problem(text: str) -> str | None:
    """None when `text` is a public key (32 bytes in base58), else why not, for "<text> <why>"."""
    try:
        Pubkey.from_string(text)
    except ValueError:
        pass
    else:
        return None
    if not _BASE58.match(text):
        return "is not a base58 public key (32 to 44 characters of 1-9, A-H, J-N, P-Z, a-k, m-z)"
    return "is base58 but does not decode to 32 bytes, so it is not a public key (copy the address again)"


def _url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """None when `url` has one of `schemes`, a host and a valid port. The url itself is never echoed:
    it may hold an API key substituted from ${ENV_VAR}."""
    want = " or ".join(f"{s}://" for s in schemes)
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        return f"must start with {want}"
    if not parts.hostname:
        return f"has no host (e.g. {schemes[0]}://127.0.0.1:8899)"
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        text = parts.netloc.rpartition(":")[2]
        return f'has a bad port "{text}" (expected a number 1-65535)'
    return None


def _log_path_problem(path: str) -> str | None:
    """None when the log file can be opened for appending (its directory created if missing), else why.

    Only looks (nothing is created while a config loads): `bot.logs.open_log` creates the directory."""
    p = Path(path)
    if p.is_dir():
        return f'"{path}" is a directory; give a file in it, e.g. "{p / "solarb.jsonl"}"'
    if p.exists():
        return None if os.access(p, os.W_OK) else f'"{path}" is not writable (check its permissions)'
    ancestor = p.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f'"{path}" cannot be created: {ancestor} is a file, not a directory'
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f'"{path}" cannot be created: {ancestor} is not writable'
    return None


def default_ws_url(http_url: str) -> str:
    """The validator convention: PubSub on the RPC port + 1, same host, ws scheme."""
    m = re.match(r"^http(s?)://([^/:]+)(?::(\d+))?(.*)$", http_url)
    if not m:
        return ""
    tls, host, port, rest = m.groups()
    if port:
        return f"ws{tls}://{host}:{int(port) + 1}{rest}"
    return f"ws{tls}://{host}{rest}"


def schema_reference() -> str:
    """The config reference (README) generated from the schema, so docs never drift."""
    lines: list[str] = []

    def walk(cls: type, path: str, is_array: bool) -> None:
        hints = typing.get_type_hints(cls)
        rows: list[str] = []
        subs: list[tuple[type, str, bool]] = []
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            inner = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
            sub = f"{path}.{f.name}" if path else f.name
            if isinstance(tp, type) and dataclasses.is_dataclass(tp):
                subs.append((tp, sub, False))
            elif isinstance(inner, type) and dataclasses.is_dataclass(inner):
                subs.append((inner, sub, True))
            else:
                if f.default is not _MISSING:
                    default = f"`{_fmt_default(f.default)}`"
                elif f.default_factory is not _MISSING:
                    default = f"`{_fmt_default(f.default_factory())}`"
                else:
                    default = "required"
                extra = f" One of: {', '.join(f.metadata['choices'])}." if f.metadata.get("choices") else ""
                rows.append(f"| `{f.name}` | {_type_name(tp)} | {default} | {f.metadata['help']}.{extra} |")
        if rows:
            title = (f"[[{path}]]" if is_array else f"[{path}]") if path else "top level"
            lines.append(f"\n#### `{title}`\n")
            lines.append("| key | type | default | meaning |\n|---|---|---|---|")
            lines.extend(rows)
        for sub_cls, name, arr in subs:
            walk(sub_cls, name, arr)

    walk(Config, "", False)
    return "\n".join(lines)


def _fmt_default(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "[" + ", ".join(f'"{x}"' for x in v) + "]"
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, str):
        return f'"{v}"'
    return f"{v:_}" if isinstance(v, int) else str(v)


__all__ = [
    "PRESETS",
    "VENUES",
    "CexFeedConfig",
    "ClusterConfig",
    "Config",
    "EndpointConfig",
    "ExecutionConfig",
    "FeedsConfig",
    "KeysConfig",
    "LoggingConfig",
    "PoolConfig",
    "RiskConfig",
    "RpcConfig",
    "RuntimeConfig",
    "StrategyConfig",
    "default_ws_url",
    "load_config",
    "parse_config",
    "redact_url",
    "schema_reference",
]


if __name__ == "__main__":  # `python -m bot.config` prints the README's config reference
    print(schema_reference())
