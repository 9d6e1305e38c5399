"""`mergebert train` and `mergebert export`, registered lazily by `mergebert.cli` (nothing here imports
torch until a command runs). The `train` options are generated from `TrainConfig`'s fields, so each
default and its help exist once."""

from __future__ import annotations

import importlib.util
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from typing import Any, TypeVar, get_args, get_type_hints

import click

from mergebert.core.messages import ctrl_c_says
from training.config import TrainConfig, TrainingError

F = TypeVar("F", bound=Callable[..., Any])


def need_train_extra() -> None:
    """Stop with a clear message when the [train] extra is not installed (without importing it)."""
    packages = {  # module: the package that brings it
        "torch": "torch",
        "transformers": "transformers",
        "tokenizers": "tokenizers",
        "sklearn": "scikit-learn",
    }
    missing = [package for module, package in packages.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise click.ClickException(
            f"training needs the [train] extra ({', '.join(missing)} missing): pip install 'mergebert[train]'"
        )


def _option(name: str, kind: Any, default: Any, meta: Any) -> Callable[[F], F]:
    """The click option of one config field."""
    flag = meta.get("flag", "--" + name.replace("_", "-"))
    if kind is bool:
        return click.option(
            f"{flag}/--no-{flag[2:]}", name, default=default, show_default=True, help=meta["help"]
        )
    if isinstance(kind, types.UnionType):  # `str | None`: the value's type
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    param_type = _param_type(kind, meta)
    return click.option(
        flag, name, type=param_type, default=default, show_default=default is not None, help=meta["help"]
    )


def _param_type(kind: Any, meta: Any) -> Any:
    """The click type of a config field's value: a directory, a number in a range, or `kind`."""
    if meta.get("directory"):
        return click.Path(exists=True, file_okay=False)
    if "range" in meta:
        return (click.IntRange if kind is int else click.FloatRange)(**meta["range"])
    return kind


def config_options(config: type) -> Callable[[F], F]:
    """One option per field of the dataclass `config` that has help text; values arrive as keywords."""
    hints = get_type_hints(config)
    options = [
        _option(f.name, hints[f.name], f.default, f.metadata)
        for f in fields(config)
        if "help" in f.metadata and f.default is not MISSING
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _check_shape(cfg: TrainConfig) -> None:
    """Refuse an encoder shape that torch would refuse only once the data is read."""
    if not cfg.init_from and cfg.hidden % cfg.heads:
        raise click.BadParameter(f"{cfg.heads} does not divide --hidden {cfg.hidden}", param_hint="'--heads'")


@contextmanager
def _one_line() -> Iterator[None]:
    """A run stopped by its data or settings ends as click's one-line error."""
    try:
        yield
    except TrainingError as err:
        raise click.ClickException(str(err)) from None


@click.command("train")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False), help="Model directory."
)
@click.option(
    "--valid",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Validation records (other repositories); default: --valid-fraction of DATA's repositories.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Keep featurised data here between runs.")
@click.option("-j", "--jobs", default=2, show_default=True, type=int, help="Featurisation processes.")
@click.option("--limit", type=click.IntRange(min=1), help="Read at most N records per file set.")
@click.option(
    "--export/--no-export", "do_export", default=True, show_default=True, help="Export model.onnx at the end."
)
@config_options(TrainConfig)
def train_command(
    data: tuple[str, ...],
    out_dir: str,
    valid: tuple[str, ...],
    cache_dir: str | None,
    jobs: int,
    limit: int | None,
    do_export: bool,
    **settings: Any,
) -> None:
    """Train the classifier on mined records (needs [train]).

    Reads region records (*.regions.jsonl.gz; scenario files are skipped) and writes a model directory:
    model.pt, config.json, metrics.json and, unless --no-export, model.onnx. The model is built in a
    folder beside it and moved in when the run completes: a failed or interrupted run (Ctrl-C: exit status
    130) leaves the directory as it was, a completed one removes the old model's files the new one lacks
    (model.onnx after --no-export, the acceptor). Under `torchrun --no-python mergebert train` every process
    trains on its share of the files (DistributedDataParallel) and rank 0 writes.
    """
    need_train_extra()
    cfg = TrainConfig(**settings)
    _check_shape(cfg)
    from training.distributed import is_main
    from training.export import export
    from training.modeldir import staged
    from training.train import train

    discarded = f"training discarded, no model written ({out_dir} as it was)"  # `staged` discarded it
    with _one_line(), ctrl_c_says(discarded), staged(out_dir, writes=is_main()) as work:
        train(
            list(data), work, cfg, valid=list(valid) or None, cache_dir=cache_dir, workers=jobs, limit=limit
        )
        if do_export and is_main():
            for line in export(work, valid=list(valid) or None, cache_dir=cache_dir, limit=limit):
                click.echo(line)
    if is_main():
        click.echo(f"model in {out_dir}")


@click.command("export")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--valid",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Validation records for the int8 accuracy check (default: the ones training used).",
)
@click.option(
    "--quantize/--no-quantize",
    default=True,
    show_default=True,
    help="Try int8; kept only if validation accuracy drops < 0.5 pt.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Featurised data cache (as in train).")
