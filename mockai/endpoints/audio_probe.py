"""What an uploaded audio file is and how long it lasts, read from its headers only (never decoded)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

SUPPORTED_EXTENSIONS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
# OpenAI's answer to an unsupported extension: 400, invalid_request_error, param and code null. Not verified
# verbatim.
UNSUPPORTED_FORMAT_MESSAGE = (
    "Invalid file format. Supported formats: "
    "['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"
)

_MP3_SCAN = 64 * 1024
"""How far past the tags we look for the first MPEG audio frame."""
_MP3_WALK = 256
"""Frames walked before a file without a Xing/VBRI header is extrapolated from its size."""
_MP3_TAIL = 4096
"""Unparsed bytes after the last frame that we take for a trailing tag (APE, Lyrics3) rather than audio."""
_OGG_MAX_PAGE = 65_307
_MAX_CHUNKS = 1000
"""ID3 tags, WAV chunks or MP4 boxes looked at before giving up: hostile files could hold millions."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    """The container the bytes are: wav, mp3, flac, ogg, mp4, webm, or "unknown"."""
    duration: float | None
    """Seconds, when the headers say; None means estimate it from the byte size."""


def extension(filename: str) -> str:
    """The lowercased extension of `filename`, without the dot ("" if it has none)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def is_supported(filename: str) -> bool:
    """Whether OpenAI accepts a file of this name (it judges by the extension, case aside)."""
    return extension(filename) in SUPPORTED_EXTENSIONS


def probe(data: bytes, filename: str = "") -> AudioInfo:
    """Sniff the container of `data` and read its duration; garbage gives duration None, never an error."""
    start = _skip_id3v2(data)
    if data.startswith((b"RIFF", b"RF64")) and data[8:12] == b"WAVE":
        return AudioInfo("wav", _guard(_wav_duration, data, 0))
    if data.startswith(b"fLaC", start):
        return AudioInfo("flac", _guard(_flac_duration, data, start))
    if data.startswith(b"OggS"):
        return AudioInfo("ogg", _guard(_ogg_duration, data, 0))
    if data[4:8] == b"ftyp":
        return AudioInfo("mp4", _guard(_mp4_duration, data, 0))
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return AudioInfo("webm", None)
    # MPEG audio has no magic: trust an ID3 tag, a frame at offset 0, or an mp3-family extension.
    if start or _frame(data, 0) or extension(filename) in ("mp3", "mpga", "mpeg"):
        duration = _guard(_mp3_duration, data, start)
        if duration is not None or start or extension(filename) in ("mp3", "mpga"):
            return AudioInfo("mp3", duration)
    return AudioInfo("unknown", None)


