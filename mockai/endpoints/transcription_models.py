"""What each transcription model takes and gives, as the SDK (3.57) and OpenAI's spec describe them.

whisper-1 has every text format and timestamps; the gpt-4o transcribe models answer json or text, stream,
give logprobs and count tokens; gpt-4o-transcribe-diarize labels speakers (`diarized_json`); gpt-transcribe
takes `keywords` and `languages` hints and reports the languages it heard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Abilities:
    formats: tuple[str, ...]
    """The `response_format` values the model answers."""
    tokens: bool
    """Usage counts tokens (else seconds of audio)."""
    stream: bool
    logprobs: bool
    prompt: bool
    diarize: bool
    """Takes `known_speaker_*`, needs `chunking_strategy`, and labels speakers."""
    hints: bool
    """Takes `keywords` and `languages`, and answers the detected `languages`."""


WHISPER = Abilities(("json", "text", "srt", "verbose_json", "vtt"), False, False, False, True, False, False)
GPT_4O = Abilities(("json", "text"), True, True, True, True, False, False)
DIARIZE = Abilities(("json", "text", "diarized_json"), False, True, False, False, True, False)
"""Usage in seconds: the spec's diarized_json example reports `{"type": "duration", "seconds": 43}`."""
GPT_TRANSCRIBE = Abilities(("json", "text"), False, True, False, True, False, True)
"""[UNVERIFIED] formats (the migration guide: "the new model returns JSON") and usage in seconds (priced per
minute of audio)."""

DIARIZE_MAX_SECONDS = 1400
"""Longer audio is refused by the diarize model, as users pasted ("... the maximum for this model")."""


def abilities(model_id: str) -> Abilities:
    """The abilities of a catalogue model id (a dated snapshot has its family's)."""
    if model_id == "whisper-1":
        return WHISPER
    if model_id.startswith("gpt-4o-transcribe-diarize"):
        return DIARIZE
    if model_id.startswith("gpt-transcribe"):
        return GPT_TRANSCRIBE
    return GPT_4O


def use_instead(formats: tuple[str, ...]) -> str:
    """`'json' or 'text'`: the tail of the "not compatible" error ([UNVERIFIED] for three formats)."""
    quoted = [f"'{f}'" for f in formats]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
