"""The evaluation engine: what lm-eval calls while it evaluates the wvs_selfalign tasks.

`task` (the Task class: both prompts per probe, requests, records), `prompt` (the prompt formats), `sampler` and
`selection` (demonstrations; chrF++), `answers` (reading an option out of a response), `metrics` (every metric),
`dataset` (the probes the tasks load), `hf_prefix` (the `hf-prefix` model backend) and `wvs_lm_eval` (lm-eval's
command line with both registered); `temperature` and `spread` help build a run. The reporting side, which reads
what the engine writes, is `culture_metrics.reporting`; the engine never imports it.
"""
