"""Device choice: CUDA > MPS > CPU, explicit choices honoured or refused, autocast per device."""

from __future__ import annotations

import pytest
import torch

from mammoview.cad import device as devmod
from mammoview.cad.device import autocast, autocast_dtype, deterministic, select_device


@pytest.fixture()
def no_accelerators(monkeypatch):
    monkeypatch.delenv("MAMMOVIEW_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devmod, "_mps_available", lambda: False)


def test_cpu_when_nothing_else(no_accelerators):
    assert select_device() == torch.device("cpu")
    assert select_device("auto") == torch.device("cpu")


def test_cuda_first(no_accelerators, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(devmod, "_mps_available", lambda: True)
    assert select_device() == torch.device("cuda")


def test_mps_second(no_accelerators, monkeypatch):
    monkeypatch.setattr(devmod, "_mps_available", lambda: True)
    assert select_device() == torch.device("mps")


def test_explicit_and_env(no_accelerators, monkeypatch):
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setenv("MAMMOVIEW_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device() == torch.device("cpu")  # the environment overrides the automatic choice


@pytest.mark.parametrize("name", ["cuda", "cuda:1", "mps"])
def test_unavailable_accelerator_is_refused(no_accelerators, name):
    with pytest.raises(ValueError, match="not available"):
        select_device(name)


@pytest.mark.parametrize(("name", "says"), [("cuda", "not available"), ("gpu", "unknown device")])
def test_a_device_from_the_environment_is_named_as_such_when_refused(no_accelerators, monkeypatch, name, says):
    """``$MAMMOVIEW_DEVICE=cuda`` on a machine without CUDA: detect said "device 'cuda' requested", never by whom."""
    monkeypatch.setenv("MAMMOVIEW_DEVICE", name)
    with pytest.raises(ValueError, match=rf"{says}.*\$MAMMOVIEW_DEVICE"):
        select_device()
    with pytest.raises(ValueError, match=says) as refused:
        select_device(name)  # asked for explicitly: the environment has no part in it
    assert "MAMMOVIEW_DEVICE" not in str(refused.value)


def test_unknown_device(no_accelerators):
    with pytest.raises(ValueError, match=r"unknown device|unsupported device"):
        select_device("tpu")


def test_autocast_dtypes(monkeypatch):
    assert autocast_dtype(torch.device("cpu")) is None
    assert autocast_dtype(torch.device("mps")) is torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert autocast_dtype(torch.device("cuda")) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert autocast_dtype(torch.device("cuda")) is torch.float16
    with autocast(torch.device("cpu")):  # CPU stays float32
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype is torch.float32


def test_deterministic_is_scoped():
    cudnn = torch.backends.cudnn
    before = (cudnn.deterministic, cudnn.benchmark)
    with deterministic():
        assert cudnn.deterministic and not cudnn.benchmark
    assert (cudnn.deterministic, cudnn.benchmark) == before


def test_configure_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("MAMMOVIEW_THREADS", "1")
        assert devmod.configure_threads() == 1
        assert devmod.configure_threads(2) == 2  # the argument wins over the environment
        monkeypatch.delenv("MAMMOVIEW_THREADS")
        assert devmod.configure_threads() == 2  # nothing asked: unchanged
    finally:
        torch.set_num_threads(before)


def test_threads_from_the_environment_that_are_no_number_are_named(monkeypatch):
    """``MAMMOVIEW_THREADS=two`` stopped detect with "invalid literal for int() with base 10: 'two'"."""
    monkeypatch.setenv("MAMMOVIEW_THREADS", "two")
    with pytest.raises(ValueError, match=r"MAMMOVIEW_THREADS.*'two'"):
        devmod.configure_threads()


def test_native_bf16_answers_for_each_device(monkeypatch):
    from mammoview.cad.device import native_bf16

    assert isinstance(native_bf16(torch.device("cpu")), bool)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert native_bf16(torch.device("cpu")) is False
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert native_bf16(torch.device("cpu")) is True
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert native_bf16(torch.device("cuda")) is False
    assert native_bf16(torch.device("mps")) is False
