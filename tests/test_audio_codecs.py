"""The speech synthesizer writes files FFmpeg decodes, and the upload probe reads their durations back."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import time

import av
import pytest
from hypothesis import given, settings, strategies as st

from mockai.endpoints import audio_probe
from mockai.endpoints.audio_probe import AudioInfo, probe
from mockai.generation import audio_synth

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
TEXT = "The beach was a popular spot on a hot summer day."
LONGEST = ("Speech synthesis, 1 2 3! " * 200)[:4096]


def decode(data: bytes, response_format: str) -> tuple[int, int, int, bytes]:
    """(sample rate, channels, samples, s16 mono PCM when the decoder gives it) as FFmpeg strictly
    decodes `data`."""
    raw = response_format == "pcm"
    options = {"sample_rate": "24000", "channels": "1"} if raw else None
    with av.open(io.BytesIO(data), "r", format="s16le" if raw else None, options=options) as container:
        stream = container.streams.audio[0]
        stream.codec_context.options = {
            "err_detect": "crccheck+bitstream+buffer+explode"
        }  # fail, don't conceal
        frames = list(container.decode(stream))
    pcm = b"".join(bytes(f.planes[0])[: 2 * f.samples] for f in frames if f.format.name == "s16")
    return frames[0].sample_rate, stream.codec_context.channels, sum(f.samples for f in frames), pcm


def encode(container_format: str, codec: str, rate: int, seconds: float) -> bytes:
    """A sine wave encoded by FFmpeg itself: a real-world file to probe."""
    count = int(seconds * rate)
    frame = av.AudioFrame(format="s16", layout="mono", samples=count)
    frame.planes[0].update(struct.pack(f"<{count}h", *(int(8000 * math.sin(i * 0.05)) for i in range(count))))
    frame.sample_rate, frame.pts = rate, 0
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream) and stream.codec_context.codec.audio_formats
        resampler = av.AudioResampler(format=stream.codec_context.codec.audio_formats[0].name, rate=rate)
        for converted in [*resampler.resample(frame), *resampler.resample(None), None]:
            out.mux(stream.encode(converted))
    return buffer.getvalue()


def wav(body_chunks: bytes, fmt: bytes, riff_size: int | None = None) -> bytes:
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + body_chunks
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) if riff_size is None else riff_size) + b"WAVE" + chunks


def chunk(kind: bytes, payload: bytes, declared: int | None = None) -> bytes:
    size = len(payload) if declared is None else declared
    return kind + struct.pack("<I", size) + payload + b"\0" * (len(payload) & 1)


PCM_FMT = struct.pack("<HHIIHH", 1, 2, 16_000, 64_000, 4, 16)  # stereo 16-bit 16 kHz: 4 bytes a frame
ONE_SECOND = bytes(64_000)


# MPEG audio frames with all-zero side info: silent, and sized exactly as their headers say.
def mpeg_frames(header: bytes, count: int, length: int, padded_every: int = 0) -> bytes:
    padded = bytes([header[0], header[1], header[2] | 2, header[3]])
    return b"".join(
        padded + bytes(length - 3) if padded_every and i % padded_every == 0 else header + bytes(length - 4)
        for i in range(count)
    )


MPEG1_L3_128K_44K = b"\xff\xfb\x90\xc0"  # 144 * 128000 / 44100 = 417.96: LAME pads 48 frames of 49


def id3v2(payload: bytes) -> bytes:
    size = len(payload)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + payload


# --- synthesis ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("response_format", FORMATS)
def test_every_format_decodes_with_ffmpeg_to_the_intended_duration(response_format: str) -> None:
    data = audio_synth.synthesize(TEXT, response_format)
    rate, channels, samples, _ = decode(data, response_format)
    # The compressed formats round up to whole frames: 24 ms (mp3), 42.7 ms (aac).
    assert abs(samples / rate - audio_synth.speech_duration(TEXT)) < 0.05
    assert channels == 1
    assert rate == (48_000 if response_format == "opus" else 24_000)  # Opus always decodes at 48 kHz


def test_content_types_cover_exactly_the_speech_formats() -> None:
    assert dict(audio_synth.CONTENT_TYPES) == {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }


@pytest.mark.parametrize(
    ("response_format", "magic"),
    [("mp3", b"\xff\xf3"), ("opus", b"OggS"), ("aac", b"\xff\xf1"), ("flac", b"fLaC"), ("wav", b"RIFF")],
)
def test_each_file_starts_with_its_formats_signature(response_format: str, magic: bytes) -> None:
    data = audio_synth.synthesize(TEXT, response_format)
    assert data.startswith(magic)
    if response_format == "opus":
        assert data[28:36] == b"OpusHead" and b"OpusTags" in data[:200]


def test_flac_and_pcm_hold_the_same_samples_as_the_wav_and_streaminfo_has_their_md5() -> None:
    wav_data = audio_synth.synthesize(TEXT, "wav")
    pcm = audio_synth.synthesize(TEXT, "pcm")
    flac = audio_synth.synthesize(TEXT, "flac")
    assert wav_data[44:] == pcm
    assert len(pcm) == 2 * round(audio_synth.speech_duration(TEXT) * 24_000)
    assert decode(flac, "flac")[3] == pcm
    assert flac[26:42] == hashlib.md5(pcm).digest()
    assert max(abs(s) for s in struct.unpack(f"<{len(pcm) // 2}h", pcm)) in range(
        1000, 3300
    )  # audible, quiet


@pytest.mark.parametrize("response_format", FORMATS)
def test_the_same_arguments_give_byte_identical_audio(response_format: str) -> None:
    first = audio_synth.synthesize(TEXT, response_format, speed=1.5, voice="nova")
    assert audio_synth.synthesize(TEXT, response_format, speed=1.5, voice="nova") == first


def test_text_and_voice_shape_the_waveform() -> None:
    base = audio_synth.synthesize("hello there", "pcm")
    assert audio_synth.synthesize("hello where", "pcm") != base
    assert audio_synth.synthesize("hello there", "pcm", voice="onyx") != base


@pytest.mark.parametrize(
    ("text", "speed", "seconds"),
    [
        ("", 1.0, 0.5),
        ("Hi.", 1.0, 0.5),
        ("x" * 15, 1.0, 1.0),
        ("x" * 150, 1.0, 10.0),
        ("x" * 150, 2.0, 5.0),
        ("x" * 150, 0.25, 40.0),
        ("x" * 150, 4.0, 2.5),
        ("x" * 4096, 1.0, 273.1),
    ],
)
def test_intended_duration_is_about_15_characters_a_second_over_speed(
    text: str, speed: float, seconds: float
) -> None:
    assert audio_synth.speech_duration(text, speed) == pytest.approx(seconds)


@pytest.mark.parametrize("response_format", ["mp3", "opus", "flac", "wav"])
def test_longer_text_gives_longer_audio_and_speed_shortens_it(response_format: str) -> None:
    def seconds(text: str, speed: float) -> float:
        rate, _, samples, _ = decode(audio_synth.synthesize(text, response_format, speed), response_format)
        return samples / rate

    short, long = seconds(TEXT, 1.0), seconds(TEXT * 3, 1.0)
    assert long > 2.5 * short
    assert seconds(TEXT * 3, 2.0) == pytest.approx(long / 2, abs=0.05)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"response_format": "ogg"}, "unknown response_format 'ogg'"),
        ({"response_format": "mp3", "speed": 4.5}, "speed 4.5 is outside 0.25..4.0"),
        ({"response_format": "mp3", "speed": 0.0}, "speed 0.0 is outside"),
    ],
)
def test_unknown_format_or_out_of_range_speed_is_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        audio_synth.synthesize("hi", **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("response_format", FORMATS)
def test_the_longest_input_is_synthesized_fast(response_format: str) -> None:
    audio_synth.synthesize(LONGEST, response_format)  # warm the per-tone caches
    start = time.perf_counter()
    audio_synth.synthesize(LONGEST, response_format)
    assert time.perf_counter() - start < 0.5  # measured 1-40 ms; loose for a shared CI machine


# --- probing: synthesized and FFmpeg-written files -----------------------------------------------------


@pytest.mark.parametrize(
    ("response_format", "container"), [("wav", "wav"), ("mp3", "mp3"), ("flac", "flac"), ("opus", "ogg")]
)
def test_probe_reads_back_the_duration_of_synthesized_files(response_format: str, container: str) -> None:
    text = TEXT * 2
    info = probe(audio_synth.synthesize(text, response_format, speed=1.25), f"speech.{container}")
    assert info.format == container
    assert info.duration == pytest.approx(audio_synth.speech_duration(text, 1.25), abs=0.025)


@pytest.mark.parametrize(
    ("container_format", "codec", "rate", "filename", "detected"),
    [
        ("mp3", "libmp3lame", 44_100, "a.mp3", "mp3"),  # ID3v2 + Xing + LAME delay/padding
        ("flac", "flac", 16_000, "a.flac", "flac"),
        ("ogg", "libopus", 48_000, "a.ogg", "ogg"),
        ("ogg", "flac", 16_000, "a.oga", "ogg"),
        ("ipod", "aac", 24_000, "a.m4a", "mp4"),
        ("wav", "pcm_s16le", 8_000, "a.wav", "wav"),
    ],
)
def test_probe_reads_the_duration_of_files_ffmpeg_wrote(
    container_format: str, codec: str, rate: int, filename: str, detected: str
) -> None:
    info = probe(encode(container_format, codec, rate, 1.5), filename)
    assert info.format == detected
    assert info.duration == pytest.approx(1.5, abs=0.03)


def test_webm_is_recognized_without_a_duration() -> None:
    assert probe(encode("webm", "libopus", 48_000, 0.5), "a.webm") == AudioInfo("webm", None)


# --- probing: WAV edge cases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "seconds"),
    [
        (wav(chunk(b"data", ONE_SECOND), PCM_FMT), 1.0),
        # WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask, SubFormat GUID starting 01 00 (PCM).
        (
            wav(
                chunk(b"data", ONE_SECOND),
                struct.pack("<HHIIHHHHI", 0xFFFE, 2, 16_000, 64_000, 4, 16, 22, 16, 3)
                + b"\x01\x00"
                + bytes(14),
            ),
            1.0,
        ),
        # Streaming writers: sizes left at 0 or 0xFFFFFFFF; the bytes present count.
        (wav(chunk(b"data", ONE_SECOND, declared=0), PCM_FMT, riff_size=0), 1.0),
        (wav(chunk(b"data", ONE_SECOND, declared=0xFFFFFFFF), PCM_FMT, riff_size=0xFFFFFFFF), 1.0),
        # An odd-sized LIST chunk before the data is padded to even length.
        (wav(chunk(b"LIST", b"INFOabc") + chunk(b"data", ONE_SECOND), PCM_FMT), 1.0),
        # A truncated upload claims 2 s but holds 0.5 s.
        (wav(chunk(b"data", ONE_SECOND[:32_000], declared=128_000), PCM_FMT), 0.5),
        # IMA ADPCM (0x11): the fact chunk's sample count, not the byte rate, is exact.
        (
            wav(
                chunk(b"fact", struct.pack("<I", 40_000)) + chunk(b"data", bytes(20_000)),
                struct.pack("<HHIIHH", 0x11, 1, 16_000, 8_110, 256, 4),
            ),
            2.5,
        ),
        (wav(b"", PCM_FMT), None),  # no data chunk
        (b"RIFF\0\0\0\0WAVEfmt ", None),
    ],
    ids=[
        "plain",
        "extensible",
        "streaming-0",
        "streaming-ffffffff",
        "odd-chunk",
        "truncated",
        "fact",
        "no-data",
        "cut",
    ],
)
def test_probe_reads_wav_durations_from_real_writers_headers(data: bytes, seconds: float | None) -> None:
    info = probe(data, "upload.wav")
    assert info.format == "wav"
    assert info.duration == (None if seconds is None else pytest.approx(seconds))


# --- probing: MPEG audio -----------------------------------------------------------------------------


def test_probe_skips_an_id3v2_tag_that_contains_fake_frame_syncs() -> None:
    mp3 = audio_synth.synthesize(TEXT, "mp3")
    tag = id3v2(b"TIT2" + (MPEG1_L3_128K_44K + bytes(20)) * 30)
    info = probe(tag + mp3, "song.mp3")
    assert info.format == "mp3"
    assert info.duration == pytest.approx(audio_synth.speech_duration(TEXT), abs=0.025)
    assert decode(tag + mp3, "mp3")[2] == decode(mp3, "mp3")[2]  # FFmpeg agrees it is the same audio


@pytest.mark.parametrize(
    ("data", "seconds"),
    [
        # MPEG-1 layer III CBR, no Xing: short files are walked to the end, long ones extrapolated.
        (mpeg_frames(MPEG1_L3_128K_44K, 100, 417, padded_every=49), 100 * 1152 / 44_100),
        (mpeg_frames(MPEG1_L3_128K_44K, 5000, 417, padded_every=49), 5000 * 1152 / 44_100),
        (mpeg_frames(MPEG1_L3_128K_44K, 300, 417) + b"TAG" + bytes(125), 300 * 1152 / 44_100),  # ID3v1
        (mpeg_frames(b"\xff\xfd\x84\x00", 50, 384), 50 * 1152 / 48_000),  # MPEG-1 layer II, 128k 48 kHz
        (mpeg_frames(b"\xff\xff\xc0\x00", 50, 416), 50 * 384 / 44_100),  # MPEG-1 layer I, 384k 44.1 kHz
        (mpeg_frames(b"\xff\xe3\x18\xc0", 40, 72), 40 * 576 / 8_000),  # MPEG-2.5 layer III, 8k 8 kHz
        # A VBRI (Fraunhofer) header 32 bytes after the first header says 1234 frames.
        (
            b"\xff\xfb\x90\xc0"
            + bytes(32)
            + b"VBRI"
            + bytes(10)
            + struct.pack(">I", 1234)
            + bytes(417 - 54)
            + mpeg_frames(MPEG1_L3_128K_44K, 9, 417),
            1234 * 1152 / 44_100,
        ),
        (b"\xff\xfb\x90", None),  # a header cut short
        (bytes(1000), None),
    ],
    ids=["cbr-walked", "cbr-extrapolated", "id3v1", "layer2", "layer1", "mpeg2.5", "vbri", "cut", "zeros"],
)
def test_probe_reads_mpeg_audio_frame_headers(data: bytes, seconds: float | None) -> None:
    info = probe(data, "clip.mp3")
    assert info.format == "mp3"
    assert info.duration == (None if seconds is None else pytest.approx(seconds, rel=0.002))


def test_probe_of_a_25_mb_mp3_without_a_xing_header_is_fast() -> None:
    frame_count = 25 * 1024 * 1024 // 418
    data = id3v2(bytes(4096)) + mpeg_frames(MPEG1_L3_128K_44K, frame_count, 417, padded_every=49)
    start = time.perf_counter()
    info = probe(data, "long.mp3")
    assert time.perf_counter() - start < 0.1  # measured well under 1 ms
    assert info.duration == pytest.approx(frame_count * 1152 / 44_100, rel=0.002)


# --- probing: names and garbage ----------------------------------------------------------------------


def test_the_unsupported_format_message_lists_openais_extensions() -> None:
    assert audio_probe.UNSUPPORTED_FORMAT_MESSAGE == (
        "Invalid file format. Supported formats: "
        "['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"
    )
    assert audio_probe.UNSUPPORTED_FORMAT_MESSAGE.endswith(str(list(audio_probe.SUPPORTED_EXTENSIONS)))


@pytest.mark.parametrize(
    ("filename", "supported"),
    [
        ("speech.mp3", True),
        ("Memo.M4A", True),
        ("C:\\recordings\\call.wav", True),
        ("a.b.webm", True),
        ("voice.mpga", True),
        ("notes.txt", False),
        ("audio", False),
        ("dir.mp3/audio", False),
        ("speech.mp3.zip", False),
        ("", False),
    ],
)
def test_is_supported_judges_the_extension(filename: str, supported: bool) -> None:
    assert audio_probe.is_supported(filename) is supported


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "a.wav", AudioInfo("unknown", None)),
        (b"hello world", "a.mp3", AudioInfo("mp3", None)),
        (b"hello world", "a.ogg", AudioInfo("unknown", None)),
        (b"OggS" + bytes(40), "a.ogg", AudioInfo("ogg", None)),
        (b"fLaC" + bytes(10), "a.flac", AudioInfo("flac", None)),
        (b"\0\0\0\x10ftypM4A " + bytes(8), "a.m4a", AudioInfo("mp4", None)),
    ],
)
def test_probe_of_empty_or_cut_files_says_unknown_duration(
    data: bytes, filename: str, expected: AudioInfo
) -> None:
    assert probe(data, filename) == expected


SAMPLES = [audio_synth.synthesize("Probe me, please.", fmt) for fmt in ("wav", "mp3", "flac", "opus")] + [
    id3v2(b"TIT2xx") + mpeg_frames(MPEG1_L3_128K_44K, 4, 417),
    encode("ipod", "aac", 24_000, 0.3),
]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048), filename=st.sampled_from(["a.mp3", "a.wav", "a.mpeg", "a", "a.ogg"]))
def test_probe_never_raises_on_random_bytes(data: bytes, filename: str) -> None:
    info = probe(data, filename)
    assert info.duration is None or info.duration >= 0


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(0, len(SAMPLES) - 1),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_probe_never_raises_on_truncated_or_corrupted_files(
    index: int, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(SAMPLES[index][: int(len(SAMPLES[index]) * cut)])
    for where, value in flips:
        if data:
            data[min(int(where * len(data)), len(data) - 1)] = value
    info = probe(bytes(data), "upload.mp3")
    assert info.duration is None or info.duration >= 0
