"""The evaluation engine: what lm-eval calls while it evaluates the wvs_selfalign tasks.

`task` (the Task class, an adapter between lm-eval and the rest), `variant` (a task's settings, read once from its
metadata), `plan` (the requests a document makes, by role) and `scoring` (its results read back by role into a
`record`), `prompt` (the prompt formats), `sampler` and `selection` (demonstrations; chrF++), `answers` (reading an
option out of a response), `metrics` (every metric; `chance`, the exact null behind the chance levels), `dataset`
(the probes the tasks load, built or published), `task_names` and `generation` (whether settings sample).
`culture_metrics.cli` helps build a run. The model backends lm-eval lacks (`hf-prefix`, `served-chat`,
`served-completions`) and `wvs-lm-eval` are `culture_metrics.backends`. The reporting side, which reads what the
engine writes, is `culture_metrics.reporting`; neither engine nor backends import it.
"""
