"""Real, decodable audio bytes for POST /v1/audio/speech, built in pure Python so clients can play them."""

from __future__ import annotations

import hashlib
import math
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType

SAMPLE_RATE = 24_000
"""OpenAI's TTS output rate; every format here is 24 kHz mono."""
CHARS_PER_SECOND = 15.0
MIN_BLOCKS = 5
BLOCK = 2_400
"""Samples per 0.1 s block: the unit of duration, of the tone pattern and of a FLAC frame."""
MIN_SPEED, MAX_SPEED = 0.25, 4.0

# opus: OpenAI sends an Ogg Opus file; whether its Content-Type is audio/ogg or audio/opus is unverified.
# audio/ogg names the container, which is what players sniff, so we use it.
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }
)


def speech_duration(text: str, speed: float = 1.0) -> float:
    """Seconds of audio `synthesize` produces for `text`: ~15 characters a second, over `speed`."""
    return _block_count(text, speed) * BLOCK / SAMPLE_RATE


def synthesize(text: str, response_format: str, speed: float = 1.0, voice: str = "alloy") -> bytes:
    """The audio file for `text` in `response_format`; the same arguments always give the same bytes."""
    if response_format not in CONTENT_TYPES:
        raise ValueError(
            f"unknown response_format {response_format!r}; expected one of {list(CONTENT_TYPES)}"
        )
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"speed {speed!r} is outside {MIN_SPEED}..{MAX_SPEED}")
    blocks = _tone_pattern(text, _block_count(text, speed), voice)
    return _ENCODERS[response_format](blocks, text + "\0" + voice)


def _block_count(text: str, speed: float) -> int:
    return max(MIN_BLOCKS, round(len(text) * 10 / (CHARS_PER_SECOND * speed)))


def _tone_pattern(text: str, count: int, voice: str) -> list[int]:
    """One tone per 0.1 s block, read off the character at that point of the text; -1 is a pause."""
    shift = zlib.crc32(voice.encode()) % 16
    pattern = []
    for i in range(count):
        char = text[i * len(text) // count] if text else " "
        pattern.append((ord(char) + shift) % 16 if char.isalnum() else -1)
    return pattern


@cache
def _block_samples(tone: int) -> array[int]:
    """A quiet Hann-shaped beep (peak ~ -20 dBFS) on a semitone above A3, or silence for -1."""
    if tone < 0:
        return array("h", bytes(2 * BLOCK))
    step = 2 * math.pi * 220.0 * 2 ** (tone / 12) / SAMPLE_RATE
    envelope = 2 * math.pi / BLOCK
    return array(
        "h", (round(3000 * (0.5 - 0.5 * math.cos(envelope * i)) * math.sin(step * i)) for i in range(BLOCK))
    )


@cache
def _block_bytes(tone: int, byteorder: str) -> bytes:
    samples = array("h", _block_samples(tone))
    if byteorder != sys.byteorder:
        samples.byteswap()
    return samples.tobytes()


def _pcm(blocks: list[int], _seed: str = "") -> bytes:
    # Headerless 16-bit signed little-endian mono at 24 kHz: OpenAI's documented `pcm`.
    return b"".join([_block_bytes(tone, "little") for tone in blocks])


def _wav(blocks: list[int], _seed: str = "") -> bytes:
    data = _pcm(blocks)
    # 44-byte canonical header: RIFF size, then `fmt ` (PCM=1, mono, rate, byte rate, block align, 16 bit),
    # `data`.
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE",
        b"fmt ", 16, 1, 1, SAMPLE_RATE, 2 * SAMPLE_RATE, 2, 16,
        b"data", len(data),
    )  # fmt: skip
    return header + data


