"""What a transcription says and how it is laid out: default text, segments, words, SRT and WebVTT.

The default transcript is derived from the audio bytes (their sha256) and grows with the duration,
about 2.5 words a second as in real speech, so the same file gives the same words whatever format is
asked for. Timings spread the duration over the words; segment fields look like Whisper's own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from mockai.models import tokens

WORDS_PER_SECOND = 2.5
MAX_WORDS = 40_000
"""About four hours of speech, more than a 25 MiB upload holds: bounds the work a lying header can cause."""
MAX_SEGMENT_WORDS = 40
"""Whisper cuts its segments within 30 s windows: no default segment runs longer than this."""
SENTENCES = (
    "The beach was a popular spot on a hot summer day.",
    "People were swimming in the ocean and building sandcastles.",
    "Thank you for calling, how can I help you today?",
    "Let me check the schedule for next week before we decide.",
    "The meeting starts at ten in the main conference room.",
    "We finished the first draft of the report yesterday afternoon.",
    "Please remember to bring the documents with you tomorrow.",
    "The train to the city leaves every twenty minutes.",
    "I think the results look promising so far.",
    "Could you repeat the last part of your question?",
    "The weather has been unusually warm this autumn.",
    "Our team will review the proposal and send feedback.",
    "It was a quiet evening and the streets were empty.",
    "The new library opens to the public on Saturday.",
    "She played the piano while the guests arrived.",
    "We should test the system again after the update.",
    "The recipe needs two cups of flour and a pinch of salt.",
    "Most of the questions were answered during the session.",
    "The river runs through the valley towards the sea.",
    "Thanks again, and have a wonderful day.",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PUNCTUATION = ".,!?;:\"'()[]"
_TIMESTAMP_BEGIN = 50364
"""Whisper's `<|0.00|>` token: timestamps count up from it in steps of 0.02 s within a 30 s window."""

_LANGUAGE_TABLE = (
    "en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese pt:portuguese "
    "tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian id:indonesian hi:hindi "
    "fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay cs:czech ro:romanian da:danish "
    "hu:hungarian ta:tamil no:norwegian th:thai ur:urdu hr:croatian bg:bulgarian lt:lithuanian la:latin "
    "mi:maori ml:malayalam cy:welsh sk:slovak te:telugu fa:persian lv:latvian bn:bengali sr:serbian "
    "az:azerbaijani sl:slovenian kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic "
    "hy:armenian ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician mr:marathi "
    "pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans oc:occitan ka:georgian "
    "be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao uz:uzbek fo:faroese "
    "ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese sa:sanskrit lb:luxembourgish my:myanmar "
    "bo:tibetan tl:tagalog mg:malagasy as:assamese tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir "
    "jw:javanese su:sundanese yue:cantonese"
)
LANGUAGES = {
    code: name.replace("_", " ") for code, name in (pair.split(":") for pair in _LANGUAGE_TABLE.split())
}
"""Whisper's languages: the code `language` takes (ISO-639-1 where there is one) -> the name `verbose_json`
reports."""


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    """The segment's words, without the leading space Whisper puts in `segments[].text`."""


def default_text(key: bytes, seconds: float) -> str:
    """Readable sentences picked by `key`, about WORDS_PER_SECOND words for each second of audio."""
    target = max(3, min(MAX_WORDS, round(seconds * WORDS_PER_SECOND)))
    picks = hashlib.shake_256(key).digest(max(8, target // 4))
    chosen: list[str] = []
    count, previous = 0, -1
    for i in range(len(picks)):
        index = picks[i] % len(SENTENCES)
        if index == previous:
            index = (index + 1) % len(SENTENCES)
        chosen.append(SENTENCES[index])
        count, previous = count + len(SENTENCES[index].split()), index
        if count >= target:
            break
    return " ".join(chosen)


def segments(text: str, duration: float) -> list[Segment]:
    """`text` cut at sentence ends (and every MAX_SEGMENT_WORDS words), timed in proportion to words."""
    pieces: list[list[str]] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words = sentence.split()
        pieces.extend(words[i : i + MAX_SEGMENT_WORDS] for i in range(0, len(words), MAX_SEGMENT_WORDS))
    total = sum(map(len, pieces))
    out, done = [], 0
    for i, words in enumerate(pieces):
        start = round(duration * done / total, 2)
        done += len(words)
        out.append(Segment(i, start, round(duration * done / total, 2), " ".join(words)))
    return out


def segment_json(seg: Segment, key: bytes, temperature: float) -> dict[str, Any]:
    """A `verbose_json` segment with every field Whisper sends, the statistics derived from `key`."""
    h = hashlib.blake2b(key + seg.id.to_bytes(4, "big"), digest_size=6).digest()
    seek = int(seg.start // 30) * 3000
    window = seek / 100
    ids = tokens.encode("r50k_base", " " + seg.text)  # Whisper's vocabulary is GPT-2's, grown for languages
    stamps = [_TIMESTAMP_BEGIN + min(1500, round((t - window) / 0.02)) for t in (seg.start, seg.end)]
    return {
        "id": seg.id,
        "seek": seek,
        "start": seg.start,
        "end": seg.end,
        "text": " " + seg.text,
        "tokens": [stamps[0], *ids, stamps[1]],
        "temperature": temperature,
        "avg_logprob": -round(0.1 + int.from_bytes(h[:2], "big") / 65535 * 0.4, 6),
        "compression_ratio": round(1.1 + int.from_bytes(h[2:4], "big") / 65535 * 0.5, 6),
        "no_speech_prob": round(0.001 + int.from_bytes(h[4:6], "big") / 65535 * 0.05, 6),
    }


def words(segs: list[Segment]) -> list[dict[str, Any]]:
    """Word timings: each segment's time shared equally by its words, punctuation left off."""
    out = []
    for seg in segs:
        parts = [w.strip(_PUNCTUATION) for w in seg.text.split()]
        parts = [w for w in parts if w] or [seg.text]
        step = (seg.end - seg.start) / len(parts)
        for i, word in enumerate(parts):
            out.append(
                {
                    "word": word,
                    "start": round(seg.start + i * step, 2),
                    "end": round(seg.start + (i + 1) * step, 2),
                }
            )
    return out


def srt(segs: list[Segment]) -> str:
    """SubRip: numbered blocks, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each."""
    return "".join(f"{s.id + 1}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n\n" for s in segs)


def vtt(segs: list[Segment]) -> str:
    """WebVTT: the header, then `HH:MM:SS.mmm --> HH:MM:SS.mmm` cues, a blank line after each."""
    return "WEBVTT\n\n" + "".join(
        f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n\n" for s in segs
    )


def _clock(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"
