"""The nlu room's tests share one real Rasa sidecar: the `rasa_url`, `rasa_sidecar` and
`nlu_client` fixtures come from tests/rasa_fixture.py (registered in tests/conftest.py)."""
