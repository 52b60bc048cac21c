"""Qt user interface: main window, 2x2 hanging protocol, overlays, CAD worker, export.

Modules (one idea each)
-----------------------
app             QApplication, pyqtgraph options, exception hooks, ``run_viewer``
main_window     MainWindow: study on screen, menus, status bar, right dock area
actions         every QAction (menu entry + shortcut + status tip), context menu
hanging_layout  the 2x2 arrangement (CC pair, MLO pair, maximised view)
view_panel      ViewPanel: one view, stored -> scene mapping, overlay hook
view_box        mouse gestures (pan, wheel zoom, W/L drag, clicks)
image_layer     the ImageItem: pyramid level + explicit levels + display LUT
pyramid         box-averaged levels of the stored values (no Qt)
display_image   pyramid + preset statistics, built in the loader thread (no Qt)
window_level    window presets, drag, LUT (no Qt); image_controls applies them
linking         mirrored zoom/pan links and group fits
magnifier       the loupe
loader          the jobs a worker thread runs: scan, decode + hang + prepare
background_jobs BackgroundJobs: one worker thread per job, stale jobs dropped
settings        QSettings (INI under $MAMMOVIEW_APP_DATA when set)
dialogs, texts, panel_labels, icon

Adding a CAD overlay to a panel
-------------------------------
``panel = window.panels[View.LCC]``; items are given in the image's *stored* pixel
grid (docs/cad-design.md) and the panel applies the display flips::

    heat = pg.ImageItem(heat_u8, lut=rgba_lut, levels=(0, 255))   # any grid size
    heat.setRect(0, 0, columns, rows)        # stretch it over the stored grid
    heat.setOpacity(0.4)
    panel.add_overlay_item(heat, z=10)       # marks: z >= 20, text: pg.TextItem
    panel.stored_to_scene(x, y)              # a stored point in ViewBox coordinates

Overlays are removed when the panel's image changes (``panelImageChanged``); a
findings list goes in ``window.add_dock(widget, "Findings", "findings")`` and a
menu in ``window.add_menu("&CAD")``.
"""
