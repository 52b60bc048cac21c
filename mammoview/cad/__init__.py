"""CAD engine: networks, weights, device choice, whole-image inference, CAM, findings (no Qt).

The public API is re-exported here lazily, so ``import mammoview.cad.types`` (the GUI
does) does not pull in torch:

- :func:`load_model`, :func:`save_model`, :func:`list_installed`, :class:`ModelEntry`,
  :class:`LoadedModel`, :class:`ModelError` (:mod:`mammoview.cad.weights`);
- :func:`create_model`, :func:`list_models`, :func:`register_model`, :data:`OUTPUTS`
  (:mod:`mammoview.cad.registry`);
- :func:`analyse_image`, :func:`analyse_study`, :func:`drain` (:mod:`mammoview.cad.pipeline`);
- :func:`select_device` (:mod:`mammoview.cad.device`), :class:`Cancelled`
  (:mod:`mammoview.cad.inference`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "load_model": "weights",
    "save_model": "weights",
    "list_installed": "weights",
    "ModelEntry": "weights",
    "LoadedModel": "weights",
    "ModelError": "weights",
    "create_model": "registry",
    "list_models": "registry",
    "register_model": "registry",
    "OUTPUTS": "registry",
    "analyse_image": "pipeline",
    "analyse_study": "pipeline",
    "drain": "pipeline",
    "select_device": "device",
    "Cancelled": "inference",
}

if TYPE_CHECKING:
    from mammoview.cad.device import select_device
    from mammoview.cad.inference import Cancelled
    from mammoview.cad.pipeline import analyse_image, analyse_study, drain
    from mammoview.cad.registry import OUTPUTS, create_model, list_models, register_model
    from mammoview.cad.weights import LoadedModel, ModelEntry, ModelError, list_installed, load_model, save_model

__all__ = [
    "OUTPUTS",
    "Cancelled",
    "LoadedModel",
    "ModelEntry",
    "ModelError",
    "analyse_image",
    "analyse_study",
    "create_model",
    "drain",
    "list_installed",
    "list_models",
    "load_model",
    "register_model",
    "save_model",
    "select_device",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mammoview.cad' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mammoview.cad.{module}"), name)
