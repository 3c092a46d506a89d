"""A small ctypes binding to eSpeak NG: synthesize text, return int16 audio and exact phoneme timings.

The speech corpus of notebook 05 is synthesized, because no speech corpus is reachable offline and the paper's is
private. The library (``libespeak-ng.so`` 1.52 and its data) comes from the pinned wheel ``espeakng-loader==0.2.4``;
audio differs between eSpeak versions, so the version is checked and recorded in the corpus recipe.

With ``espeakINITIALIZE_PHONEME_EVENTS`` the synth callback receives, beside the samples, an event list ended by
type 0; type 7 events name a phoneme (8-byte ``id.string``) and give in ``sample`` the exact sample index, within
the current ``espeak_Synth`` call, where that phoneme starts. The library keeps global state: one ``Espeak`` per
process; parallelize with processes.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kdlab.data.errors import DataError

EXPECTED_VERSION = "1.52.0"  # the version espeakng-loader==0.2.4 ships; audio (and so the corpus) depends on it
REPAIR = "pip install espeakng-loader==0.2.4"

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 1
CHARS_UTF8 = 1
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE = 1, 2, 3, 4
STRESS_MARKS = "',%="


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def default_paths() -> tuple[Path, Path]:
    """(library file, data folder) of the pinned ``espeakng-loader`` wheel; DataError if it is not installed."""
    try:
        import espeakng_loader
    except ImportError as e:
        raise DataError(
            f"espeakng_loader: not installed (needed to synthesize the speech corpus); run `{REPAIR}`"
        ) from e
    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


def voice_variants(data_path: str | Path | None = None) -> list[str]:
    """Names of the voice variants in ``<data>/voices/!v`` (sorted), without initializing the library."""
    folder = Path(data_path if data_path is not None else default_paths()[1]) / "voices" / "!v"
    return sorted(p.name for p in folder.iterdir() if p.is_file())


@dataclass
class Utterance:
    """One synthesized utterance: audio at ``sample_rate`` and the phonemes with their start samples."""

    audio: np.ndarray  # (samples,) int16
    sample_rate: int
    phonemes: list[str]  # stress marks stripped, e.g. "h", "@", "l", "oU", "_:" (pause)
    starts: np.ndarray  # (phonemes,) int64 start sample of each phoneme, non-decreasing


class Espeak:
    """The eSpeak NG library, initialized once per process for synchronous synthesis with phoneme events."""

    _instance: Espeak | None = None

    def __init__(self, library: str | Path | None = None, data: str | Path | None = None):
        lib_default, data_default = default_paths() if library is None or data is None else (None, None)
        self.library_path = Path(library) if library is not None else lib_default
        self.data_path = Path(data) if data is not None else data_default
        if not self.library_path.is_file():
            raise DataError(f"{self.library_path}: eSpeak NG library missing; run `{REPAIR}`")
        if not (self.data_path / "phontab").is_file():
            raise DataError(f"{self.data_path}: not an espeak-ng-data folder (no phontab); run `{REPAIR}`")
        try:
            lib = ctypes.CDLL(str(self.library_path))
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        except (OSError, AttributeError) as e:
            raise DataError(f"{self.library_path}: not a loadable eSpeak NG library ({e}); run `{REPAIR}`") from e
        self.version = lib.espeak_Info(None).decode().split()[0]
        if self.version != EXPECTED_VERSION:
            raise DataError(
                f"{self.library_path}: eSpeak NG {self.version}, expected {EXPECTED_VERSION} (audio differs between "
                f"versions); run `{REPAIR}`"
            )
        if Espeak._instance is not None:
            raise RuntimeError("eSpeak NG keeps global state: use Espeak.get() for the one instance of this process")
        rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), INITIALIZE_PHONEME_EVENTS
        )
        if rate <= 0:
            raise DataError(f"{self.data_path}: espeak_Initialize failed ({rate}); run `{REPAIR}`")
        self.sample_rate = rate
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]  # fmt: skip
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _CALLBACK(self._on_synth)  # keep a reference: the library calls it later
        lib.espeak_SetSynthCallback(self._callback)
        self.voice: str | None = None
        Espeak._instance = self

    @classmethod
    def get(cls) -> Espeak:
        """The process's one instance, created on first use from the pinned wheel."""
        return cls._instance if cls._instance is not None else cls()

    def _on_synth(self, wav, numsamples, events) -> int:
        if numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            if events[i].type == EVENT_PHONEME:
                name = events[i].id.string.decode("ascii", "replace").strip(STRESS_MARKS)
                self._events.append((name, events[i].sample))
            i += 1
        return 0  # 0 = continue synthesis

    def variants(self) -> list[str]:
        """Names of the voice variants shipped in ``voices/!v`` (sorted)."""
        return voice_variants(self.data_path)

    def set_voice(self, language: str, variant: str | None = None) -> None:
        """Select e.g. ``en-us`` with variant ``Alex``; ValueError for an unknown language or variant."""
        if variant is not None and not (self.data_path / "voices" / "!v" / variant).is_file():
            raise ValueError(f"unknown eSpeak voice variant {variant!r}; known: {', '.join(self.variants())}")
        name = language if variant is None else f"{language}+{variant}"
        if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise ValueError(f"unknown eSpeak voice {name!r}")
        self.voice = name

    def synthesize(
        self, text: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50, seed: int = 0
    ) -> Utterance:
        """Speak ``text`` with the current voice at ``rate`` words/min, ``pitch`` and ``pitch_range`` (0–100).

        eSpeak seeds its noise generator from the clock at initialization; ``seed`` fixes it for this call. The
        waveform still depends on what this process spoke before (phase state), so reproducible audio needs the
        same sequence of calls in a fresh process.
        """
        if self.voice is None:
            raise RuntimeError("call set_voice() before synthesize()")
        if not text.strip():
            raise ValueError("cannot synthesize an empty text")
        for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range)):
            self._lib.espeak_SetParameter(param, int(value), 0)
        self._chunks, self._events = [], []
        self._lib.espeak_ng_SetRandSeed(int(seed))
        data = text.encode("utf-8") + b"\0"
        err = self._lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed with error {err}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        names = [n for n, _ in self._events]
        starts = np.array([s for _, s in self._events], dtype=np.int64)
        return Utterance(audio=audio, sample_rate=self.sample_rate, phonemes=names, starts=starts)
