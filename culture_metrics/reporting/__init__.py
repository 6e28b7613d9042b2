"""The reporting side: what runs after lm-eval, on what it wrote (results and logged samples).

It reads the engine's outputs and its metric definitions (`culture_metrics.metrics`); the engine never imports it.
`runs` reads and checks lm-eval outputs, `report` builds the leaderboard (markdown, JSON) with bootstrap CIs,
`plots` draws its figures, `gate` compares a run with a baseline, `explanations` tables the `_explain` runs,
`paper` holds the paper's Table 1 (`data/`), `markdown` writes tables. Command line: `python -m culture_metrics`.
"""
