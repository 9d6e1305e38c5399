"""Command-line interface: one thin click command per front-end; heavy imports happen inside commands."""

from __future__ import annotations

import datetime
import importlib
import os
from typing import TYPE_CHECKING

import click

from mergebert import __version__
from mergebert.neural import policy

if TYPE_CHECKING:
    from mergebert.core.options import ConflictStyle, Favour

GIT_USER_COMMANDS = (
    "install",
    "uninstall",
    "resolve",
    "review",
    "mergetool",
    "driver",
    "merge-file",
    "check",
    "demo",
)
# the commands for git users that resolve with a model
MODEL_FRONT_ENDS = ("driver", "mergetool", "resolve", "merge-file")
# the training commands live beside the training code; importing them does not import torch
LAZY_COMMANDS = {
    "train": "training.cli:train_command",
    "export": "training.cli:export_command",
    "fit-acceptor": "training.cli:fit_acceptor_command",
}


class _Grouped(click.Group):
    """`mergebert --help` lists the commands for git users apart from those for model builders; the
    training commands are imported only when named or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        from mergebert.data.records import RecordsError

        try:
            return super().invoke(ctx)
        except RecordsError as error:  # a model builder's command given a file that holds no records
            raise click.ClickException(str(error)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [name for name in self.list_commands(ctx) if not self.get_command(ctx, name).hidden]
        for title, wanted in (
            ("Commands for git users", [n for n in GIT_USER_COMMANDS if n in names]),
            ("Commands for model builders", [n for n in names if n not in GIT_USER_COMMANDS]),
        ):
            limit = formatter.width - 6 - max(map(len, wanted), default=0)
            rows = [(name, self.get_command(ctx, name).get_short_help_str(limit)) for name in wanted]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class _Threshold(click.ParamType):
    """A finite confidence threshold (`nan` and `inf` are refused)."""

    name = "float"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return policy.parse_threshold(str(value), "--threshold")
        except policy.PolicyError as error:
            self.fail(str(error), param, ctx)


@click.group(cls=_Grouped, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mergebert")
def main() -> None:
    """Resolve merge conflicts in Java, JavaScript, TypeScript and C# with a neural model."""
    invoked = click.get_current_context().invoked_subcommand
    if invoked in GIT_USER_COMMANDS:  # not the builders' workers'
        from mergebert.core import atomic, messages

        messages.open_standard_fds()
        atomic.interrupt_on_signals()  # a kill or a closed terminal cleans up as ^C does
        messages.write_names_as_bytes()
    if invoked in MODEL_FRONT_ENDS:
        _env_model_from_top()


def _env_model_from_top() -> None:
    """A relative $MERGEBERT_MODEL made a path from the work tree's top, where git runs the merge driver
    and `git mergetool` and where `mergebert.model` is read from: one setting names one folder in every
    front-end, whichever folder it runs in (outside a work tree, the current folder's)."""
    value = os.environ.get(policy.MODEL_ENV, "")
    if not value or os.path.isabs(value) or value.lower() == policy.NO_MODEL:
        return
    from mergebert.git import gitinfo

    repo = gitinfo.open_repo_gently(".")
    if repo is not None and repo.workdir:
        os.environ[policy.MODEL_ENV] = os.path.join(repo.workdir, value)


# options the model builders' commands share
JOBS_OPTION = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="all cores",
    help="Worker processes.",
)
RECORDS_ARGUMENT = click.argument(
    "data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)
)
LIMIT_OPTION = click.option("--limit", type=click.IntRange(min=1), help="Read at most N records.")


