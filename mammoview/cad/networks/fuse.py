"""An inference-only copy of a network: BatchNorm folded into the convolutions, ReLU after max-pooling.

On the CPU, at whole-image resolution, the element-wise layers cost as much as the
convolutions (they are memory-bound); folding eval-mode BN into the preceding conv
removes them, and ``maxpool(relu(x)) == relu(maxpool(x))`` (both monotone) lets the
ReLU run on a quarter of the values.  The result equals the original up to float
rounding (tested); the original stays untouched for Grad-CAM and training.
"""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

_LEAVES = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.Identity, nn.Dropout)


def _flatten(seq: nn.Sequential) -> list[nn.Module] | None:
    """Leaves of a tree of Sequentials in execution order, or None if it holds anything else."""
    out: list[nn.Module] = []
    for child in seq.children():
        if isinstance(child, nn.Sequential):
            sub = _flatten(child)
            if sub is None:
                return None
            out += sub
        elif isinstance(child, _LEAVES):
            out.append(child)
        else:
            return None
    return out


def _fuse_chain(layers: list[nn.Module]) -> list[nn.Module]:
    fused: list[nn.Module] = []
    for m in layers:
        if isinstance(m, nn.BatchNorm2d) and fused and isinstance(fused[-1], nn.Conv2d):
            fused[-1] = fuse_conv_bn_eval(fused[-1], m)
        elif isinstance(m, nn.MaxPool2d) and fused and isinstance(fused[-1], nn.ReLU):
            fused.insert(len(fused) - 1, m)  # pool first, then ReLU on 4x fewer values
        elif not isinstance(m, nn.Identity):
            fused.append(m)
    return fused


def _optimise(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.Sequential):
        leaves = _flatten(module)
        if leaves is not None:
            return nn.Sequential(*_fuse_chain(leaves))
    conv, bn = getattr(module, "conv2", None), getattr(module, "bn2", None)
    if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):  # ResNet BasicBlock
        module.conv2 = fuse_conv_bn_eval(conv, bn)
        module.bn2 = nn.Identity()
    for name, child in list(module.named_children()):
        setattr(module, name, _optimise(child))
    return module


def fuse_for_inference(model: nn.Module) -> nn.Module:
    """A fused eval-mode deep copy of ``model`` (see module docstring); ``model`` is not modified.

    Only the structure of the built-in networks is rewritten (chains of Sequentials and
    the ResNet block's ``conv2``/``bn2``); anything else is copied as is.
    """
    m = copy.deepcopy(model).eval()
    return _optimise(m).eval()
