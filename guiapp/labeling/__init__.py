"""The label editor's Qt pieces: canvas, tools, palette, review queue, model runner.

How they connect: LabelView (guiapp/views/label_view.py) owns one LabelEditor (editor.py), which
holds the open core LabelSession and the person's choices. The LabelCanvas (canvas.py) turns
mouse events into tool calls (tools.py) on the editor and redraws only the rects the editor
reports changed (raster_item.py). Palette, tool bar and image list follow the editor's signals.
ModelRunner runs the chosen checkpoint off the UI thread for pre-labels and the ReviewPanel's
ranking. Mask maths, undo history, backups and review scores live in core.labeling.
"""
