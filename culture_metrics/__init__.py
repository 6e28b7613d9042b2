"""Self-alignment metrics, few-shot selection and answer parsing for the WVS probes."""
