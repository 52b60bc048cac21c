"""Checkpoint saves are all or nothing: the --aux-descriptors head and the best epoch go with the checkpoint."""

from __future__ import annotations

import numpy as np

from tests.training.test_run_integrity import _train, two_sets  # noqa: F401  (fixture)


def test_an_aux_head_save_that_fails_does_not_resume_with_the_previous_epochs_head(two_sets, tmp_path, monkeypatch):  # noqa: F811
    """With --aux-descriptors the auxiliary layer was saved after the checkpoint, by itself and without the save's
    stamp: a save that failed there (disk full, killed) left last.* of epoch 2 beside last_aux of epoch 1, and
    --resume paired the epoch-2 optimizer state (which holds the layer's moments) with the epoch-1 layer."""
    import safetensors.torch

    from mammoview.training import checkpoint
    from mammoview.training import train as train_module
    from mammoview.training.jsonfile import read_json

    # the fake data has no case descriptions: every image a known "suspicious margin", nothing else known
    monkeypatch.setattr(train_module, "descriptor_targets",
                        lambda ps: np.tile(np.array([[1.0, np.nan, np.nan]], np.float32), (len(ps.y), 1)))  # fmt: skip
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1", "--aux-descriptors") == 0
    real = safetensors.torch.save_file

    def full_disk_on_the_aux_layer(tensors, path, metadata=None):  # type: ignore[no-untyped-def]
        if set(tensors) == {"weight", "bias"} and tensors["weight"].shape[0] == 3:  # the 3-output aux layer
            raise OSError(28, "No space left on device")
        real(tensors, path, metadata=metadata)

    with monkeypatch.context() as m:
        m.setattr(safetensors.torch, "save_file", full_disk_on_the_aux_layer)
        m.setattr(checkpoint, "save_file", full_disk_on_the_aux_layer)
        assert _train(a, run, "--epochs", "2", "--aux-descriptors", "--resume") == 1  # the error, one line
    # the failed save must leave the previous checkpoint whole: epoch 1's, with epoch 1's aux layer
    assert read_json(run / "checkpoints" / "last.json")["epoch"] == 0, "epoch 2's checkpoint beside epoch 1's aux"
    assert _train(a, run, "--epochs", "2", "--aux-descriptors", "--resume") == 0


def test_a_failed_save_keeps_the_best_epoch_and_the_checkpoint_that_names_it_together(two_sets, tmp_path, monkeypatch):  # noqa: F811
    """best.safetensors and best_metrics.json were renamed into place before the epoch's checkpoint was written: a
    save that failed in between left epoch 2's best weights beside a checkpoint naming epoch 1 as the best (and
    --install-only would install them under that epoch's metrics)."""
    import itertools

    import safetensors.torch
    from safetensors import safe_open

    from mammoview.training import checkpoint
    from mammoview.training import train as train_module
    from mammoview.training.jsonfile import read_json

    scores = itertools.count(0.5, 0.1)  # every epoch better than the last: each writes a best epoch
    monkeypatch.setattr(train_module, "monitor_value", lambda val, monitor: next(scores))
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    real = safetensors.torch.save_file

    def full_disk_on_the_optimizer_state(tensors, path, metadata=None):  # type: ignore[no-untyped-def]
        if "rng.torch" in tensors:
            raise OSError(28, "No space left on device")
        real(tensors, path, metadata=metadata)

    with monkeypatch.context() as m:
        m.setattr(checkpoint, "save_file", full_disk_on_the_optimizer_state)
        assert _train(a, run, "--epochs", "2", "--resume") == 1
    ckpt = run / "checkpoints"
    with safe_open(str(ckpt / "best.safetensors"), framework="pt") as f:
        best_weights_epoch = int(f.metadata()["epoch"])
    assert best_weights_epoch == read_json(ckpt / "last.json")["best_epoch"] == 1
