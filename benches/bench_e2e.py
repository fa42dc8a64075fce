"""The end-to-end hot-path harness (frame -> decision -> 3 endpoints, per stage, beside same-run floors).

`python -m benches.bench_e2e [--updates N] [--transport picows|websockets] [--json] [--png PATH] [--profile]`
is `solarb bench --e2e`; the implementation and its description live in `bot.e2e_bench`.
"""

from __future__ import annotations

from bot.e2e_bench import main

if __name__ == "__main__":
    raise SystemExit(main())
