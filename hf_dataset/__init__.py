"""Build the WVS-7 cloze probe dataset (14 languages, one config each) that the lm-eval tasks read."""
