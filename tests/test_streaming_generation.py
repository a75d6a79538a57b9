"""Generation streams: the local generator renders block by block while the encoder writes.

Memory must not grow with the duration, and streaming must change no byte: the blocks join
up to what ``render_plan`` returns, and the streamed encodings are the bytes the former
pydub path wrote for the same samples.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from provsdk import AsyncClient, Client
from provsdk.audio.codec import encode, encode_stream, ffmpeg_executable
from provsdk.audio.formats import AudioFormat
from provsdk.errors import ArgumentTypeError, OutputError, ProviderError
from provsdk.home import ProvsdkHome
from provsdk.progress import RENDER
from provsdk.providers import GenerationRequest, PcmStream
from provsdk.providers.local import plan_track, render_plan
from provsdk.providers.local.render import CHUNK, frame_count, render_blocks
from provsdk.providers.local_provider import LocalProvider

# (prompt, seed, duration, sample rate): shorter than a chunk, a ragged last chunk, exactly
# two chunks, several chunks.
PLANS = [
    ("dark techno", 3, 2.0, 22050),
    ("jazz piano trio", 11, 7.3, 44100),
    ("warm lofi beat", 5, 2 * CHUNK / 22050, 22050),
    ("cinematic orchestral strings", 9, 20.1, 32000),
]


@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
@pytest.mark.parametrize(("prompt", "seed", "duration", "rate"), PLANS)
def test_blocks_join_up_to_exactly_the_whole_render(
    prompt: str, seed: int, duration: float, rate: int, channels: int
) -> None:
    plan = plan_track(prompt, seed=seed, duration=duration, sample_rate=rate)
    blocks = list(render_blocks(plan, channels=channels))
    assert all(b.dtype == np.int16 and b.shape[1] == channels for b in blocks)
    assert all(len(b) == CHUNK for b in blocks[:-1]) and 0 < len(blocks[-1]) <= CHUNK
    joined = np.concatenate(blocks)
    assert len(joined) == frame_count(plan) == round(duration * rate)
    assert joined.tobytes() == render_plan(plan, channels=channels).tobytes()


def test_a_bad_plan_is_refused_before_the_first_block_is_asked_for() -> None:
    plan = plan_track("lofi", seed=1, duration=2, sample_rate=22050)
    with pytest.raises(ValueError, match="channels"):
        render_blocks(plan, channels=3)


# The formats provsdk encoded through pydub's export before encoding was streamed.
_PYDUB_ERA = (AudioFormat.WAV, AudioFormat.MP3, AudioFormat.FLAC, AudioFormat.M4A)


def _pydub_encode(samples: np.ndarray, rate: int, fmt: AudioFormat, dest: Path) -> None:
    """What provsdk wrote before streaming: the whole track through pydub's export."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_executable()
    segment = AudioSegment(
        data=samples.tobytes(), sample_width=2, frame_rate=rate, channels=samples.shape[1]
    )
    if fmt is AudioFormat.WAV:
        segment.export(str(dest), format="wav")
        return
    muxer, codec, bitrate = {
        AudioFormat.MP3: ("mp3", "libmp3lame", "192k"),
        AudioFormat.FLAC: ("flac", "flac", None),
        AudioFormat.M4A: ("ipod", "aac", "192k"),
    }[fmt]
    bitexact = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
    segment.export(str(dest), format=muxer, codec=codec, bitrate=bitrate, parameters=bitexact)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", list(AudioFormat), ids=str)
@pytest.mark.parametrize(
    ("prompt", "rate", "channels", "duration"),
    [("house groove", 44100, 2, 4.1), ("ambient pad", 22050, 1, 3.3)],
    ids=["stereo-44k", "mono-22k"],
)
def test_streamed_encoding_writes_the_bytes_the_pydub_export_wrote(
    tmp_path: Path, fmt: AudioFormat, prompt: str, rate: int, channels: int, duration: float
) -> None:
    plan = plan_track(prompt, seed=2, duration=duration, sample_rate=rate)
    streamed = tmp_path / f"streamed.{fmt.extension}"
    encode_stream(
        render_blocks(plan, channels=channels),
        rate,
        fmt,
        streamed,
        channels=channels,
        frames=frame_count(plan),
    )
    whole = tmp_path / f"whole.{fmt.extension}"
    encode(render_plan(plan, channels=channels), rate, fmt, whole)
    assert _sha256(streamed) == _sha256(whole)
    if fmt in _PYDUB_ERA:  # formats written before streaming came in: the same bytes as then
        reference = tmp_path / f"pydub.{fmt.extension}"
        _pydub_encode(render_plan(plan, channels=channels), rate, fmt, reference)
        assert _sha256(streamed) == _sha256(reference)


