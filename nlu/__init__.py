"""Language understanding for residents' colloquial Chinese (the DESIGN.md NLU contract).

Rasa 3.6 runs as a sidecar HTTP server in its own Python 3.10 venv; nothing here imports
`rasa`.  The pieces:

- `nlu.client.NluClient` – the only thing front ends use: `await client.parse(text)` returns an
  `NluResult` (intent, confidence, normalised `Entities`) and never raises.  Low confidence,
  an unreachable or slow sidecar, empty input… all give intent `nlu_fallback` with a
  `fallback_reason`.
- `nlu.normalise.Normaliser` – turns Rasa's raw entity strings (and the text itself, where a
  deterministic rule is reliable) into menu ids, village ids, time windows, ints, phones.
- `nlu.generate` – builds the Rasa project (lookup tables, synonyms, jieba user dictionary,
  training data) from the app's `config.yml` into `var/nlu-build/`.
- `nlu.sidecar.RasaSidecar` – the runtime service that trains (cached by fingerprint), starts,
  health-checks, restarts and stops `rasa run --enable-api`.
"""

INTENTS: tuple[str, ...] = (
    "request_service",
    "check_order",
    "cancel_order",
    "rate_order",
    "ask_menu",
    "ask_broadcast",
    "volunteer_signup",
    "talk_to_staff",
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
)
FALLBACK_INTENT = "nlu_fallback"
ENTITY_NAMES: tuple[str, ...] = ("service", "village", "time", "count", "order_id", "rating", "phone")
