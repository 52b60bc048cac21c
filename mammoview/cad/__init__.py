"""CAD engine: networks, weights, device choice, whole-image inference, CAM, findings (no Qt)."""
