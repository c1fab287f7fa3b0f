"""Prompt conversion for Asterisk: 8 kHz mono 16-bit WAV (and raw mu-law).

pydub decodes the recordings (WAV natively, MP3 through ffmpeg when
installed) and finds silence, but its ``set_frame_rate`` resamples without
an anti-alias filter: a 6 kHz hiss in a 48 kHz recording would fold back
to an audible 2 kHz whistle at 8 kHz. So rate conversion is done here with
``scipy.signal.resample_poly`` (a polyphase FIR low-pass) instead.
The manifest records each prompt's duration; the simulator reads it.
"""

from __future__ import annotations

import json
import warnings
import wave
from dataclasses import asdict, dataclass
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.signal import resample_poly

with warnings.catch_warnings():
    # pydub warns at import when ffmpeg is absent (WAV needs none) and imports
    # the stdlib audioop, deprecated since 3.11; neither is actionable here.
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence

__all__ = [
    "ASTERISK_RATE",
    "PromptInfo",
    "build_prompts",
    "convert",
    "mulaw_encode",
    "placeholder_prompts",
    "read_wav",
    "resample",
]

ASTERISK_RATE = 8000
SOURCE_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg")
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class PromptInfo:
    name: str
    file: str
    duration_s: float
    source: str
    peak_dbfs: float


def resample(samples: np.ndarray[Any, Any], rate_in: int, rate_out: int) -> np.ndarray[Any, Any]:
    """Band-limited rate conversion (polyphase FIR), float in, float out."""
    if rate_in == rate_out:
        return samples.astype(np.float64)
    g = gcd(rate_in, rate_out)
    return np.asarray(resample_poly(samples.astype(np.float64), rate_out // g, rate_in // g))


def _trim(segment: AudioSegment, threshold_dbfs: float) -> AudioSegment:
    start = detect_leading_silence(segment, silence_threshold=threshold_dbfs)
    end = detect_leading_silence(segment.reverse(), silence_threshold=threshold_dbfs)
    trimmed = segment[start : len(segment) - end]
    return trimmed if len(trimmed) > 0 else segment


def _mono_float(segment: AudioSegment) -> np.ndarray[Any, Any]:
    mono = segment.set_channels(1)
    full_scale = float(1 << (8 * mono.sample_width - 1))
    return np.array(mono.get_array_of_samples(), dtype=np.float64) / full_scale


def _normalise(samples: np.ndarray[Any, Any], target_dbfs: float) -> np.ndarray[Any, Any]:
    """RMS to ``target_dbfs``, but never louder than a -1 dBFS peak (no clipping)."""
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    if rms == 0.0:
        return samples
    gain = 10 ** (target_dbfs / 20) / rms
    peak = float(np.max(np.abs(samples)))
    gain = min(gain, 10 ** (-1 / 20) / peak)
    return samples * gain


def convert(
    source: Path, *, target_dbfs: float = -20.0, silence_dbfs: float = -45.0
) -> np.ndarray[Any, Any]:
    """Decode, trim silence, mix to mono, resample to 8 kHz, normalise; int16 out."""
    with source.open("rb") as fh:  # pydub leaks the handle when given a path
        decoded = AudioSegment.from_file(fh, format=source.suffix.lower().lstrip("."))
    segment = _trim(decoded, silence_dbfs)
    samples = resample(_mono_float(segment), segment.frame_rate, ASTERISK_RATE)
    samples = _normalise(samples, target_dbfs)
    return np.asarray(np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16))


def write_wav(path: Path, samples: np.ndarray[Any, Any], rate: int = ASTERISK_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def read_wav(path: Path) -> tuple[np.ndarray[Any, Any], int]:
    """16-bit mono WAV -> (int16 samples, rate); enough for checks and tests."""
    with wave.open(str(path), "rb") as src:
        data = src.readframes(src.getnframes())
        return np.frombuffer(data, dtype="<i2"), src.getframerate()


def mulaw_encode(samples: np.ndarray[Any, Any]) -> bytes:
    """G.711 mu-law (what Asterisk's ``.ulaw`` files hold, headerless)."""
    bias, clip = 0x84, 32635
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), clip) + bias
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8))


