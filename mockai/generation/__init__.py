"""Deterministic output: ids, default text, JSON from schemas, embedding vectors, audio, transcripts."""
