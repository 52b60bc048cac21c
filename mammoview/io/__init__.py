"""Studies from disk: DICOM and raster readers, the pixel chain, view/laterality (no Qt, no torch)."""
