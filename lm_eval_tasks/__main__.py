"""Print the task folder for `lm_eval --include_path`."""

from lm_eval_tasks import PATH

print(PATH)