@click.option("--limit", type=click.IntRange(min=1), help="Read at most N validation records.")
def export_command(
    model_dir: str, valid: tuple[str, ...], quantize: bool, cache_dir: str | None, limit: int | None
) -> None:
    """Export a trained model to ONNX (needs [train]).

    Writes MODEL_DIR/model.onnx from model.pt, checks ONNX Runtime against torch and recalibrates.
    """
    need_train_extra()
    from training.export import export

    with _one_line():
        for line in export(
            model_dir, valid=list(valid) or None, quantize=quantize, cache_dir=cache_dir, limit=limit
        ):
            click.echo(line)


@click.command("fit-acceptor")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--exclude-repos-of",
    "exclude",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Records whose repositories the encoder trained on: their scenario files are not used.",
)
@click.option(
    "--regions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="*.regions.jsonl.gz of repositories the encoder never saw (those of --exclude-repos-of are dropped; "
    "they need not have files among SCENARIOS): their conflicts (without the whole file) also train the "
    "acceptor; those of files SCENARIOS hold whole are skipped.",
)
@click.option(
    "--margin",
    default=0.01,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="The default threshold gets at least the token merge's accuracy plus this, out of fold.",
)
@click.option(
    "--target-precision",
    default=0.90,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Also report the threshold whose out-of-fold precision reaches this.",
)
@click.option("-j", "--jobs", default=2, show_default=True, type=int, help="Processes.")
@click.option(
    "--rows-cache",
    type=click.Path(dir_okay=False),
    help="Keep the candidate rows here (an .npz) and reuse them when it exists (same model and files).",
)
def fit_acceptor_command(
    model_dir: str,
    scenarios: tuple[str, ...],
    exclude: tuple[str, ...],
    regions: tuple[str, ...],
    margin: float,
    target_precision: float,
    jobs: int,
    rows_cache: str | None,
) -> None:
    """Fit the acceptor and the default threshold (needs [train]).

    SCENARIOS are *.scenarios.jsonl.gz files from repositories the encoder never saw (never the files the
    results are quoted on). Writes MODEL_DIR/acceptor.npz and acceptor_metrics.json and sets the acceptor
    and the threshold in MODEL_DIR/config.json.
    """
    need_train_extra()
    from training.acceptor import complete_model, held_out_files, require_exported

    with _one_line(), ctrl_c_says(f"no acceptor written ({model_dir} as it was)"):
        require_exported(model_dir)  # before reading the records
        records, files = held_out_files(scenarios, exclude, regions, model_dir)
        if not records:
            raise click.UsageError("no scenario file comes from a repository outside --exclude-repos-of")
        report = complete_model(
            model_dir,
            records,
            regions=files,
            margin=margin,
            target=target_precision,
            workers=jobs,
            rows_cache=rows_cache,
            log=click.echo,
        )
    chosen, zero, strict = report["chosen"], report["at_zero"], report["precision_threshold"]
    click.echo(
        f"{report['conflicts']} conflicts of {report['files']} files from {len(report['repositories'])} "
        "repositories, out of "
        f"fold: default threshold {chosen['threshold']:.2f}: accuracy {chosen['accuracy']:.1%}, precision "
        f"{chosen['precision']:.1%}; token merge alone: accuracy {report['token_merge_only_accuracy']:.1%}; "
        f"at 0: accuracy {zero['accuracy']:.1%}"
    )
    if strict:
        click.echo(
            f"precision {target_precision:.0%} needs threshold {strict['threshold']:.2f}: accuracy "
            f"{strict['accuracy']:.1%}, precision {strict['precision']:.1%}"
        )
    else:
        click.echo(f"no threshold reaches precision {target_precision:.0%} out of fold")
