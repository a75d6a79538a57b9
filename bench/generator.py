"""Listening report of the local generator: how each documented style comes out.

``python -m bench.generator`` renders every style of docs/generator.md and prints, per style,
the integrated loudness, the true peak, the tempo measured from the audio against the plan's,
the share of energy above 4 kHz and how long the render took; then the correlation of the
long-term spectra of every pair of styles. It writes a spectrogram PNG per style (to
bench/out/generator/ unless --out says otherwise) for a person to look at.

Loudness is measured with pyloudnorm when it is installed (the dev extra), else with the
generator's own BS.1770 meter, and the report says which. The true peak is measured by ideal
(FFT) 4x oversampling of the whole track, not with the limiter's own interpolator.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.png import heat, write_png
from provsdk.providers.local import render_track
from provsdk.providers.local.loudness import integrated_loudness

# The styles docs/generator.md documents, each with a prompt that selects it.
STYLE_PROMPTS: dict[str, str] = {
    "folk": "gentle acoustic folk",
    "metal": "heavy metal",
    "rock": "indie rock",
    "jazz": "jazz trio",
    "orchestral": "orchestral",
    "ballad": "piano ballad",
    "techno": "techno",
    "house": "house",
    "ambient": "ambient",
    "lofi": "lofi",
    "pop": "pop",
    "hiphop": "boom bap hip hop",
    "trap": "trap",
    "dnb": "drum and bass",
    "chiptune": "chiptune",
}

# Styles that have no beat to measure (docs/generator.md: ambient plays no drums and holds
# its chords): the report says "no beat" rather than a tempo the meter would read off the
# rise and fall of its tune.
BEATLESS = frozenset({"ambient"})

Floats = npt.NDArray[np.float64]
_FFT = 4096
# Third-octave bands from 40 Hz to ~16 kHz for the long-term spectrum.
_EDGES = 40.0 * 2.0 ** (np.arange(0, 27) / 3.0)
# Where the tempo meter's preference peaks. Whatever repeats every beat repeats every two
# beats too, so periodicity alone cannot tell a pulse from its half: a bare metronome's
# octave is the preference's choice, and it halves any pulse faster than sqrt(2) times this.
# A slow pulse is told from its double by the music (its half-beats are emptier than its
# beats), so the preference sits where the fastest documented tempo (dnb, 172 + 2.5% by
# seed) is still on the near side: 125 BPM, halving from 177 BPM.
TEMPO_PREFERENCE = 125.0


def _frames(mono: Floats, size: int, hop: int) -> Floats:
    if len(mono) < size:
        mono = np.pad(mono, (0, size - len(mono)))
    view = np.lib.stride_tricks.sliding_window_view(mono, size)[::hop]
    return np.asarray(view * np.hanning(size), dtype=np.float64)


def power_spectrogram(mono: Floats) -> Floats:
    """|STFT|^2, frames x bins, 4096-point Hann, hop 1024."""
    return np.abs(np.fft.rfft(_frames(mono, _FFT, _FFT // 4), axis=1)) ** 2


def long_term_bands(power: Floats, rate: int) -> Floats:
    """Long-term average spectrum in dB per third-octave band (up to 0.47 x the rate)."""
    mean = power.mean(axis=0)
    freqs = np.fft.rfftfreq(_FFT, 1.0 / rate)
    limit = 0.47 * rate
    edges = _EDGES[np.less_equal(_EDGES, limit)]  # bands past Nyquist would be empty
    bands = np.array(
        [mean[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)]
    )
    return np.asarray(10.0 * np.log10(np.maximum(bands, 1e-20)), dtype=np.float64)


def share_above(power: Floats, rate: int, hertz: float = 4000.0) -> float:
    """Fraction of the track's energy above ``hertz``."""
    freqs = np.fft.rfftfreq(_FFT, 1.0 / rate)
    total = float(power.sum())
    return float(power[:, freqs > hertz].sum()) / total if total else 0.0


def measured_tempo(mono: Floats, rate: int) -> float:
    """Tempo (BPM) whose beat period best explains the onsets' repetition, from the audio alone.

    A spectral-flux onset envelope is autocorrelated; each candidate period T scores the
    autocorrelation summed at T, 2T, 3T and 4T (a beat repeats at the half bar and the bar
    too, a subdivision's odd multiples fall between beats), under a broad log-normal
    preference (1.5 octaves wide) for TEMPO_PREFERENCE. No knowledge of the plan is used.
    """
    hop, size = 256, 2048
    mags = np.abs(np.fft.rfft(_frames(mono, size, hop), axis=1))
    flux = np.maximum(np.diff(np.log1p(mags * 100.0), axis=0), 0.0).sum(axis=1)
    flux -= flux.mean()
    # The linear autocorrelation by FFT (zero-padded to twice the length): n log n, not n^2.
    spectrum = np.fft.rfft(flux, n=2 * len(flux))
    corr = np.fft.irfft(np.abs(spectrum) ** 2)[: len(flux)]
    corr = corr / corr[0] if corr[0] > 0 else corr
    frame_rate = rate / hop
    positions = np.arange(len(corr))
    best_bpm, best_score = 0.0, -np.inf
    for bpm in np.arange(40.0, 240.0, 0.25):
        period = 60.0 * frame_rate / bpm
        lags = period * np.arange(1, 5)
        if lags[-1] + 1 >= len(corr):
            continue
        score = float(np.interp(lags, positions, corr).sum())
        score *= math.exp(-0.5 * (math.log2(bpm / TEMPO_PREFERENCE) / 1.5) ** 2)
        if score > best_score:
            best_bpm, best_score = float(bpm), score
    return best_bpm


