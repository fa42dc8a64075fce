"""Start-up checks shared by `run` and `check`: config, mode, wallet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.commands.cluster_opts import with_url
from bot.config import Config, load_config
from bot.errors import SolarbError, UsageError
from bot.keys import Wallet, load_wallet, parse_keypair_json, resolve_payer_path


@dataclass(frozen=True, slots=True)
class Mode:
    """What the bot may do. `send` is False in dry-run: every opportunity is simulated, never sent."""

    send: bool
    live: bool  # sending with real money (mainnet-beta)

    @property
    def name(self) -> str:
        return "live" if self.live else ("send" if self.send else "dry-run")


def resolve_mode(cfg: Config, *, live_flag: bool, dry_run_flag: bool) -> Mode:
    """Live (mainnet) sending needs three explicit yeses: `live = true`, `--live`, and `[keys] payer`."""
    mainnet = cfg.cluster.name == "mainnet-beta"
    if live_flag and not cfg.live:
        raise UsageError(
            "--live given but the config says live = false; set live = true in the config to trade for real"
        )
    if live_flag and dry_run_flag:
        raise UsageError("--live and --dry-run contradict each other; pass one")
    if live_flag and not mainnet:
        raise UsageError(
            f"--live is only for mainnet-beta (the config's cluster is {cfg.cluster.name}); drop --live"
        )
    dry = dry_run_flag or cfg.execution.dry_run
    if mainnet and not dry:
        if not (cfg.live and live_flag):
            raise UsageError(
                "refusing to send on mainnet-beta: live mode needs live = true in the config AND --live on the command "
                "line (or set [execution] dry_run = true to simulate only)"
            )
        if not cfg.keys.payer:
            raise UsageError(
                'live mode needs an explicitly configured keypair: set [keys] payer = "/path/to/bot.json"'
            )
        return Mode(send=True, live=True)
    if mainnet and live_flag:
        raise UsageError(
            "--live with dry_run = true would send nothing; set [execution] dry_run = false to trade"
        )
    return Mode(send=not dry, live=False)


def load_setup(
    config_path: str | Path, *, live_flag: bool = False, dry_run_flag: bool = False, url: str | None = None
) -> tuple[Config, Mode, Wallet]:
    """Config (its endpoints replaced by `url`, the `-u` option, when given), mode and wallet."""
    cfg = load_config(config_path)
    if url is not None:
        cfg = with_url(cfg, url)
    mode = resolve_mode(cfg, live_flag=live_flag, dry_run_flag=dry_run_flag)
    wallet = load_wallet(resolve_payer_path(cfg.keys.payer, live=mode.live))
    if mode.live:
        public = public_example_keys()
        if str(wallet.pubkey) in public:
            raise UsageError(
                f"{cfg.keys.payer}: this keypair ({wallet.pubkey}) is the example key {public[str(wallet.pubkey)]} "
                "published in the repository, so anyone can spend from it; make your own with `solarb keygen -o "
                "keys/live.json` and point [keys] payer at it")  # fmt: skip
    return cfg, mode, wallet


EXAMPLE_KEYS = Path(__file__).resolve().parent.parent / "keys.example"


def public_example_keys(directory: Path = EXAMPLE_KEYS) -> dict[str, str]:
    """Public key -> file name of every keypair in keys.example/ (public in the repository: never live)."""
    out: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            keypair = parse_keypair_json(path.read_bytes(), str(path))
        except (SolarbError, OSError):
            continue
        out[str(keypair.pubkey())] = f"keys.example/{path.name}"
    return out
