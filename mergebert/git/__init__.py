"""The git front-ends: merge driver, mergetool, resolve, merge-file, check, install, demo."""
