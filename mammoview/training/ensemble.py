"""Install the mean of several training runs as one model (``mammoview ensemble``): the runs must share their
architecture and inputs, and the installed entry is measured and described like a single run's (:mod:`.install`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from mammoview.cad.networks import CadNet, EnsembleNet
from mammoview.cad.weights import ModelEntry, save_model
from mammoview.training.checkpoint import load_state, load_weights, read_tensors
from mammoview.training.install import InstallOptions, check_not_trained_on, model_entry

#: What must agree between ensemble members (taken from each run's ``summary.json``).
_MEMBER_KEYS = ("pixel_size_mm", "patch_size", "context_px", "channels", "preprocessing")


def parse_member(spec: str) -> tuple[Path, str]:
    """``RUNDIR`` or ``RUNDIR:best`` / ``RUNDIR:last`` -> (run folder, checkpoint tag)."""
    run, sep, tag = spec.rpartition(":")
    if not sep or "/" in tag or tag not in ("best", "last"):
        return Path(spec), "best"
    return Path(run), tag


def load_member_weights(run: Path, tag: str, cfg: dict[str, Any], net: CadNet) -> None:
    """The run's ``tag`` weights into ``net``: for the last epoch of a run with a weight average (``--ema``), the
    average, which that epoch validated (``last.safetensors`` holds the raw weights, kept to resume training; the
    best epoch's file is the average already)."""
    if tag == "last" and float(cfg.get("ema") or 0.0) > 0.0:
        path = run / "checkpoints" / "last_ema.safetensors"
        # the AveragedModel's state: the network's under "module.", and its update count
        state = {k.removeprefix("module."): v for k, v in read_tensors(path).items() if k.startswith("module.")}
        load_state(net, state, path)
    else:
        load_weights(run / "checkpoints" / f"{tag}.safetensors", net)


def ensemble_model(members: list[tuple[Path, str]]) -> tuple[EnsembleNet, list[dict[str, Any]]]:
    """The mean of the runs' checkpoints as one :class:`~mammoview.cad.networks.ensemble.EnsembleNet`.

    Raises
    ------
    ValueError
        If a run has not finished, a run's checkpoint is given twice, or the runs differ in architecture or input
        (pixel size, patch size, context, channels, preprocessing): averaging them would mix inputs.
    """
    from mammoview.cad.registry import create_model

    if not members:
        raise ValueError("an ensemble needs at least one run")
    seen: set[tuple[Path, str]] = set()
    for run, tag in members:
        if (run.resolve(), tag) in seen:  # its 'mean of n networks' would count one network twice
            raise ValueError(f"{run}: the run twice ({tag} checkpoint); each member must be another network")
        seen.add((run.resolve(), tag))
    summaries: list[dict[str, Any]] = []
    nets: list[CadNet] = []
    for run, tag in members:
        path = run / "summary.json"
        if not path.is_file():
            raise ValueError(f"{path} not found (the run has not finished)")
        from mammoview.training.jsonfile import read_json

        s = read_json(path)
        cfg, pm = s["config"], s["patch_manifest"]
        if summaries:
            ref = summaries[0]
            for what, a, b in [
                ("arch", cfg["arch"], ref["config"]["arch"]),
                ("arch_kwargs", cfg.get("arch_kwargs", {}), ref["config"].get("arch_kwargs", {})),
            ] + [(k, pm.get(k), ref["patch_manifest"].get(k)) for k in _MEMBER_KEYS]:
                if a != b:
                    raise ValueError(f"{run}: {what} {a!r} differs from {members[0][0]}'s {b!r}")
        net = create_model(cfg["arch"], in_chans=int(pm.get("channels", 1)), **cfg.get("arch_kwargs", {}))
        if not isinstance(net, CadNet):
            raise ValueError(f"{run}: {cfg['arch']} is not a CAM network")
        load_member_weights(run, tag, cfg, net)
        summaries.append(s)
        nets.append(net.eval())
    cfg0, pm0 = summaries[0]["config"], summaries[0]["patch_manifest"]
    ens = EnsembleNet(
        in_chans=int(pm0.get("channels", 1)),
        arch=cfg0["arch"],
        n=len(nets),
        member_kwargs=dict(cfg0.get("arch_kwargs", {})),
    )
    return ens.set_members(nets).eval(), summaries


def install_ensemble(
    members: list[tuple[Path, str]],
    name: str,
    models_dir: Path,
    *,
    patches: Path | None = None,
    command: str = "",
    options: InstallOptions | None = None,
) -> ModelEntry:
    """Install the mean of ``members`` (see :func:`ensemble_model`) like :func:`.install.install_run`.

    The manifest entry describes the first run's data and preprocessing (all members share
    them); its ``metrics`` are the ensemble's own, on the validation split of ``patches``
    (default: the first run's patch set); ``extra.members`` lists each run, checkpoint and
    training time, and ``training_minutes`` is their sum.
    """
    from mammoview.training.datasets import PatchSet
    from mammoview.training.validate import evaluate_groups, make_groups

    model, summaries = ensemble_model(members)
    first = summaries[0]
    metric_patches = patches or Path(first["patches"])
    for (run, _tag), s in zip(members, summaries, strict=True):
        check_not_trained_on(run, s, metric_patches)
    ps = PatchSet(metric_patches)
    from mammoview.cad.preprocess import PreprocessConfig
    from mammoview.training.eval_inputs import check_compatible

    pm = first["patch_manifest"]
    made_for = {"pixel_size_mm": pm["pixel_size_mm"], "in_chans": pm.get("channels", 1), "patch_size": pm["patch_size"],
                "preprocessing": PreprocessConfig.from_dict(pm["preprocessing"]).to_dict()}  # fmt: skip
    # the manifest's metrics must be the networks' on their own inputs (evaluate refuses other inputs too)
    check_compatible(made_for, ps)  # ValueError: another pixel size, channel count or preprocessing
    va = ps.split("val")
    groups = [g for g in make_groups(ps, va[ps.y[va] >= 0]) if g.size >= model.feature_stride]
    val = evaluate_groups(model, groups, ps)
    opt = options or InstallOptions()
    entry = model_entry(name, {**first, "val_metrics": val["metrics"], "best_epoch": None, "command": command}, opt)
    minutes = [s.get("minutes") or 0.0 for s in summaries]
    entry = replace(
        entry,
        arch="ensemble",
        arch_kwargs={
            "arch": model.member_arch,
            "n": model.n_members,
            "member_kwargs": dict(first["config"].get("arch_kwargs", {})),
        },
        extra={
            **entry.extra,
            "train_config": None,
            "best_epoch": None,
            "training_minutes": round(sum(minutes), 2),
            "metrics_patches": str(patches or first["patches"]),
            "members": [
                {
                    "run": str(run),
                    "checkpoint": tag,
                    "epoch": s.get("best_epoch") if tag == "best" else s.get("epochs_run"),
                    "minutes": m,
                    "command": s.get("command", ""),
                    "train_config": s["config"],
                }
                for (run, tag), s, m in zip(members, summaries, minutes, strict=True)
            ],
        },
    )
    return save_model(model, entry, models_dir, make_default=opt.make_default)