# --- MP3 ---------------------------------------------------------------------------------------------
# MPEG-2 (LSF) Layer III, since MPEG-1 has no 24 kHz: 576 samples a frame; FF F3 = sync, MPEG-2, layer III,
# no CRC; 44 = 32 kbit/s, 24 kHz, no padding; C0 = mono. 72 * 32000 / 24000 = 96 bytes a frame, always.
_MP3_HEADER = b"\xff\xf3\x44\xc0"
_MP3_FRAME_BYTES = 96
_MP3_SIDE_INFO = 9
_MP3_SAMPLES = 576
# All-zero side info (part2_3_length = big_values = 0, main_data_begin = 0) decodes to silence.
_MP3_SILENT = _MP3_HEADER + bytes(_MP3_FRAME_BYTES - 4)


def _mp3(blocks: list[int], _seed: str = "") -> bytes:
    frames = -(-len(blocks) * BLOCK // _MP3_SAMPLES)
    # A LAME-style "Info" tag (CBR Xing) in a leading silent frame: flags 3 = frame count + byte count.
    info = (
        _MP3_HEADER
        + bytes(_MP3_SIDE_INFO)
        + b"Info"
        + struct.pack(">III", 3, frames, (frames + 1) * _MP3_FRAME_BYTES)
    )
    return info.ljust(_MP3_FRAME_BYTES, b"\0") + _MP3_SILENT * frames


# --- AAC ---------------------------------------------------------------------------------------------
# A silent AAC-LC raw_data_block: SCE tag 0, global_gain 160, ics_info long window with max_sfb 0
# (no spectral data), no pulse/TNS/gain control, then the END element (0b111).
_AAC_SILENT_BLOCK = b"\x01\x40\x20\x07"
_AAC_SAMPLES = 1024


def _adts_header(frame_length: int) -> bytes:
    # 56 bits: sync 0xFFF, MPEG-4, layer 0, no CRC | profile LC (1) | rate index 6 = 24 kHz | private 0 |
    # channel config 1 | 4 flag bits 0 | frame length (13) | buffer fullness 0x7FF = VBR (11) | 1 block (0).
    bits = (0xFFF << 44) | (1 << 40) | (1 << 38) | (6 << 34) | (1 << 30) | (frame_length << 13) | (0x7FF << 2)
    return bits.to_bytes(7, "big")


def _aac(blocks: list[int], _seed: str = "") -> bytes:
    frame = _adts_header(7 + len(_AAC_SILENT_BLOCK)) + _AAC_SILENT_BLOCK
    return frame * -(-len(blocks) * BLOCK // _AAC_SAMPLES)


# --- Ogg Opus ----------------------------------------------------------------------------------------
# TOC 0xF8 = config 31 (CELT-only, fullband, 20 ms), mono, one frame; FF FE is a range-coded "silence" frame.
_OPUS_SILENT = b"\xf8\xff\xfe"
_OPUS_PACKET_SAMPLES = 960
_OPUS_PRE_SKIP = 312
_OGG_PACKETS_PER_PAGE = 50


def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly if crc & top else crc << 1) & mask
        table.append(crc)
    return tuple(table)


_OGG_TABLE = _crc_table(0x04C11DB7, 32)
_CRC8_TABLE = _crc_table(0x07, 8)
_CRC16_TABLE = _crc_table(0x8005, 16)


def _crc(table: tuple[int, ...], width: int, data: bytes, crc: int = 0) -> int:
    """MSB-first CRC, initial value 0, no final xor: the Ogg CRC-32 and FLAC CRC-8/CRC-16."""
    shift, mask = width - 8, (1 << width) - 1
    for byte in data:
        crc = ((crc << 8) & mask) ^ table[((crc >> shift) ^ byte) & 0xFF]
    return crc


def _ogg_page(flags: int, granule: int, serial: int, sequence: int, packets: list[bytes]) -> bytes:
    lacing = b"".join(bytes([255] * (len(p) // 255) + [len(p) % 255]) for p in packets)
    head = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing)) + lacing
    body = b"".join(packets)
    crc = _crc(_OGG_TABLE, 32, body, _crc(_OGG_TABLE, 32, head))
    return head[:22] + struct.pack("<I", crc) + head[26:] + body


def _opus(blocks: list[int], seed: str = "") -> bytes:
    serial = zlib.crc32(seed.encode())
    end = _OPUS_PRE_SKIP + len(blocks) * BLOCK * 2  # granule positions count 48 kHz samples
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _OPUS_PRE_SKIP, SAMPLE_RATE, 0, 0)
    vendor = b"mockai"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_ogg_page(0x02, 0, serial, 0, [head]), _ogg_page(0, 0, serial, 1, [tags])]
    total = -(-end // _OPUS_PACKET_SAMPLES)
    for first in range(0, total, _OGG_PACKETS_PER_PAGE):
        count = min(_OGG_PACKETS_PER_PAGE, total - first)
        last = first + count == total
        # The last page's granule trims the final packet to the exact length (RFC 7845 end trimming).
        granule = end if last else (first + count) * _OPUS_PACKET_SAMPLES
        pages.append(_ogg_page(0x04 if last else 0, granule, serial, len(pages), [_OPUS_SILENT] * count))
    return b"".join(pages)


# --- FLAC --------------------------------------------------------------------------------------------
_CRC16_POLY = 0x18005


def _gf2_mulmod(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a & 0x10000:
            a ^= _CRC16_POLY
    return result


def _x_pow_mod(bits: int) -> int:
    result, base = 1, 2
    while bits:
        if bits & 1:
            result = _gf2_mulmod(result, base)
        base = _gf2_mulmod(base, base)
        bits >>= 1
    return result


@cache
def _flac_subframe(tone: int) -> tuple[bytes, int, int]:
    """(subframe bytes, their CRC-16, x^(8*len) mod P): what is needed to CRC a frame without rereading it."""
    if tone < 0:
        body = b"\x00\x00\x00"  # CONSTANT subframe (type 000000, no wasted bits) of value 0
    else:
        body = b"\x02" + _block_bytes(tone, "big")  # VERBATIM subframe: 16-bit big-endian samples
    return body, _crc(_CRC16_TABLE, 16, body), _x_pow_mod(8 * len(body))


def _flac_frame(number: int, tone: int) -> tuple[bytes, bytes, bytes]:
    """(header, subframe, CRC-16) of frame `number`, left apart so the caller joins all frames once."""
    # FF F8: sync, fixed block size. 77: block size from a 16-bit field at the end, 24 kHz.
    # 08: mono, 16 bits. Then the frame number UTF-8 coded, block size - 1, CRC-8 of the header.
    header = b"\xff\xf8\x77\x08" + chr(number).encode("utf-8", "surrogatepass") + struct.pack(">H", BLOCK - 1)
    header += bytes([_crc(_CRC8_TABLE, 8, header)])
    body, body_crc, shift = _flac_subframe(tone)
    # CRC(header + body) = CRC(header) * x^(8*len(body)) + CRC(body) over GF(2), modulo the polynomial.
    crc = _gf2_mulmod(_crc(_CRC16_TABLE, 16, header), shift) ^ body_crc
    return header, body, struct.pack(">H", crc)


def _flac(blocks: list[int], _seed: str = "") -> bytes:
    parts: list[bytes] = []
    sizes = set()
    md5 = hashlib.md5()  # of the little-endian PCM, as the format defines it
    for number, tone in enumerate(blocks):
        frame = _flac_frame(number, tone)
        parts.extend(frame)
        sizes.add(sum(map(len, frame)))
        md5.update(_block_bytes(tone, "little"))
    # STREAMINFO: min/max block size, min/max frame size (24 bit), then 64 bits of rate (20), channels - 1
    # (3),
    # bits per sample - 1 (5), total samples (36), then the MD5.
    packed = (SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | (len(blocks) * BLOCK)
    info = struct.pack(">HH", BLOCK, BLOCK) + min(sizes).to_bytes(3, "big") + max(sizes).to_bytes(3, "big")
    info += packed.to_bytes(8, "big") + md5.digest()
    return b"".join([b"fLaC", bytes([0x80, 0, 0, len(info)]), info, *parts])


_ENCODERS: Mapping[str, Callable[[list[int], str], bytes]] = {
    "mp3": _mp3,
    "opus": _opus,
    "aac": _aac,
    "flac": _flac,
    "wav": _wav,
    "pcm": _pcm,
}
