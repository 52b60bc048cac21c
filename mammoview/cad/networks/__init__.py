"""Built-in networks; importing this package registers them (see :mod:`mammoview.cad.registry`)."""

from mammoview.cad.networks.ensemble import EnsembleNet
from mammoview.cad.networks.layers import CadNet, Geometry, chain_geometry, class_activation_map, count_parameters
from mammoview.cad.networks.paper_cnn import PaperCNN
from mammoview.cad.networks.resnet import ResNet
from mammoview.cad.networks.vgg import VGGNet

__all__ = [
    "CadNet",
    "EnsembleNet",
    "Geometry",
    "PaperCNN",
    "ResNet",
    "VGGNet",
    "chain_geometry",
    "class_activation_map",
    "count_parameters",
]
