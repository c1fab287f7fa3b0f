"""Prompt conversion: rate, channels, anti-aliasing, trimming, loudness, manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from router.cli import cli
from router.prompts import build_prompts, mulaw_encode, read_wav, resample, write_wav


def tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray[Any, Any]:
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def write(path: Path, samples: np.ndarray[Any, Any], rate: int, channels: int = 1) -> None:
    ints = np.round(samples * 32767).astype(np.int16)
    if channels == 2:
        ints = np.repeat(ints, 2)
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(ints.tobytes())


def band_level_db(samples: np.ndarray[Any, Any], rate: int, lo: float, hi: float) -> float:
    """Peak spectral level (dB re full-scale sine) between lo and hi Hz."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    ref = np.sum(np.hanning(samples.size)) / 2
    band = spectrum[(freqs >= lo) & (freqs <= hi)]
    return float(20 * np.log10(np.max(band) / ref + 1e-12))


class TestResample:
    def test_tone_above_nyquist_does_not_alias(self) -> None:
        """A 6 kHz tone at 48 kHz leaves < -60 dB in 0-3.9 kHz after conversion."""
        src = tone(6000, 48000, 1.0)
        out = resample(src, 48000, 8000)
        assert band_level_db(out, 8000, 50, 3900) < -60

    def test_naive_decimation_would_alias(self) -> None:
        """Control: dropping samples (pydub's way) folds 6 kHz to a loud 2 kHz."""
        naive = tone(6000, 48000, 1.0)[::6]
        assert band_level_db(naive, 8000, 1900, 2100) > -10

    def test_in_band_tone_kept(self) -> None:
        """A 1 kHz tone passes within 0.5 dB."""
        out = resample(tone(1000, 44100, 1.0), 44100, 8000)
        assert (
            abs(
                band_level_db(out, 8000, 900, 1100)
                - band_level_db(tone(1000, 8000, 1.0), 8000, 900, 1100)
            )
            < 0.5
        )


class TestBuild:
    def test_build_converts_trims_normalises(self, tmp_path: Path) -> None:
        """Stereo 48 kHz with 0.5 s silence each side -> 8 kHz mono, trimmed, -20 dBFS RMS."""
        silence = np.zeros(24000)
        body = tone(440, 48000, 1.0, amp=0.05)
        write(
            tmp_path / "src/zh/welcome.wav",
            np.concatenate([silence, body, silence]),
            48000,
            channels=2,
        )
        infos = build_prompts(tmp_path / "src", tmp_path / "out", ulaw=True)
        samples, rate = read_wav(tmp_path / "out/zh/welcome.wav")
        assert rate == 8000
        assert abs(samples.size / 8000 - 1.0) < 0.03
        rms = np.sqrt(np.mean((samples / 32768.0) ** 2))
        assert abs(20 * np.log10(rms) + 20) < 0.5
        assert infos[0].name == "zh/welcome"
        manifest = json.loads((tmp_path / "out/manifest.json").read_text())
        assert abs(manifest["prompts"]["zh/welcome"]["duration_s"] - 1.0) < 0.03
        assert (tmp_path / "out/zh/welcome.ulaw").stat().st_size == samples.size

    def test_cli_build(self, tmp_path: Path) -> None:
        """tierline prompts build writes the files and reports the count."""
        write(tmp_path / "src/en/bye.wav", tone(500, 16000, 0.5), 16000)
        result = CliRunner().invoke(
            cli, ["prompts", "build", str(tmp_path / "src"), str(tmp_path / "out")]
        )
        assert result.exit_code == 0, result.output
        assert "1 prompt(s)" in result.output


class TestMulaw:
    def test_known_codes(self) -> None:
        """Zero encodes to 0xFF, full positive to 0x80, full negative to 0x00."""
        assert mulaw_encode(np.array([0, 32767, -32768], dtype=np.int16)) == bytes(
            [0xFF, 0x80, 0x00]
        )

    def test_round_trip_error_small(self) -> None:
        """Decoding our codes reproduces a sine within mu-law's ~3% step."""
        x = (tone(300, 8000, 0.1) * 32767).astype(np.int16)
        codes = ~np.frombuffer(mulaw_encode(x), dtype=np.uint8) & 0xFF
        sign, exp, mant = codes & 0x80, (codes >> 4) & 0x07, codes & 0x0F
        mag = (((mant.astype(np.int32) << 3) + 0x84) << exp) - 0x84
        decoded = np.where(sign, -mag, mag)
        err = np.abs(decoded - x.astype(np.int32))
        assert np.all(err <= np.maximum(np.abs(x.astype(np.int32)) * 0.07, 16))


def test_write_read_round_trip(tmp_path: Path) -> None:
    """write_wav/read_wav keep samples and rate."""
    data = np.arange(-100, 100, dtype=np.int16)
    write_wav(tmp_path / "x.wav", data)
    back, rate = read_wav(tmp_path / "x.wav")
    assert rate == 8000
    assert np.array_equal(back, data)


class TestPlaceholders:
    def test_placeholders_cover_catalog_and_build(self, tmp_path: Path) -> None:
        """Placeholders exist per prompt x language and per say token, with sane durations."""
        shipped = Path(__file__).resolve().parents[2] / "ivr_flows" / "prompts.yaml"
        result = CliRunner().invoke(
            cli, ["prompts", "placeholders", str(shipped), str(tmp_path / "rec")]
        )
        assert result.exit_code == 0, result.output
        import yaml

        catalog = yaml.safe_load(shipped.read_text())
        expected = len(catalog["prompts"]) * len(catalog["languages"])
        tokens = {
            f"{lang}/tierline/{t}"
            for lang, ts in catalog["say"].items()
            if lang in catalog["languages"]
            for t in ts
        }
        infos = build_prompts(tmp_path / "rec", tmp_path / "out")
        assert len(infos) == expected + len(tokens)
        assert tokens <= {i.name for i in infos}
        assert all(0.4 < i.duration_s < 10 for i in infos if i.name not in tokens)
        assert all(0.2 < i.duration_s < 2 for i in infos if i.name in tokens)
