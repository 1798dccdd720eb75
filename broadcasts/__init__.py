"""Loudspeaker broadcasts (大喇叭): announcements with approval, the programme calendar,
scheduled generation (TTS + mastering) and the day's MP3s and playlists in audio_out/."""