def test_a_stream_announcing_more_frames_than_it_holds_is_refused(tmp_path: Path) -> None:
    block = np.zeros((1000, 2), dtype=np.int16)
    with pytest.raises(ValueError, match="1000 frames, not the 1500"):
        encode_stream([block], 8000, AudioFormat.WAV, tmp_path / "x.wav", channels=2, frames=1500)
    with pytest.raises(ValueError, match="more than the 1500"):
        encode_stream(
            [block, block], 8000, AudioFormat.MP3, tmp_path / "x.mp3", channels=2, frames=1500
        )


def test_a_block_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shaped"):
        encode_stream(
            [np.zeros((10, 1), dtype=np.int16)],
            8000,
            AudioFormat.FLAC,
            tmp_path / "x.flac",
            channels=2,
            frames=10,
        )


def test_a_stream_can_be_read_only_once() -> None:
    stream = PcmStream(iter([np.zeros((4, 1), dtype=np.int16)]), sample_rate=8000, channels=1,
                       frames=4)  # fmt: skip
    assert [len(b) for b in stream] == [4]
    with pytest.raises(RuntimeError, match="once"):
        iter(stream)


@pytest.mark.parametrize(
    "request_",
    [
        GenerationRequest("   ", 5.0),
        GenerationRequest("lofi", 7200.0),
        GenerationRequest("lofi", 5.0, channels=3),
        GenerationRequest("lofi", 5.0, sample_rate=12345),
    ],
    ids=["blank-prompt", "too-long", "three-channels", "odd-rate"],
)
def test_a_bad_request_fails_before_any_sample_is_rendered(request_: GenerationRequest) -> None:
    with pytest.raises(ProviderError):
        LocalProvider().generate(request_)


