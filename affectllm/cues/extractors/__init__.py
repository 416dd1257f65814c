"""What a clip shows, one channel each: the face (detection, mesh, expression, peak, calibration), the transcript
(faster-whisper), the voice's prosody, the words' lexicon; and the numpy signal processing they and the voice
head read (pYIN pitch tracks, short-time spectra, which frames hold sound)."""