def true_peak_db(samples: Floats) -> float:
    """True peak in dBTP by ideal 4x oversampling (FFT), samples (frames, channels)."""
    spectrum = np.fft.rfft(samples, axis=0)
    upsampled = np.fft.irfft(spectrum, n=4 * len(samples), axis=0) * 4.0
    peak = float(np.max(np.abs(upsampled)))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _loudness(samples: Floats, rate: int) -> tuple[float, str]:
    try:
        import pyloudnorm  # type: ignore[import-untyped]  # pyloudnorm ships no types
    except ImportError:
        return integrated_loudness(samples.T, rate), "provsdk's BS.1770 meter"
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples)), "pyloudnorm"


def spectrogram_png(power: Floats, rate: int, path: Path) -> None:
    """Log-frequency spectrogram (40 Hz..rate/2 bottom to top, 60 dB range, <= 1200 px wide)."""
    freqs = np.fft.rfftfreq(_FFT, 1.0 / rate)
    height = 256
    rows = np.geomspace(40.0, rate / 2.0, height)
    index = np.clip(np.searchsorted(freqs, rows), 0, len(freqs) - 1)
    columns = power[:, index]
    pool = -(-len(columns) // 1200)  # at most 1200 columns wide, each the mean of its frames
    if pool > 1:
        padded = np.pad(columns, ((0, (-len(columns)) % pool), (0, 0)))
        columns = padded.reshape(-1, pool, height).mean(axis=1)
    db = 10.0 * np.log10(np.maximum(columns, 1e-20))
    top = float(db.max())
    image = heat((db - (top - 60.0)) / 60.0)  # frames x rows x 3
    write_png(path, np.ascontiguousarray(image.transpose(1, 0, 2)[::-1]))


def correlation(a: Floats, b: Floats) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per style")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out/generator"))
    parser.add_argument("--styles", nargs="*", default=list(STYLE_PROMPTS))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rate = 44100
    spectra: dict[str, Floats] = {}
    tempo_misses: list[str] = []
    meter = ""
    header = (
        f"{'style':<11} {'prompt':<22} {'LUFS':>6} {'dBTP':>6} {'tempo':>6} {'measured':>8} "
        f"{'diff':>6} {'>4kHz':>6} {'x rt':>5}  instruments"
    )
    print(f"local generator, {args.duration:g} s per style, seed {args.seed}, 44.1 kHz stereo")
    print(header)
    for name in args.styles:
        prompt = STYLE_PROMPTS[name]
        started = time.perf_counter()
        pcm, plan = render_track(prompt, seed=args.seed, duration=args.duration)
        elapsed = time.perf_counter() - started
        samples = pcm.astype(np.float64) / 32768.0
        mono = samples.mean(axis=1)
        power = power_spectrogram(mono)
        lufs, meter = _loudness(samples, rate)
        spectra[name] = long_term_bands(power, rate)
        spectrogram_png(power, rate, args.out / f"{name}.png")
        if name in BEATLESS:
            measured, diff = f"{'no beat':>8}", f"{'':>6}"
        else:
            tempo = measured_tempo(mono, rate)
            off = 100.0 * (tempo / plan.tempo_bpm - 1.0)
            measured, diff = f"{tempo:8.1f}", f"{off:5.1f}%"
            if abs(off) > 3.0:
                tempo_misses.append(name)
        print(
            f"{name:<11} {prompt:<22} {lufs:6.1f} {true_peak_db(samples):6.1f} "
            f"{plan.tempo_bpm:6.1f} {measured} {diff} "
            f"{100.0 * share_above(power, rate):5.1f}% {args.duration / elapsed:5.0f}  "
            f"{'+'.join(plan.instruments)} [{plan.style}; "
            f"{'-'.join(s.name for s in plan.sections)}]"
        )
    print(f"(loudness by {meter}; true peak by ideal 4x oversampling)")
    print(f"tempo more than 3% off: {', '.join(tempo_misses) or 'none'}")
    names = list(spectra)
    print("\nlong-term spectrum correlation (third-octave bands in dB, 40 Hz-16 kHz)")
    print(" " * 11 + "".join(f"{n[:6]:>7}" for n in names))
    for a in names:
        cells = [
            f"{correlation(spectra[a], spectra[b]):7.2f}" if a != b else f"{'':>7}" for b in names
        ]
        print(f"{a:<11}" + "".join(cells))
    pairs = sorted(
        ((correlation(spectra[a], spectra[b]), a, b) for a, b in itertools.combinations(names, 2)),
        reverse=True,
    )
    if pairs:
        print("closest pairs: " + ", ".join(f"{a}-{b} {v:.3f}" for v, a, b in pairs[:5]))
    print(f"spectrograms: {args.out}/<style>.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
