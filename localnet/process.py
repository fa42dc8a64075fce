"""Run localnet in a child process (`python -m localnet ...`) and wait for its ready line.

    async with await LocalnetProcess.start("--rpc-port", "0", "--slot-ms", "50") as net:
        client = AsyncClient(net.rpc_url)

Stopping sends SIGINT (the server shuts down cleanly) and escalates to SIGKILL after `timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from localnet.errors import LocalnetError

READY_PREFIX = "localnet ready "


class LocalnetProcess:
    """A `python -m localnet` child: `rpc_url`, `ws_url`, `cex_url` (with --cex-port), `await stop()`."""

    def __init__(
        self, proc: asyncio.subprocess.Process, rpc_url: str, ws_url: str, cex_url: str | None = None
    ) -> None:
        self.proc = proc
        self.rpc_url = rpc_url
        self.ws_url = ws_url
        self.cex_url = cex_url

    @classmethod
    async def start(cls, *args: str, python: str = sys.executable, timeout: float = 30.0) -> LocalnetProcess:
        """Spawn with localnet's CLI flags; returns once the ready line is printed."""
        proc = await asyncio.create_subprocess_exec(
            python, "-m", "localnet", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise LocalnetError(f"localnet did not print its ready line within {timeout:g}s") from None
        if not line.startswith(READY_PREFIX):
            err = (await proc.stderr.read()).decode().strip()
            await proc.wait()
            raise LocalnetError(f"localnet failed to start (exit {proc.returncode}): {err or line.strip()}")
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        return cls(proc, fields["rpc"], fields["ws"], fields.get("cex"))

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGINT, wait, SIGKILL if it does not exit; returns the exit code."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return int(self.proc.returncode or 0)

    async def __aenter__(self) -> LocalnetProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
