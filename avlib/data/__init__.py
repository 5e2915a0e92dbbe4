"""Data: the procedural audio-visual world (``avlib.data.world``) and, beside it, readers for every layout.

``avlib data generate`` writes the world; see ARCHITECTURE.md, "Data layouts".
"""
