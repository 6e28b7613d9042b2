"""Command-line helpers that build a run: `python -m culture_metrics.cli.temperature MODEL` and
`python -m culture_metrics.cli.spread TASK COUNT`. The engine never imports them.
"""
