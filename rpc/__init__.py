"""Solana JSON-RPC / PubSub clients, endpoint pool and submission. Knows nothing about pools or
arbitrage; never imports ``bot`` or ``strategies``.

- `rpc.errors`: `RpcError` root and typed variants; `is_retryable(err)`. Errors name endpoints redacted.
- `rpc.redact`: `redact_url` (scheme://host:port only), `redact_text` (scrub a URL's secrets from text).
- `rpc.retry`: the project's one backoff helper (`backoff_delays`, `retry`, `retry_after_floor`).
- `rpc.requests`: sans-I/O builders returning `Call[T]` (``call.encode(req_id) -> bytes``), parsers
  (`parse_response`, `parse_batch`) producing typed msgspec structs, `SendTemplate` for sendTransaction.
- `rpc.http`: `HttpTransport`, raw HTTP/1.1 keep-alive with a small connection pool (`request`, and
  `write_now` + `response` for writing without awaiting; `connect` to open connections early);
  `Transport` Protocol for tests that swap it.
- `rpc.client`: `RpcMethods` (every typed method over ``call``/``batch``); `RpcClient(url, ...)`: one endpoint.
- `rpc.health`: `EndpointHealth` (latency/error-rate EWMAs, slot lag, Retry-After back-off, circuit
  breaker), `HealthPolicy`, `is_endpoint_fault`. Pure.
- `rpc.pool`: `EndpointPool` (ranked by health, `run_probing`, `snapshot`), `EndpointConfig`, `Role`,
  `TokenBucket`; `PoolClient(pool, on_switch=...)`: `RpcMethods` with fail-over across read endpoints.
- `rpc.pubsub`: `PubSubClient`: one websocket, reconnect + resubscribe + ``on_resubscribed``.
- `rpc.submit`: `RpcSender` (same bytes to the top-k send endpoints in one pass: `connect`,
  `write_all` -> `PendingSend`, `send` -> `SendResult`), `Sender` Protocol, `signature_of(tx_bytes)`.
- `rpc.jito`: Jito block engine (sendBundle, getBundleStatuses, getInflightBundleStatuses, getTipAccounts):
  builders, `JitoClient(url)`, `JitoSender(clients)` (a `Sender` of one-transaction bundles).
"""
