#!/usr/bin/env bash
# The paper's experiment (Choenni & Shutova, 2024, Table 1), on a machine with GPUs: every open model of the paper
# on every language it was run in, with its temperature and the paper's setting (chrF++ demonstrations over all
# probes, 10 samples, the paper prompt format with the model's chat template), then the report with the paper's
# figures beside ours. The runs and their models come from culture_metrics/reporting/data/paper_table1.csv.
#   --dry-run        print every command, run nothing
#   OUT=DIR          output folder (default: out/paper)
#   BACKEND=...      vllm (default where vLLM is installed, with prefix caching) or hf-prefix
# Gemini (API) is not run here: see the README for lm-eval's API backends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DRY_RUN=0
[ "${1:-}" = "--dry-run" ] && DRY_RUN=1
OUT="${OUT:-out/paper}"
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python
if [ -z "${BACKEND:-}" ]; then
  if "$python" -c "import vllm" 2>/dev/null; then BACKEND=vllm; else BACKEND=hf-prefix; fi
fi
extra=""
[ "$BACKEND" = vllm ] && extra=",enable_prefix_caching=True"

run() {
  echo "$*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}

# one line per open model: name|checkpoint|temperature|tasks|chat flag (BLOOMz ships no chat template)
runs="$("$python" - <<'PY'
import csv
rows = list(csv.DictReader(open("culture_metrics/reporting/data/paper_table1.csv", encoding="utf-8")))
for model in dict.fromkeys(r["model"] for r in rows):
    mine = [r for r in rows if r["model"] == model and not r["checkpoint"].endswith("(API)")]
    if mine:
        tasks = ",".join(f"wvs_selfalign_{r['language']}" for r in mine)
        chat = "" if "bloomz" in mine[0]["checkpoint"] else "--apply_chat_template"
        print(f"{model}|{mine[0]['checkpoint']}|{float(mine[0]['temperature']):g}|{tasks}|{chat}")
PY
)"
folders=()
while IFS='|' read -r model checkpoint temperature tasks chat; do
  folder="$OUT/$(echo "$model" | tr ' ' '_')"
  folders+=("$folder")
  # shellcheck disable=SC2086
  run wvs-lm-eval run --model "$BACKEND" --model_args "pretrained=$checkpoint$extra" --tasks "$tasks" \
    $chat --gen_kwargs "temperature=$temperature" --log_samples --output_path "$folder"
done <<< "$runs"
run "$python" -m culture_metrics report "${folders[@]}" --out "$OUT/report"
