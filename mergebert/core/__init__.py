"""The core pipeline: text, line merge, tokens, token merge, patterns, candidates, splice, resolver."""