def _guard(reader: Callable[[bytes, int], float | None], data: bytes, start: int) -> float | None:
    # Header readers index freely; any structural surprise in hostile bytes just means "unknown length".
    try:
        duration = reader(data, start)
    except (struct.error, IndexError, KeyError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return duration if duration is not None and duration >= 0 else None


def _skip_id3v2(data: bytes) -> int:
    """Offset after any ID3v2 tags: "ID3", version (2), flags (1), syncsafe size (4 x 7 bits)."""
    offset = 0
    for _ in range(_MAX_CHUNKS):
        if not data.startswith(b"ID3", offset) or len(data) < offset + 10:
            break
        size = 0
        for byte in data[offset + 6 : offset + 10]:
            size = (size << 7) | (byte & 0x7F)
        offset += 10 + size + (10 if data[offset + 5] & 0x10 else 0)  # 0x10: a footer follows
    return min(offset, len(data))


# --- WAV ---------------------------------------------------------------------------------------------
_WAVE_FORMAT_PCM, _WAVE_FORMAT_FLOAT, _WAVE_FORMAT_EXTENSIBLE = 1, 3, 0xFFFE


def _wav_duration(data: bytes, _start: int) -> float | None:
    offset, rate, block_align, byte_rate, tag, fact = 12, 0, 0, 0, 0, None
    for _ in range(_MAX_CHUNKS):
        chunk, size = struct.unpack_from("<4sI", data, offset)
        body = offset + 8
        if chunk == b"fmt ":
            tag, _channels, rate, byte_rate, block_align = struct.unpack_from("<HHIIH", data, body)
            if tag == _WAVE_FORMAT_EXTENSIBLE and size >= 40:
                tag = struct.unpack_from("<H", data, body + 24)[0]  # first two bytes of the SubFormat GUID
        elif chunk == b"fact" and size >= 4:
            fact = int.from_bytes(data[body : body + 4], "little")
        elif chunk == b"data":
            # Streaming writers leave 0 or 0xFFFFFFFF (RF64 keeps the real size in ds64); a truncated
            # upload claims more than it has. The bytes actually present are the truth in all three cases.
            available = len(data) - body
            length = available if size in (0, 0xFFFFFFFF) or size > available else size
            if tag in (_WAVE_FORMAT_PCM, _WAVE_FORMAT_FLOAT) and block_align:
                return length // block_align / rate
            if fact is not None and rate:
                return fact / rate
            return length / byte_rate if byte_rate else None
        offset = body + size + (size & 1)  # chunks are padded to an even length
    return None


# --- FLAC --------------------------------------------------------------------------------------------
def _flac_duration(data: bytes, start: int) -> float | None:
    # STREAMINFO is the first block: header (4), block sizes (4), frame sizes (6), then 64 bits of
    # sample rate (20), channels - 1 (3), bits per sample - 1 (5), total samples (36; 0 = unknown).
    if data[start + 4] & 0x7F != 0:
        return None
    packed = int.from_bytes(data[start + 18 : start + 26], "big")
    rate, total = packed >> 44, packed & 0xF_FFFF_FFFF
    return total / rate if rate and total and len(data) >= start + 26 else None


# --- Ogg ---------------------------------------------------------------------------------------------
def _ogg_duration(data: bytes, _start: int) -> float | None:
    segments = data[26]
    packet = data[27 + segments : 27 + segments + 64]
    serial = data[14:18]
    if packet.startswith(b"OpusHead"):
        rate, pre_skip = 48_000, struct.unpack_from("<H", packet, 10)[0]  # Opus granules are always 48 kHz
    elif packet.startswith(b"\x01vorbis"):
        rate, pre_skip = struct.unpack_from("<I", packet, 12)[0], 0
    elif packet.startswith(b"\x7fFLAC") and packet[9:13] == b"fLaC":
        rate, pre_skip = int.from_bytes(packet[27:30], "big") >> 4, 0
    else:
        return None
    granule = _last_granule(data, serial)
    return max(granule - pre_skip, 0) / rate if granule is not None and rate else None


def _last_granule(data: bytes, serial: bytes) -> int | None:
    """The granule position of the last page of this stream that ends a packet (-1 means none ends)."""
    end, floor = len(data), max(0, len(data) - 2 * _OGG_MAX_PAGE)
    while (page := data.rfind(b"OggS", floor, end)) >= 0:
        if page + 27 <= len(data) and data[page + 4] == 0 and data[page + 14 : page + 18] == serial:
            granule = int.from_bytes(data[page + 6 : page + 14], "little", signed=True)
            if granule >= 0:
                return granule
        end = page + 3
    return None


# --- MP4 / M4A ---------------------------------------------------------------------------------------
def _mp4_duration(data: bytes, _start: int) -> float | None:
    moov = _mp4_box(data, 0, len(data), b"moov")
    mvhd = _mp4_box(data, moov[0], moov[1], b"mvhd") if moov else None
    if mvhd is None:
        return None
    body = mvhd[0]
    # mvhd: version (1), flags (3), then 32- or 64-bit creation/modification times, timescale, duration.
    if data[body] == 1:
        scale, length = struct.unpack_from(">IQ", data, body + 20)
    else:
        scale, length = struct.unpack_from(">II", data, body + 12)
    return length / scale if scale and length != 0xFFFFFFFF else None  # all ones: unknown


def _mp4_box(data: bytes, offset: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    """(body start, body end) of the first `wanted` box among the boxes in data[offset:end]."""
    for _ in range(_MAX_CHUNKS):
        if offset + 8 > end:
            return None
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:
            size = end - offset
        if size < header:
            return None
        if kind == wanted:
            return offset + header, min(offset + size, end)
        offset += size
    return None


# --- MPEG audio (mp3) --------------------------------------------------------------------------------
# Index by [version][layer][bitrate index]; versions 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5; layer 3 = I.
_BITRATES = {
    True: {  # MPEG-1
        3: (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
        2: (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
        1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    },
    False: {  # MPEG-2 and 2.5 (low sampling frequencies)
        3: (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
        2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
        1: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    },
}
_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


@dataclass(frozen=True)
class _Frame:
    length: int
    samples: int
    rate: int
    side_info: int
    """Bytes of layer III side info after the header: where a Xing/Info tag starts."""


def _frame(data: bytes, offset: int) -> _Frame | None:
    """The MPEG audio frame header at `offset`: 11 sync bits, version (2), layer (2), no-CRC (1),
    bitrate index (4), sample-rate index (2), padding (1), private (1), channel mode (2), ..."""
    if offset + 4 > len(data) or data[offset] != 0xFF or data[offset + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
    version, layer, bitrate_index, rate_index = (b1 >> 3) & 3, (b1 >> 1) & 3, b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or free format (whose length we cannot know from the header)
    mpeg1, padding, mono = version == 3, (b2 >> 1) & 1, b3 >> 6 == 3
    bitrate, rate = _BITRATES[mpeg1][layer][bitrate_index] * 1000, _RATES[version][rate_index]
    if layer == 3:  # layer I: 384 samples, 4-byte slots
        return _Frame((12 * bitrate // rate + padding) * 4, 384, rate, 0)
    samples = 1152 if layer == 2 or mpeg1 else 576
    side_info = 0 if layer == 2 else (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return _Frame(samples // 8 * bitrate // rate + padding, samples, rate, side_info)


def _first_frame(data: bytes, start: int) -> tuple[int, _Frame] | None:
    """The first frame header whose successor is also a frame header (or the end): guards false syncs."""
    offset = data.find(b"\xff", start, start + _MP3_SCAN)
    while offset >= 0:
        frame = _frame(data, offset)
        if frame and (offset + frame.length >= len(data) or _frame(data, offset + frame.length)):
            return offset, frame
        offset = data.find(b"\xff", offset + 1, start + _MP3_SCAN)
    return None


def _mp3_duration(data: bytes, start: int) -> float | None:
    found = _first_frame(data, start)
    if found is None:
        return None
    offset, first = found
    tag = offset + 4 + first.side_info
    if data[tag : tag + 4] in (b"Xing", b"Info") and data[tag + 7] & 1:  # flags bit 0: frame count present
        total = int.from_bytes(data[tag + 8 : tag + 12], "big") * first.samples
        return (total - _lame_trim(data, tag)) / first.rate
    if data[offset + 36 : offset + 40] == b"VBRI":  # Fraunhofer: always 32 bytes after the header
        return int.from_bytes(data[offset + 50 : offset + 54], "big") * first.samples / first.rate
    end = len(data) - (128 if data[-128:-125] == b"TAG" else 0)  # ID3v1 trailer
    position, samples, frames = offset, 0.0, 0
    while frames < _MP3_WALK and (frame := _frame(data, position)) and position + frame.length <= end:
        position, samples, frames = position + frame.length, samples + frame.samples / frame.rate, frames + 1
    if frames == 0:
        return None
    if end - position < _MP3_TAIL:  # walked to the end, give or take a trailing tag
        return samples
    # Extrapolate the walked frames' bytes per second over the whole audio (exact for CBR). Walking
    # stops early on garbage too: assume the rest is audio of the same kind.
    return samples * (end - offset) / (position - offset)


def _lame_trim(data: bytes, tag: int) -> int:
    """Encoder delay + padding samples from a LAME tag after the Xing fields (as FFmpeg trims them)."""
    flags = data[tag + 7]
    # Present fields by flag bit: frames (4 bytes), bytes (4), seek table (100), quality (4).
    lame = tag + 8 + 4 * (flags & 1) + 4 * (flags >> 1 & 1) + 100 * (flags >> 2 & 1) + 4 * (flags >> 3 & 1)
    if data[lame : lame + 4] not in (b"LAME", b"Lavf", b"Lavc"):
        return 0
    packed = int.from_bytes(data[lame + 21 : lame + 24], "big")  # delay (12 bits), padding (12 bits)
    return (packed >> 12) + (packed & 0xFFF)
