"""The polite upstream gate: one request in flight per host, retries, cool-downs.

`exchange.UpstreamGate` sends; `policy` says how politely; a coordinator per variant
holds the per-host slot (`local`, `file` for SQLite, `postgres`); `upstreams.Upstreams`
keeps one gate per host.
"""
