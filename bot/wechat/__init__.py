"""The WeChat Official Account (公众号) channel: callback server, API client, rendering."""
