"""Model backends lm-eval lacks, registered with lm-eval on import (`import culture_metrics.backends`).

`hf_prefix` (`hf-prefix`: `hf` with each prompt computed once for all of its samples), `served` (`served-chat` and
`served-completions`: ten real samples per prompt from an OpenAI-compatible server) and `wvs_lm_eval` (lm-eval's
command line with the backends and the tasks registered). The task engine never imports them.
"""

from culture_metrics.backends import hf_prefix, served


# What lm-eval 0.4.13 cannot resolve by itself: run these through `wvs-lm-eval`.
NAMES = ("hf-prefix", "served-chat", "served-completions")
