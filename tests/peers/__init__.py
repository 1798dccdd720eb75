"""Stand-ins for the services Xiangyin talks to, for tests and benchmarks (never shipped).

- `tests.peers.telegram_api.FakeBotApi` – a local Bot API server speaking Telegram's HTTP protocol.
- `tests.peers.rasa` – a live, trained Rasa sidecar on a free port (`running_sidecar`, `shared_sidecar`).
- `tests.peers.keyword_nlu.KeywordNlu` – a deterministic NLU with the `NluClient` protocol.
- `tests.peers.edge_tts` – a local server speaking edge-tts's websocket protocol.
- `tests.peers.wechat.FakeWeChat` – WeChat's servers: signed/encrypted callbacks to the adapter, the API.
- `tests.peers.asr.FakeAsr` – a FunASR runtime WebSocket server, plus residents' voices (AMR, OGG).
"""
