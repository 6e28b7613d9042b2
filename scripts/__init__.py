"""The main job and what only it needs: the default model (`python -m scripts.default_model`)."""
