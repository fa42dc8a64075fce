"""Start the local cluster as a child process for `solarb run` (config `[localnet] start = true`).

The bot never imports `localnet`: like a real validator, the cluster is another process, reached only
through its RPC/PubSub ports. Its ready line is `localnet ready rpc=<url> ws=<url> slot_ms=<n>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Sequence
from urllib.parse import urlparse

from bot.errors import RuntimeFailure

READY = "localnet ready "
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _detach_but_die_with_parent() -> None:
    """In the child before exec: its own session, so a Ctrl-C at the terminal reaches only the bot, which
    stops the cluster after its trades in flight are confirmed; and on Linux a parent-death signal, so
    the cluster never outlives a bot killed with SIGKILL (it would keep the ports)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ClusterProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def spawn(
        cls,
        rpc_url: str,
        *,
        slot_ms: int,
        scenario: str,
        fund: Sequence[str],
        simulate: bool = False,
        simulate_rate: float = 5.0,
        simulate_seed: int = 1,
        cex_port: int = 0,
        block_engine: bool = False,
        timeout_s: float = 60.0,
    ) -> ClusterProcess:
        """Start `python -m localnet`; with `simulate` its market simulator runs too, and with a `cex_port`
        its CEX feed server (`[localnet]` simulate, simulate_rate, simulate_seed, cex_port)."""
        port = urlparse(rpc_url).port or 8899
        args = ["-m", "localnet", "--rpc-port", str(port), "--slot-ms", str(slot_ms), "--scenario", scenario]
        for pubkey in fund:
            args += ["--fund", pubkey]
        if simulate:
            args += [
                "--simulate",
                "--simulate-rate",
                repr(simulate_rate),
                "--simulate-seed",
                str(simulate_seed),
            ]
        if cex_port:
            args += ["--cex-port", str(cex_port)]
        if block_engine:
            args += ["--block-engine"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_detach_but_die_with_parent,
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout_s)).decode()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeFailure(f"the local cluster did not start within {timeout_s:g} s") from None
        if not line.startswith(READY):
            err = (await proc.stderr.read()).decode().strip().splitlines()
            await proc.wait()
            reason = err[-1] if err else line.strip() or f"exit code {proc.returncode}"
            if "already in use" in reason.lower():
                raise RuntimeFailure(
                    f"the local cluster cannot start: port {port} or {port + 1} is already in use (another localnet "
                    "or validator?); stop it, or set [localnet] start = false to trade against the running one, or "
                    "give [[rpc.endpoints]] http a free port"
                )
            raise RuntimeFailure(f"the local cluster failed to start: {reason}")
        return cls(proc)

    async def stop(self, timeout_s: float = 10.0) -> int:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return int(self.proc.returncode or 0)
