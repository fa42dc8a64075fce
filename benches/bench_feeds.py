"""Per-frame cost of each CEX feed format against the bare `orjson.loads` of the same frames.

`python -m benches.bench_feeds [--frames N] [--rounds R]`

For each venue, N frames in that venue's format (from `localnet.cex_server.render_frame`, prices
from a seeded GBM, increasing sequence numbers) are timed in chunks of CHUNK frames; the per-frame
cost of a chunk is its time / CHUNK (timing every frame alone would mostly measure the clock).
Three loops run interleaved round by round, so drift hits them alike:
  floor  - `orjson.loads(frame)`: the bare parse, what any JSON feed pays;
  parse  - `FrameParser.handle`: typed decode + checks + `Quote` construction (emit discards it);
  client - `FeedClient.handle_frame`: the above plus the latest-quote store and conflation.
Reported: p50 / p90 / p99 ns per frame and the ratio to the floor at p50.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence

import orjson

from benches.timing import CHUNK, summary, time_chunks
from bot.feeds import Exchange, FeedStats, Quote, make_feed, make_parser
from localnet.cex_server import render_frame
from localnet.market_path import gbm_path

SYMBOLS = {
    Exchange.BINANCE: ["SOLUSDC", "BNBUSDT", "ETHUSDC", "BTCUSDC"],
    Exchange.COINBASE: ["SOL-USD", "BTC-USD", "ETH-USD", "BNB-USD"],
    Exchange.OKX: ["SOL-USDC", "BTC-USDT", "ETH-USDT", "BNB-USDT"],
    Exchange.BYBIT: ["SOLUSDC", "BTCUSDT", "ETHUSDT", "BNBUSDT"],
}


def make_frames(venue: Exchange, n: int) -> list[bytes]:
    symbols = SYMBOLS[venue]
    path = gbm_path(seed=42, n=n)
    now = time.time_ns()
    frames = []
    for i, p in enumerate(path):
        sym = symbols[i % len(symbols)]
        frames.append(
            render_frame(venue.value, sym, 1000 + i, f"{p.bid:.8f}", f"{p.ask:.8f}", now + i).encode()
        )
    return frames


def bench_venue(venue: Exchange, n_frames: int, rounds: int) -> dict[str, dict[str, float]]:
    frames = make_frames(venue, n_frames)
    symbols = SYMBOLS[venue]
    samples: dict[str, list[float]] = {"floor": [], "parse": [], "client": []}

    def discard(q: Quote) -> None:
        pass

    loads = orjson.loads
    for _ in range(rounds):
        parser = make_parser(venue, symbols, discard, stats=FeedStats())
        feed = make_feed(venue.value, "ws://unused", symbols, stale_after_ns=10**9)

        def parse(f: bytes, h: Callable[[bytes | str, int], None] = parser.handle) -> None:
            h(f, 1)

        def client(f: bytes, h: Callable[[bytes | str, int | None], None] = feed.handle_frame) -> None:
            h(f, 1)

        gc.collect()
        time_chunks(loads, frames, samples["floor"])
        time_chunks(parse, frames, samples["parse"])
        time_chunks(client, frames, samples["client"])
        if parser.stats.quotes != len(frames) or feed.stats.quotes != len(frames):
            raise RuntimeError(
                f"{venue}: parsed {parser.stats.quotes}/{len(frames)} frames: {parser.stats.as_dict()}"
            )
    return {name: summary(xs) for name, xs in samples.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benches.bench_feeds", description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"ns per frame, chunks of {CHUNK}, {args.frames} frames x {args.rounds} rounds")
    print(f"{'venue':9} {'bytes':>5}  {'loop':7} {'p50':>7} {'p90':>7} {'p99':>7}  {'x floor p50':>11}")
    for venue in Exchange:
        size = sum(map(len, make_frames(venue, 100))) // 100
        res = bench_venue(venue, args.frames, args.rounds)
        floor = res["floor"]["p50"]
        for name in ("floor", "parse", "client"):
            r = res[name]
            print(
                f"{venue.value:9} {size:5d}  {name:7} {r['p50']:7.0f} {r['p90']:7.0f} {r['p99']:7.0f}  "
                f"{r['p50'] / floor:11.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