def build_prompts(src: Path, dst: Path, *, ulaw: bool = False) -> list[PromptInfo]:
    """Convert every recording under ``src`` into ``dst`` (same sub-folders) + manifest."""
    infos = []
    for source in sorted(p for p in src.rglob("*") if p.suffix.lower() in SOURCE_SUFFIXES):
        rel = source.relative_to(src).with_suffix("")
        samples = convert(source)
        target = dst / rel.with_suffix(".wav")
        write_wav(target, samples)
        if ulaw:
            target.with_suffix(".ulaw").write_bytes(mulaw_encode(samples))
        peak = float(np.max(np.abs(samples.astype(np.int32)))) if samples.size else 0.0
        infos.append(
            PromptInfo(
                name=rel.as_posix(),
                file=target.relative_to(dst).as_posix(),
                duration_s=round(samples.size / ASTERISK_RATE, 3),
                source=source.relative_to(src).as_posix(),
                peak_dbfs=round(20 * np.log10(peak / 32768), 2) if peak else -120.0,
            )
        )
    dst.mkdir(parents=True, exist_ok=True)
    manifest = {"rate": ASTERISK_RATE, "prompts": {i.name: asdict(i) for i in infos}}
    (dst / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return infos


def placeholder_prompts(catalog: Path, dst: Path, *, rate: int = 44100) -> list[Path]:
    """Write a tone recording per prompt and language (and ``say:`` token), as long as its text.

    No voice talent, no copyrighted audio: a soft 440/660 Hz tone sequence
    with silence padding, so the build pipeline and the simulator's prompt
    durations can be exercised before real recordings exist.
    """
    data = yaml.safe_load(catalog.read_text(encoding="utf-8")) or {}
    written = []
    prefix = str(data.get("sound_prefix") or "")  # Asterisk looks in sounds/<lang>/<prefix>
    listed = {str(x) for x in data.get("languages") or ()}  # a text in no listed language waits
    for name, texts in (data.get("prompts") or {}).items():
        for lang, text in (texts or {}).items():
            if listed and str(lang) not in listed:
                continue
            seconds = _reading_time(str(text))
            path = dst / str(lang) / f"{prefix}{name}.wav"
            write_wav(path, _tone_speech(seconds, rate), rate)
            written.append(path)
    written += _say_placeholders(data.get("say") or {}, dst, prefix, listed, rate)
    return written


def _say_placeholders(
    say: dict[str, Any], dst: Path, prefix: str, listed: set[str], rate: int
) -> list[Path]:
    """The ``say:`` tokens: single words joined at play time, so a shorter floor than prompts."""
    written = []
    for lang, tokens in say.items():
        if listed and str(lang) not in listed:
            continue
        for name, text in (tokens or {}).items():
            path = dst / str(lang) / f"{prefix}{name}.wav"
            write_wav(path, _tone_speech(_reading_time(str(text), 0.25), rate), rate)
            written.append(path)
    return written


def _reading_time(text: str, floor: float = 0.5) -> float:
    """~4 CJK characters or ~15 Latin characters per second, at least ``floor`` seconds."""
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80)
    return max(floor, cjk / 4.0 + (len(text) - cjk) / 15.0)


def _tone_speech(seconds: float, rate: int) -> np.ndarray[Any, Any]:
    t = np.arange(int(seconds * rate)) / rate
    pitch = np.where((t * 3).astype(int) % 2 == 0, 440.0, 660.0)
    body = 0.3 * np.sin(2 * np.pi * pitch * t)
    pad = np.zeros(int(0.3 * rate))
    samples = np.concatenate([pad, body, pad])
    return np.asarray(np.round(samples * 32767).astype(np.int16))
