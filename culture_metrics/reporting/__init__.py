"""The reporting side: what runs after lm-eval, on what it wrote (results and logged samples).

It reads the engine's outputs and its metric definitions (`culture_metrics.metrics`); the engine never imports it.
One module per job: `runs` reads and checks lm-eval outputs; `statistics` holds the bootstrap the report and `gate`
share; `rows` builds the leaderboard's rows; `paper` holds the paper's Table 1 (`data/`) and the comparison with it;
`leaderboard_json` and `leaderboard_markdown` render the rows, `plots` draws the figures, `report_folder` writes
them as one folder; `gate` compares a run with a baseline, `explanations` tables the `_explain` runs, `markdown`
writes tables. Command line: `python -m culture_metrics`.
"""
