"""Solana JSON-RPC / PubSub clients, endpoint pool and submission. Knows nothing about pools or
arbitrage; never imports ``bot`` or ``strategies``.

- `rpc.errors`: `RpcError` root and typed variants; `is_retryable(err)`.
- `rpc.retry`: the project's one backoff helper (`backoff_delays`, `retry`, `retry_after_floor`).
- `rpc.requests`: sans-I/O builders returning `Call[T]` (``call.encode(req_id) -> bytes``) and
  parsers (`parse_response`, `parse_batch`) producing typed msgspec structs.
- `rpc.http`: `HttpTransport`, raw HTTP/1.1 keep-alive with a small connection pool; `Transport`
  Protocol for tests that swap it.
- `rpc.client`: `RpcClient(url, *, timeout_s, connections, transport)`: typed async methods, `call`,
  `batch`.
- `rpc.pubsub`: `PubSubClient`: one websocket, reconnect + resubscribe + ``on_resubscribed``.
- `rpc.pool`: `EndpointPool`, `EndpointConfig`, `Role`, `TokenBucket`; ranking refreshed by `probe()`.
- `rpc.submit`: `Sender` Protocol, `RpcSender` fan-out, `signature_of(tx_bytes)`.
- `rpc.jito`: Jito block engine (sendBundle, getBundleStatuses, getInflightBundleStatuses, getTipAccounts):
  builders, `JitoClient(url)`, `JitoSender(clients)` (a `Sender` of one-transaction bundles).
"""
