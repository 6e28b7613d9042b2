"""The wvs_selfalign task folder: lm-eval reads its YAML files; a package so that an entry point can name it."""
