"""The bot's retry/backoff helper: the one implementation lives in `rpc.retry`.

`rpc` may not import `bot`, so the single capped-exponential, full-jitter, predicate-driven and
cancellable helper sits there; `bot` code imports it from here so the composition root has one
name for it:

- `backoff_delays(base_s, cap_s, rng=None)`: endless delays, the n-th uniform in
  [0, min(cap_s, base_s * 2**n)]; start a new generator to reset.
- `retry(fn, *, is_retryable, base_s, cap_s, max_attempts=None, rng=None, min_delay_s=None,
  sleep=asyncio.sleep)`: await `fn()` until it succeeds; non-retryable errors and the last of
  `max_attempts` are re-raised unchanged.
- `retry_after_floor(err)`: a `min_delay_s` honouring an error's `retry_after_s`.
"""

from rpc.retry import backoff_delays, retry, retry_after_floor

__all__ = ["backoff_delays", "retry", "retry_after_floor"]
