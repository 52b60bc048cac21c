"""Device choice (CUDA > MPS > CPU, overridable) and the matching autocast context."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Literal

import torch

#: Environment variable overriding the automatic choice (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
DEVICE_ENV = "MAMMOVIEW_DEVICE"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def select_device(preference: str | torch.device | None = None) -> torch.device:
    """The device to run on.

    ``None`` or ``"auto"`` (after ``$MAMMOVIEW_DEVICE``) picks CUDA if available, then
    Apple MPS, then the CPU.  An explicit device that is not available raises rather
    than silently running somewhere else (a user asking for the GPU should know).

    Raises
    ------
    ValueError
        Unknown device string, or the requested accelerator is not available (naming
        ``$MAMMOVIEW_DEVICE`` when the request came from there).
    """
    env = None
    if isinstance(preference, torch.device):
        pref = str(preference)
    else:
        env = None if preference else os.environ.get(DEVICE_ENV)
        pref = (preference or env or "auto").strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return _explicit_device(pref)
    except ValueError as exc:
        if env:  # the reader asked for nothing: say where the request came from
            raise ValueError(f"{exc} (from ${DEVICE_ENV})") from None
        raise


def _explicit_device(pref: str) -> torch.device:
    """The device named ``pref`` (not ``auto``), if it is known and available."""
    try:
        dev = torch.device(pref)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {pref!r} (use auto, cpu, cuda, cuda:N or mps)") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {pref!r} requested but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {pref!r} requested but only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        if not _mps_available():
            raise ValueError("device 'mps' requested but Apple MPS is not available")
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {pref!r} (use auto, cpu, cuda, cuda:N or mps)")
    return dev


#: Numeric precision of inference: ``auto`` = reduced on accelerators, float32 on the CPU.
Precision = Literal["auto", "fp32", "bf16", "fp16"]


def autocast_dtype(device: torch.device, precision: Precision = "auto") -> torch.dtype | None:
    """Reduced-precision dtype for ``device``, or None for float32.

    ``auto``: bf16 (fp16 without bf16 support) on CUDA, fp16 on MPS, float32 on the CPU,
    so CPU results match the float32 tests.  ``bf16`` on the CPU is opt-in: on CPUs
    with AMX/AVX512-BF16 it is about 2x faster, at ~1 % relative error in the logits
    (still bit-reproducible run to run).
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return None


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: CUDA with bf16, or a CPU with AMX / AVX512-BF16.

    Elsewhere bf16 autocast still runs, emulated and slower than float32.
    """
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private torch.cpu API: guarded
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)
    return False


@contextlib.contextmanager
def autocast(device: torch.device, precision: Precision = "auto") -> Iterator[None]:
    """``torch.autocast`` with :func:`autocast_dtype`, a no-op in float32."""
    dtype = autocast_dtype(device, precision)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def describe(device: torch.device, precision: Precision = "auto") -> str:
    """A short human description, e.g. ``"cuda (NVIDIA H100, bfloat16)"``."""
    dtype = autocast_dtype(device, precision)
    numeric = str(dtype).removeprefix("torch.") if dtype is not None else "float32"
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)}, {numeric})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads, {numeric})"
    return f"{device} ({numeric})"


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """cuDNN in deterministic mode (no autotuning) for the duration; restored afterwards.

    Scoped rather than global (``torch.use_deterministic_algorithms``) so the training
    loop in the same process keeps its own settings.  CPU kernels are deterministic for
    a fixed input shape, and the tiles are fixed, so CPU results are bit-identical.
    """
    cudnn = torch.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = saved


#: Environment variable fixing the number of CPU threads torch uses.
THREADS_ENV = "MAMMOVIEW_THREADS"


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op CPU threads to ``n`` (else ``$MAMMOVIEW_THREADS``; else leave torch's default).

    torch defaults to one thread per physical core, best on an idle machine; when other
    processes load the same cores, OpenMP threads wait on each other and 1 thread can be
    several times faster (measured 6x on a shared 2-core VM), hence the override.

    Returns the thread count in effect.

    Raises
    ------
    ValueError
        ``$MAMMOVIEW_THREADS`` is not a whole number.
    """
    value = n
    if value is None:
        text = os.environ.get(THREADS_ENV, "").strip() or "0"
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"${THREADS_ENV} must be a whole number of threads, got {text!r}") from None
    if value > 0:
        torch.set_num_threads(value)
    return torch.get_num_threads()
