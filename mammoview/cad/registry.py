"""A small model registry in the style of timm: ``register_model``, ``create_model``, ``list_models``.

Networks register themselves when :mod:`mammoview.cad.networks` is imported; the
functions here import it lazily so ``registry`` itself stays import-cycle free.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

#: The network outputs, in this order (docs/cad-design.md, "Network contract").  The first
#: three are one softmax over the tissue class; ``malignant`` is a sigmoid logit meaning
#: "malignant given a lesion".
OUTPUTS: tuple[str, ...] = ("normal", "mass", "calcification", "malignant")
#: The softmax classes among :data:`OUTPUTS`.
TISSUE_CLASSES: tuple[str, ...] = OUTPUTS[:3]

ModelFactory = Callable[..., nn.Module]
F = TypeVar("F", bound=ModelFactory)

_REGISTRY: dict[str, ModelFactory] = {}


def register_model(fn: F | None = None, *, name: str | None = None) -> Any:
    """Register a network factory under ``name`` (default: the function's name).

    Use as ``@register_model`` or ``@register_model(name="...")``.  The factory must
    accept ``in_chans`` and ``num_outputs`` keyword arguments.

    Raises
    ------
    ValueError
        If the name is already registered (two networks silently sharing a name would
        make saved weights ambiguous).
    """

    def decorator(f: F) -> F:
        key = name or f.__name__
        if key in _REGISTRY:
            raise ValueError(f"model {key!r} is already registered")
        _REGISTRY[key] = f
        return f

    if fn is not None:
        return decorator(fn)
    return decorator


def _load_builtin() -> None:
    # Importing the package runs the @register_model decorators of the built-in networks.
    importlib.import_module("mammoview.cad.networks")


def list_models() -> list[str]:
    """Names of all registered networks, sorted."""
    _load_builtin()
    return sorted(_REGISTRY)


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered network."""
    _load_builtin()
    return name in _REGISTRY


def create_model(name: str, in_chans: int = 1, num_outputs: int = len(OUTPUTS), **kwargs: Any) -> nn.Module:
    """Build a registered network with freshly initialised weights.

    Parameters
    ----------
    name
        A name from :func:`list_models`.
    in_chans
        Input channels (1 = grey; 2 with ``PreprocessConfig.sobel_channel``).
    num_outputs
        Number of outputs of the linear head (default 4, see :data:`OUTPUTS`).
    **kwargs
        Architecture options passed to the factory (stored as ``arch_kwargs`` in the manifest).

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the registered names.
    """
    _load_builtin()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(_REGISTRY))}") from None
    return factory(in_chans=in_chans, num_outputs=num_outputs, **kwargs)
