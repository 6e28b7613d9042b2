"""leaderboard.json: every metric of every row with its CI, the bootstrap's settings, and the paper's Table 1 for
the report's languages; what a program reads, where leaderboard.md is what a person reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from culture_metrics.metrics import METRICS
from culture_metrics.reporting import paper
from culture_metrics.reporting.rows import TABLE_COLUMNS, format_learning, temperature
from culture_metrics.reporting.statistics import BOOTSTRAP_SEED, CONFIDENCE


if TYPE_CHECKING:
    from collections.abc import Sequence

    from culture_metrics.reporting.pooled import Pool
    from culture_metrics.reporting.rows import Row


def to_json(rows: Sequence[Row], pooled: Sequence[Pool], warnings: Sequence[str], figures: dict[str, dict],
            resamples: int) -> dict:
    return {
        "bootstrap": {"resamples": resamples, "seed": BOOTSTRAP_SEED, "confidence": CONFIDENCE,
                      "over": "documents", "pooled_over": "WVS questions, all languages of a question together",
                      "interval": "percentile"},
        "table_columns": list(TABLE_COLUMNS),
        "rows": [
            {
                "model": row.run.name,
                "task": row.run.task,
                "language": row.run.language,
                "country": row.run.country,
                "strategy": row.run.strategy,
                "documents": row.run.figures.get("documents"),
                "samples": row.run.has_samples,
                "temperature": temperature(row.run),
                "format_learning": format_learning(row),
                "beside_the_paper": row.beside_the_paper,
                "metrics": {
                    name: {
                        "value": estimate.value,
                        "ci": list(estimate.ci) if estimate.ci else None,
                        "higher_is_better": METRICS[name].higher_is_better if name in METRICS else None,
                    }
                    for name, estimate in row.metrics.items()
                },
                "categories": row.categories,
                "countries": {"summary": row.countries.summary, "table": row.countries.table} if row.countries
                else None,
                "provenance": row.run.provenance,
                "files": {"results": str(row.run.results_file),
                          "samples": str(row.run.samples_file) if row.run.samples_file else None},
            }
            for row in rows
        ],
        "pooled": [
            {"model": pool.model, "strategy": pool.strategy, "languages": list(pool.languages),
             "documents": pool.documents, "questions": pool.questions,
             "metrics": {name: {"value": estimate.value, "ci": list(estimate.ci) if estimate.ci else None}
                         for name, estimate in pool.metrics.items()}}
            for pool in pooled
        ],
        "warnings": list(warnings),
        "figures": figures,
        "paper_table1": {"source": "Choenni & Shutova (2024), Table 1 (culture_metrics/reporting/data/PAPER.md)",
                         "rows": paper.reference(paper.load(), {row.run.language for row in rows})},
    }
