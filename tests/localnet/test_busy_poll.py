"""Busy polling: the server's event loop (and a verify worker) keeps polling for a short window after
each request instead of sleeping, then sleeps again. Checked by behaviour: loop iterations counted while
the window is open and after it closed, and replies unchanged."""

from __future__ import annotations

import asyncio
import time

import pytest

from localnet.errors import LoadError
from localnet.rpc_http import BusyPoll
from localnet.server import Localnet
from localnet.verify_pool import _reader

pytestmark = pytest.mark.localnet


class _Counting(BusyPoll):
    __slots__ = ("spins",)

    def __init__(self, window_us: float) -> None:
        super().__init__(window_us)
        self.spins = 0

    def _spin(self) -> None:
        self.spins += 1
        super()._spin()


async def test_window_keeps_the_loop_polling_then_stops() -> None:
    poll = _Counting(20_000)  # 20 ms
    poll.touch()
    assert poll.active
    await asyncio.sleep(0.05)
    assert not poll.active  # the window closed by itself
    # It ran many times while open (a loop sleeping in a 50 ms wait would have run it once), then stopped.
    assert poll.spins > 20
    settled = poll.spins
    await asyncio.sleep(0.03)
    assert poll.spins == settled


async def test_touch_extends_the_window_and_zero_disables() -> None:
    poll = BusyPoll(200_000)  # 200 ms: sleeps may overrun on a loaded machine without changing the outcome
    poll.touch()
    await asyncio.sleep(0.15)
    poll.touch()
    await asyncio.sleep(0.1)
    assert poll.active  # 250 ms after the first touch, 100 ms after the second
    await asyncio.sleep(0.3)
    assert not poll.active
    off = BusyPoll(0)
    off.touch()
    assert not off.active and off.loop is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"busy_poll_us": -1},
        {"busy_poll_us": float("inf")},
        {"busy_poll_us": float("nan")},
        {"busy_poll_us": 200_000},
        {"slot_ms": float("nan")},
        {"slot_ms": 0},
        {"verify_workers": -1},
        {"verify_workers": 65},
    ],
)
async def test_bad_settings_are_refused_naming_the_flag(kwargs: dict[str, float]) -> None:
    flag = {"busy_poll_us": "--busy-poll-us", "slot_ms": "--slot-ms", "verify_workers": "--verify-workers"}
    with pytest.raises(LoadError, match=flag[next(iter(kwargs))]):
        Localnet(rpc_port=0, **kwargs)  # type: ignore[arg-type]


def test_cli_refuses_an_endless_busy_poll_in_one_line() -> None:
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", "--busy-poll-us", "inf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "--busy-poll-us" in res.stderr


@pytest.mark.parametrize("busy", [0.0, 300.0])
async def test_replies_are_the_same_with_and_without_busy_polling(localnet_factory, busy: float) -> None:
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.commitment import Processed

    net = await localnet_factory(busy_poll_us=busy)
    async with AsyncClient(net.rpc_url) as client:
        slots = [(await client.get_slot(Processed)).value for _ in range(5)]
    assert slots == sorted(slots) and slots[0] >= 1
    assert net.busy_poll.window == busy / 1e6
    await asyncio.sleep(0.01)
    assert not net.busy_poll.active  # idle again once the window passed


def test_worker_reader_spins_then_blocks_and_sees_eof() -> None:
    import os
    import threading

    r, w = os.pipe()
    read = _reader(r, 5_000)  # 5 ms window
    os.write(w, b"abc")
    assert read() == b"abc"
    # Nothing arrives for longer than the window: the reader falls back to blocking and still gets data.
    threading.Timer(0.05, os.write, (w, b"late")).start()
    t0 = time.perf_counter()
    assert read() == b"late"
    assert time.perf_counter() - t0 >= 0.04
    os.close(w)
    assert read() == b""  # EOF ends the worker
    os.close(r)
