"""Command-line interface: one thin click command per front-end; heavy imports happen inside commands."""

from __future__ import annotations

import click

from mergebert import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mergebert")
def main() -> None:
    """Resolve merge conflicts in Java, JavaScript, TypeScript and C# with a neural model."""
