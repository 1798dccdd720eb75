"""The chatbot: a channel-agnostic dialogue engine and its front ends.

- `bot.engine.DialogueEngine` – text or button in, `Outcome` (replies + notices) out.
- `bot.notify.Notifier` – turns the order history (order_events) into messages (outbox).
- `bot.telegram.TelegramFrontend` – python-telegram-bot adapter, a runtime service.
- `cli/chat.py` – the same engine in a terminal (`xiangyin chat`).
"""