@pytest.mark.parametrize(
    "kwargs",
    [{"duration": 7200.0}, {"channels": 3}, {"sample_rate": 12345}],
    ids=["too-long", "three-channels", "odd-rate"],
)
def test_a_generation_the_generator_refuses_leaves_no_file(
    tmp_path: Path, home: ProvsdkHome, kwargs: dict[str, object]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with Client(home=home) as client, pytest.raises(ProviderError):
        client.generate("lofi", out=out / "x.mp3", seed=1, **kwargs)  # type: ignore[arg-type]
    assert list(out.iterdir()) == []


def _ffmpeg_children() -> list[int]:
    """The ffmpeg processes this process started (Linux: from /proc)."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"ffmpeg" in cmdline:
                found.append(int(pid))
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds ffmpeg through /proc")
def test_ffmpeg_killed_mid_stream_gives_one_output_error_and_no_file(
    tmp_path: Path, home: ProvsdkHome
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    calls: list[int] = []

    def kill_ffmpeg(task: str, done: int, total: int) -> None:
        if task == RENDER:
            calls.append(done)
            if len(calls) == 2:
                for pid in _ffmpeg_children():
                    os.kill(pid, signal.SIGKILL)

    with Client(home=home) as client, pytest.raises(OutputError) as info:
        client.generate("lofi", duration=20, out=out / "x.mp3", seed=1, progress=kill_ffmpeg)
    assert "ffmpeg" in info.value.message and f"signal {signal.SIGKILL}" in info.value.message
    assert len(calls) < 6  # it stopped soon after, not at the end of the track
    assert list(out.iterdir()) == []
    assert _ffmpeg_children() == []  # and nothing is left running


def test_ffmpeg_that_cannot_open_its_output_says_why(tmp_path: Path) -> None:
    plan = plan_track("lofi", seed=1, duration=10, sample_rate=22050)
    dest = tmp_path / "vanished" / "x.mp3"
    with pytest.raises(OutputError) as info:
        encode_stream(
            render_blocks(plan, channels=2), 22050, AudioFormat.MP3, dest, channels=2,
            frames=frame_count(plan),
        )  # fmt: skip
    assert "No such file or directory" in info.value.message
    assert not dest.parent.exists()


def test_a_raising_progress_callback_stops_the_encoding_with_its_own_error(
    tmp_path: Path,
) -> None:
    class Stop(Exception):
        pass

    def stop(task: str, done: int, total: int) -> None:
        raise Stop

    samples = np.zeros((3 * (1 << 17), 2), dtype=np.int16)
    for fmt in (AudioFormat.WAV, AudioFormat.M4A):
        with pytest.raises(Stop):
            encode(samples, 44100, fmt, tmp_path / f"x.{fmt.extension}", progress=stop)
    assert _ffmpeg_children() == []


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_progress_counts_frames_up_to_the_total(
    tmp_path: Path, home: ProvsdkHome, fmt: str
) -> None:
    heard: list[tuple[int, int]] = []

    def progress(task: str, done: int, total: int) -> None:
        if task == RENDER:
            heard.append((done, total))

    with Client(home=home) as client:
        client.generate("lofi", duration=7, out=tmp_path / f"x.{fmt}", seed=1, progress=progress)
    frames = 7 * 44100
    assert {total for _, total in heard} == {frames}
    done = [d for d, _ in heard]
    assert done == sorted(set(done)) and done[-1] == frames and len(done) == -(-frames // CHUNK)


def test_the_async_client_reports_progress_too(tmp_path: Path, home: ProvsdkHome) -> None:
    heard: list[int] = []

    def progress(task: str, done: int, total: int) -> None:
        if task == RENDER:
            heard.append(done)

    async def generate() -> None:
        async with AsyncClient(home=home) as client:
            await client.generate(
                "lofi", duration=2, out=tmp_path / "x.wav", seed=1, progress=progress
            )

    asyncio.run(generate())
    assert heard[-1] == 2 * 44100


def test_progress_that_is_not_callable_is_refused_at_once(
    tmp_path: Path, home: ProvsdkHome
) -> None:
    with Client(home=home) as client, pytest.raises(ArgumentTypeError, match="callable"):
        client.generate("lofi", duration=2, out=tmp_path / "x.wav", progress=42)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


_PEAK = textwrap.dedent(
    """
    import json, os, resource, sys
    from pathlib import Path
    import provsdk
    from provsdk.home import ProvsdkHome
    import provsdk.providers.local_provider  # numpy and the generator, before the baseline

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    duration, out = float(sys.argv[1]), Path(sys.argv[2])
    client = provsdk.Client(home=ProvsdkHome(os.environ["PROVSDK_HOME"]))
    client.signer, client.trust  # keys, trust and c2pa loaded: not what we measure
    import c2pa
    baseline = peak()
    after = {}

    def progress(task, done, total):
        if task == "render" and done == total:
            after["encoded"] = peak()

    with client:
        client.generate("warm lofi beat", duration=duration, out=out, seed=1, progress=progress)
    print(json.dumps({"baseline": baseline, "encoded": after["encoded"]}))
    """
)


def _peak_above_baseline(duration: float, out: Path, home: ProvsdkHome) -> int:
    env = {**os.environ, "PROVSDK_HOME": str(home.root)}
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(duration), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    return int(numbers["encoded"]) - int(numbers["baseline"])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_half_an_hour_is_generated_in_a_fraction_of_its_pcm_size(
    tmp_path: Path, dev_home: ProvsdkHome
) -> None:
    def pcm(seconds: float) -> float:
        return seconds * 44100 * 2 * 2

    short = _peak_above_baseline(120.0, tmp_path / "short.mp3", dev_home)
    long = _peak_above_baseline(1800.0, tmp_path / "long.mp3", dev_home)
    # What the generator keeps is one synthesised wave per distinct note (tens of MB, the
    # same after two minutes as after an hour) and the score (small); the samples pass
    # through one chunk at a time. So the longer track costs hardly more than the shorter.
    assert long < 0.5 * pcm(1800.0), (long, pcm(1800.0))
    assert long - short < 0.05 * (pcm(1800.0) - pcm(120.0)), (long, short)


def test_the_generation_path_imports_no_numpy_until_samples_are_handled() -> None:
    code = (
        "import sys\n"
        "import provsdk.audio.codec, provsdk.client, provsdk.providers, provsdk.providers.base\n"
        "print('numpy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