class _OutputFile(click.Path):
    """A file to write, in a folder that exists."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False)

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        path = super().convert(value, param, ctx)
        folder = os.path.dirname(os.path.abspath(os.fsdecode(path)))
        if not os.path.isdir(folder):
            self.fail(f"folder {folder} does not exist", param, ctx)
        return path


@main.command()
@click.argument("repos", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--repos-file",
    type=click.File(),
    help="A file with one repository a line: a path, or a URL to clone (blank lines and # comments ignored).",
)
@click.option(
    "-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--max-merges", type=click.IntRange(min=1), help="Only the newest N merges of each repository.")
@click.option("--since", type=click.DateTime(), help="Only merges committed on or after this date.")
@click.option("--languages", help="Comma-separated subset of java,javascript,typescript,csharp.")
@click.option("--max-conflicts-per-merge", default=20, show_default=True, type=click.IntRange(min=0))
@click.option("--max-scenarios-per-merge", default=10, show_default=True, type=click.IntRange(min=0))
@JOBS_OPTION
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="MERGEBERT_SCHEDULER",
    help="Mine on this Dask scheduler (tcp://HOST:8786) or on N local worker processes (local:N) instead "
    "of -j processes [$MERGEBERT_SCHEDULER]; needs the [cluster] extra.",
)
@click.option(
    "--chunk-merges",
    type=click.IntRange(min=1),
    help="With --scheduler: a repository with more merges is mined in units of this many (default 2000).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def mine(
    repos: tuple[str, ...],
    repos_file: click.utils.LazyFile | None,
    out_dir: str,
    max_merges: int | None,
    since: datetime.datetime | None,
    languages: str | None,
    max_conflicts_per_merge: int,
    max_scenarios_per_merge: int,
    jobs: int,
    scheduler: str | None,
    chunk_merges: int | None,
    quiet: bool,
) -> None:
    """Record merge conflicts with their committed resolutions.

    Replays the merges of git repositories and records each conflict with its committed resolution.

    Writes DIR/<owner>__<name>.regions.jsonl.gz, .scenarios.jsonl.gz and .stats.json in the schema of
    the shared data set. A second run over the same DIR skips the merges already done (Ctrl-C: exit status
    130, and the same command resumes). A repository that cannot be mined is named on stderr, the others
    are mined, and the exit status is 1.
    """
    import importlib.util

    from mergebert.core.languages import language_by_name
    from mergebert.core.messages import ctrl_c_says, warn
    from mergebert.data.mining import MineOptions, mine_each
    from mergebert.data.mining.miner import (
        INTERRUPTED,
        RepositoryError,
        read_sources,
        summary,
    )

    paths = list(repos) + (read_sources(repos_file) if repos_file else [])
    if not paths:
        raise click.UsageError("name at least one repository (or --repos-file)")
    wanted = None
    if languages:
        try:
            wanted = frozenset(language_by_name(name.strip()).name for name in languages.split(","))
        except KeyError as err:
            raise click.BadParameter(str(err.args[0]), param_hint="--languages") from None
    options = MineOptions(
        languages=wanted,
        max_regions=max_conflicts_per_merge,
        max_scenarios=max_scenarios_per_merge,
        since=int(since.timestamp()) if since else None,
        max_merges=max_merges,
        jobs=jobs,
        progress=not quiet,
        **({"chunk_merges": chunk_merges} if chunk_merges else {}),
    )
    if scheduler and importlib.util.find_spec("distributed") is None:
        raise click.ClickException("--scheduler needs the [cluster] extra: pip install 'mergebert[cluster]'")
    failed = 0
    with ctrl_c_says(INTERRUPTED):  # what is marked done stays done
        if scheduler:
            from mergebert.data.mining.cluster import mine_on_cluster

            all_stats = mine_on_cluster(paths, out_dir, options, scheduler)
        else:
            all_stats = mine_each(paths, out_dir, options)
        for stats in all_stats:
            if isinstance(stats, RepositoryError):
                warn(str(stats))
                failed += 1
            else:
                click.echo(summary(stats, out_dir))
    if failed:
        raise click.exceptions.Exit(1)


MODEL_OPTION = click.option(
    "--model",
    metavar="DIR",
    help="Model directory, or 'none' for the token merge only "
    "(default: $MERGEBERT_MODEL, else git config mergebert.model, else the shipped model).",
)
THRESHOLD_OPTION = click.option(
    "--threshold",
    type=_Threshold(),
    help="Confidence below which a conflict is left "
    "(default: $MERGEBERT_THRESHOLD, else git config mergebert.threshold, else the model's).",
)


class _GitErrorCommand(click.Command):
    """A command whose usage errors are one line and exit 129, as git merge-file's do."""

    def make_context(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            from mergebert.core.messages import warn

            warn(f"{self.name}: {error.format_message().rstrip('.')}; see `mergebert {self.name} --help`")
            raise click.exceptions.Exit(129) from None


@main.command(
    "driver",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def driver_command(arguments: tuple[str, ...]) -> None:
    """Merge driver for git (overwrites %A)."""
    from mergebert.git import driver

    raise SystemExit(driver.main(list(arguments)))


@main.command("mergetool")
@click.argument("base")
@click.argument("local")
@click.argument("remote")
@click.argument("merged")
@click.argument("backup", required=False)
@click.option("-i", "--interactive", is_flag=True, help="Ask about each conflict left (as resolve -i).")
@MODEL_OPTION
@THRESHOLD_OPTION
def mergetool_command(
    base: str,
    local: str,
    remote: str,
    merged: str,
    backup: str | None,
    interactive: bool,
    model: str | None,
    threshold: float | None,
) -> None:
    """Tool for `git mergetool --tool mergebert` (and mergebert-i).

    Resolves the conflicts still marked in MERGED; exit 0 only when none is left. A partial result also
    goes into BACKUP (git-mergetool's $BACKUP, found beside LOCAL when not given), which git restores.
    With --interactive it asks about each conflict it leaves (Ctrl-C: nothing written, exit status 130).
    """
    from mergebert.core.messages import INTERRUPTED_STATUS, warn

    try:
        from mergebert.git import mergetool

        status = mergetool.run(
            base, local, remote, merged, backup, model=model, threshold=threshold, interactive=interactive
        )
    except KeyboardInterrupt:  # ^C before mergetool.run's questions (it writes with ^C ignored)
        warn("interrupted: nothing written")
        status = INTERRUPTED_STATUS
    raise SystemExit(status)


@main.command("resolve")
@click.argument("paths", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show the changes as a diff; write nothing.")
@click.option("--add", is_flag=True, help="Stage the files that end up fully resolved.")
@click.option("--no-backup", is_flag=True, help="Do not keep <file>.orig copies of the rewritten files.")
@click.option(
    "-i",
    "--interactive",
    is_flag=True,
    help="Ask about each conflict left, offering the model's top suggestions.",
)
@click.option("--all", "ask_all", is_flag=True, help="With -i: also ask about those mergebert resolves.")
@MODEL_OPTION
@THRESHOLD_OPTION
def resolve_command(
    paths: tuple[str, ...],
    dry_run: bool,
    add: bool,
    no_backup: bool,
    interactive: bool,
    ask_all: bool,
    model: str | None,
    threshold: float | None,
) -> None:
    """Resolve conflicted files in place.

    Reads the conflicted index entries of a merge, rebase or cherry-pick, resolves each file, rewrites
    it (keeping <file>.orig) and prints a table: file, conflicts, resolved, left, patterns.

    With -i it asks about each conflict it leaves: the three sides, then up to three suggestions of the
    model; answer 1/2/3 (a suggestion), o/t/b (ours, theirs, both), e (edit), s (skip), q (quit), ? (help),
    one answer a line (scripts may pipe them in). Ctrl-C at a question aborts: nothing is written (exit
    status 130); in the editor, Ctrl-C is the editor's.
    """
    from mergebert.git import resolve_command as command

    if dry_run and interactive:
        raise click.UsageError("--dry-run and --interactive do not go together")
    if ask_all and not interactive:
        raise click.UsageError("--all goes with --interactive")
    raise SystemExit(
        command.run(
            paths,
            dry_run=dry_run,
            add=add,
            backup=not no_backup,
            model=model,
            threshold=threshold,
            interactive=interactive,
            ask_all=ask_all,
        )
    )


@main.command("merge-file", cls=_GitErrorCommand)
@click.option("-p", "--stdout", "stdout", is_flag=True, help="Print the result instead of writing CURRENT.")
@click.option("-L", "labels", multiple=True, help="Label for ours, base, theirs (up to three, in order).")
@click.option(
    "--marker-size", type=int, default=7, show_default=True, help="Marker length (below 1: 7, as in git)."
)
@click.option("--diff3", "style", flag_value="diff3", help="Show the base version in conflicts.")
@click.option("--zdiff3", "style", flag_value="zdiff3", help="diff3, common lines kept outside.")
@click.option("--ours", "favour", flag_value="ours", help="Ours wins every conflict, as in git.")
@click.option("--theirs", "favour", flag_value="theirs", help="Theirs wins every conflict, as in git.")
@click.option("--union", "favour", flag_value="union", help="Every conflict keeps both sides, as in git.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing about the file's conflicts or fallbacks (errors only)."
)
@click.option("--language", help="java, javascript, typescript, tsx or csharp (default: from the path).")
@click.option("--path", "path", help="The file the content belongs to (default: CURRENT).")
@MODEL_OPTION
@THRESHOLD_OPTION
@click.argument("current")
@click.argument("base")
@click.argument("other")
def merge_file_command(
    stdout: bool,
    labels: tuple[str, ...],
    marker_size: int,
    style: ConflictStyle | None,
    favour: Favour | None,
    quiet: bool,
    language: str | None,
    path: str | None,
    model: str | None,
    threshold: float | None,
    current: str,
    base: str,
    other: str,
) -> None:
    """git merge-file, with mergebert resolving.

    Exit status: the number of conflicts left (at most 127), 255 on error, 129 on a usage error. A
    resolve longer than $MERGEBERT_DRIVER_TIMEOUT seconds (default 10) gives git's own merge.
    """
    from mergebert.core.messages import ctrl_c_says
    from mergebert.git import merge_file

    with ctrl_c_says(merge_file.NOTHING_WRITTEN):  # before the resolve (merge_file.run says one during it)
        status = merge_file.run(
            current,
            base,
            other,
            labels=labels,
            stdout=stdout,
            quiet=quiet,
            marker_size=marker_size,
            style=style,
            favour=favour,
            language=language,
            path=path,
            model=model,
            threshold=threshold,
        )
    raise SystemExit(status)


@main.command("review")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--undo", is_flag=True, help="Put git's own conflict back where the merge driver resolved one in PATHS."
)
def review_command(paths: tuple[str, ...], undo: bool) -> None:
    """Show (or --undo) what the merge driver decided.

    In the last merge, rebase or cherry-pick (PATHS: only the files at or under these paths), per file:
    every conflict it resolved, with the three sides, the chosen text, the pattern and the confidence,
    and every conflict it left, with why. With --undo, each conflict it resolved in PATHS gets git's
    conflict back, byte for byte and whole, and git holds the file unmerged again while the operation is
    in progress; a region edited since is refused and nothing else is touched.
    """
    from mergebert.git import review

    if undo and not paths:
        raise click.UsageError("--undo needs the paths to undo")
    try:
        status = review.run(paths, undo_paths=undo, style=review.Style.for_stdout())
    except review.ReviewError as error:
        raise click.ClickException(str(error)) from error
    raise SystemExit(status)


@main.command("install")
@click.option("--global", "global_", is_flag=True, help="Configure git for the user, not this repository.")
@click.option(
    "--confirm/--no-confirm",
    default=None,
    help="Stop before committing a merge in which mergebert resolved something (git config "
    "mergebert.confirm), so you check it (`mergebert review`) and `git add` it. Default: the setting "
    "already there, else on.",
)
def install_command(global_: bool, confirm: bool | None) -> None:
    """Configure git to use mergebert.

    Merge driver, mergetool, attributes for *.java *.js *.jsx *.mjs *.cjs *.ts *.mts *.cts *.tsx *.cs,
    confirm mode and (in a repository) the pre-commit hook.
    """
    from mergebert.git import install

    try:
        for line in install.install(global_, confirm=confirm):
            click.echo(line)
    except install.InstallError as error:
        raise click.ClickException(str(error)) from None


@main.command("uninstall")
@click.option("--global", "global_", is_flag=True, help="Undo `mergebert install --global`.")
def uninstall_command(global_: bool) -> None:
    """Remove what `mergebert install` added."""
    from mergebert.git import install

    try:
        lines = install.uninstall(global_)
    except install.InstallError as error:
        raise click.ClickException(str(error)) from None
    for line in lines or ["nothing of mergebert's was installed"]:
        click.echo(line)


@main.command("check")
@click.argument("files", nargs=-1)
def check_command(files: tuple[str, ...]) -> None:
    """Find conflict markers a commit adds.

    Used by the pre-commit hook: in the staged files (or FILES; after --, a name starting with - is a
    file), the marker lines new against HEAD and, in a merge, against each commit merged (MERGE_HEAD's, or
    in git merge's pre-merge-commit hook the GITHEAD_* git sets), as `git diff --cached --check` counts
    them; a named file not staged is scanned whole. Names file:line of each and exits 1 when there is one.
    """
    from mergebert.git import check

    raise SystemExit(check.run(files))


@main.command("demo")
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def demo_command(keep: bool) -> None:
    """Resolve a real conflict in a throwaway repo."""
    from mergebert.git import demo

    raise SystemExit(demo.run(keep))


@main.command()
@RECORDS_ARGUMENT
@click.option("--markdown", "markdown_out", type=_OutputFile(), help="Also write the tables here.")
@click.option("--write-labels", "labels_out", type=_OutputFile(), help="Store labelled examples.")
@LIMIT_OPTION
@JOBS_OPTION
def stats(
    data: tuple[str, ...],
    markdown_out: str | None,
    labels_out: str | None,
    limit: int | None,
    jobs: int,
) -> None:
    """Token-merge and pattern statistics of records, per language.

    Reads region or scenario records (*.jsonl.gz).

    --write-labels OUT.jsonl.gz stores every region's classification units (tokens as [text, lead]) with
    the classes that reproduce its resolution, for training
    (read back with mergebert.data.stats.read_labelled).
    """
    from mergebert.core.messages import ctrl_c_says
    from mergebert.data import stats as region_stats

    with ctrl_c_says("nothing written"):
        summary = region_stats.run(data, limit=limit, jobs=jobs, labels_out=labels_out)
    click.echo(region_stats.report(summary))
    if markdown_out:
        region_stats.write_markdown(markdown_out, data, summary)


@main.command("eval")
@RECORDS_ARGUMENT
@click.option(
    "--model",
    "model_dir",
    metavar="DIR",
    help="Model directory, or 'none' for the token merge only "
    "(default: $MERGEBERT_MODEL, else the shipped model; git config is not read).",
)
@click.option(
    "--threshold",
    type=_Threshold(),
    help="Confidence threshold (default: $MERGEBERT_THRESHOLD, else the model's own; git config is not "
    "read).",
)
@click.option("--json", "json_out", type=_OutputFile(), help="Write the numbers as JSON.")
@click.option("--markdown", "markdown_out", type=_OutputFile(), help="Also write the table here.")
@click.option("--plot", "plot_out", type=_OutputFile(), help="Precision/accuracy curve (PNG).")
@LIMIT_OPTION
@JOBS_OPTION
def eval_command(
    data: tuple[str, ...],
    model_dir: str | None,
    threshold: float | None,
    json_out: str | None,
    markdown_out: str | None,
    plot_out: str | None,
    limit: int | None,
    jobs: int,
) -> None:
    """Score the resolver and the baselines on recorded merges.

    Compares with the developers' resolutions of scenario records.

    The resolver uses --model, else $MERGEBERT_MODEL, else the shipped model; with none it takes only
    clean token merges. Per language: accuracy (correct / all conflicts), precision (correct / answered),
    left and wrong rates, whole files reproduced. --plot covers thresholds from --threshold upwards.
    """
    from mergebert.core.atomic import uninterrupted
    from mergebert.core.messages import ctrl_c_says
    from mergebert.data import evaluate

    try:
        if plot_out:
            evaluate.pyplot()
    except RuntimeError as err:
        raise click.UsageError(str(err)) from None
    try:
        choice = evaluate.model_to_evaluate(model_dir, threshold)
        with ctrl_c_says("nothing written"):
            summary, scores, skipped = evaluate.run(
                data, model_dir=choice.model, threshold=choice.threshold, limit=limit, jobs=jobs
            )
    except RuntimeError as err:  # includes the model policy's errors
        raise click.ClickException(str(err)) from None
    threshold = evaluate.threshold_used(choice.model, choice.threshold)
    click.echo(evaluate.console_report(choice.model, threshold, summary, skipped))
    with uninterrupted():  # a ^C now waits: the files asked for are written together
        evaluate.write_outputs(
            data, choice.model, threshold, summary, scores, skipped,
            json_out=json_out, markdown_out=markdown_out, plot_out=plot_out,
            default_threshold=evaluate.default_threshold(choice.model),
        )  # fmt: skip
