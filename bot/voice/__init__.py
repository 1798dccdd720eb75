"""Voice messages: speech in (ASR, audio conversion) and voice replies (语音回复) out."""
