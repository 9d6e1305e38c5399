"""Data: the record schema, mining, statistics and evaluation."""
