"""Qt user interface: main window, 2x2 hanging protocol, overlays, CAD worker, export."""
