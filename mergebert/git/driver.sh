#!/bin/sh
# mergebert merge driver entry point, as `mergebert install` configures it: read by the shell git starts,
#   set -- PYTHON %O %A %B %L %P [%S %X %Y]; . driver.sh
# (or run as `sh driver.sh PYTHON %O ...`). Every path ends in `exit`.
# git's own line merge (`git merge-file`) runs first; a file it merges cleanly never starts Python.
# Only when conflicts remain does PYTHON run mergebert's driver, and not where git makes a conflict again
# on request (`git checkout -m -- PATH`: see `remaking`). If mergebert cannot start, dies or writes
# nothing (any exit status but 0 and 3) before it has replaced %A, %A receives git's own merge result with
# its markers, as it does when a signal ends the script before mergebert starts. %A is only ever replaced
# whole (rename).
python=${1-} base=${2-} current=${3-} other=${4-} size=${5-} path=${6-$3} given=$# style=
case $size in '' | *[!0-9]* | 0 | 00*) size=7 ;; esac
if [ $# -eq 9 ]; then
    # git 2.44 or later (install passes the labels from then on): merge-file can diff as the ort strategy
    # of git merge, rebase and cherry-pick does, so a file merges cleanly here exactly where it does there
    ours_label=$8 base_label=$7 theirs_label=$9 algorithm=--diff-algorithm=histogram
else
    ours_label=ours base_label=base theirs_label=theirs algorithm=
fi
say() { echo "mergebert: $path: $*" >&2; } # said after the work: a line that cannot be written costs only itself
faults=",${MERGEBERT_TEST_FAULT-},"

result="$current.mergebert-$$"
trap '[ ! -e "$result" ] || rm -f "$result"' EXIT # no rm when none
# a signal (^C, kill, a closed terminal) is acted on once the command running ends, before mergebert
# starts (see below); one that comes while mergebert runs leaves its result standing
caught=
trap 'caught=130' INT
trap 'caught=143' TERM
trap 'caught=129' HUP
# a stderr nobody reads any more (`git merge 2>&1 | head -1`) fails the line written to it, and the script
# goes on (SIGPIPE would end it before its work and the EXIT trap); what it runs gets the default back
trap : PIPE

# git merge-file STYLE...: git's result into $result; its exit status (conflicts, or >127 on error, which
# is reported by the file's own path: git's messages name a temporary file)
line_merge() {
    # merge-file reads merge.conflictStyle, and has no option for the merge style: a style set here wins;
    # none (the first merge) is the configured one, as git's own merge of the file is (a conflict whose
    # sides are equal is a block in the diff3 styles, plain text in the merge style)
    git ${style:+-c merge.conflictStyle="$style"} merge-file -p $algorithm "$@" --marker-size="$size" \
        -L "$ours_label" -L "$base_label" -L "$theirs_label" -- "$current" "$base" "$other" >"$result" 2>/dev/null
}

# why git merge-file failed, asked of it again (no file holds its messages: a clean merge then costs no
# rm), without the temporary file's name: "error: Cannot merge binary files: F"
git_reason() {
    git merge-file -p -- "$current" "$base" "$other" 2>&1 >/dev/null |
        sed -n '1{s/^error: //;s/: [^:]*$//;p;}'
}

# line_merge in merge.conflictStyle (read into $style once conflicts are found)
styled_merge() {
    case $style in
    diff3) line_merge --diff3 ;;
    zdiff3) line_merge --zdiff3 ;;
    *) line_merge ;;
    esac
}

# the labels git writes, when git (before 2.44) did not pass them: HEAD, and the merged branch or the
# commit being replayed (as mergebert's gitinfo finds them); a merge's base (a walk of the history) only
# in the styles that write its label, passed on to mergebert in $MERGEBERT_MERGE_BASES (the merged
# commit, then its merge bases with HEAD), which then need not walk it again
git_labels() {
    ours_label=HEAD
    heads=$(env | sed -n 's/^GITHEAD_\([0-9a-fA-F]*\)=\(.*\)$/\1 \2/p')
    case $heads in
    *"
"*) ;;
    ?*)
        theirs_label=${heads#* }
        case $style in diff3 | zdiff3) ;; *) return ;; esac
        bases=$(git merge-base --all HEAD "${heads%% *}" 2>/dev/null) || return
        MERGEBERT_MERGE_BASES="${heads%% *} $bases" && export MERGEBERT_MERGE_BASES
        case $bases in *"
"* | '') ;; *) base_label=$(git rev-parse --short "$bases") ;; esac
        return
        ;;
    esac
    done_file=$(git rev-parse --git-path rebase-merge/done 2>/dev/null)
    if [ -s "$done_file" ]; then
        replayed=$(sed -n '$s/^[^ ]* \([^ ]*\).*$/\1/p' "$done_file")
        name=$(git log -1 --format='%h (%s)' "$replayed" 2>/dev/null) || return
        theirs_label=$name base_label="parent of $name"
    fi
}

# whether the calling git (the shell's parent) makes a file's conflict again, as the user asked: `git
# [OPTIONS] checkout|restore OPTIONS -- PATH...` with -m, --merge or --conflict[=]STYLE among the
# command's OPTIONS (no other option, and no branch or tree-ish: those merge, or merge nothing); the
# STYLE asked for into $asked. git merges there as merge-file does (its default diff; labels ours, base
# and theirs), and what it writes is git's alone to make: mergebert has nothing to add
remaking() {
    [ -r "/proc/$PPID/cmdline" ] || return 1
    ifs=$IFS
    IFS='
'
    set -f
    set -- $(tr '\0' '\n' <"/proc/$PPID/cmdline" 2>/dev/null)
    set +f
    IFS=$ifs
    case ${1-} in git | */git) shift ;; *) return 1 ;; esac
    while :; do # git's own options (`-C DIR`, `-c NAME=VALUE`, `--git-dir=DIR`, `--no-pager`, ...)
        case ${1-} in
        -C | -c | --git-dir | --work-tree | --namespace | --config-env)
            [ $# -gt 2 ] || return 1
            shift 2
            ;;
        -*) shift ;;
        *) break ;;
        esac
    done
    case ${1-} in checkout | restore) shift ;; *) return 1 ;; esac
    asked= merging=
    while [ $# -gt 0 ]; do
        case $1 in
        --)
            [ $# -gt 1 ] && [ -n "$merging" ]
            return
            ;;
        -m | --merge) merging=1 ;;
        --conflict=*) merging=1 asked=${1#--conflict=} ;;
        --conflict)
            [ $# -gt 1 ] || return 1
            shift
            merging=1 asked=$1
            ;;
        -q | --quiet) ;;
        *) return 1 ;;
        esac
        shift
    done
    return 1
}

# git's own merge where it makes a conflict again (`checkout -m`: Myers, labels ours, base and theirs,
# conflicts joined as `git merge` joins them, not as `git merge-file` does), in $style, into $result:
# `git checkout -m` of the three versions as the stages of a scratch repository's index (as mergebert's
# ortmerge.py makes it, without the user's config and attributes); its status is the line merge's, or 255
recreated_merge() (
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/mergebert-checkout.XXXXXX" 2>/dev/null) || exit 255
    trap 'rm -rf "$scratch"' EXIT
    trap 'rm -rf "$scratch"; exit 255' INT TERM HUP # a subshell's own: the script's traps do not hold here
    unset GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
        GIT_NAMESPACE GIT_CONFIG GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT
    GIT_DIR=$scratch/git GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
    export GIT_DIR GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL
    mkdir "$GIT_DIR" "$GIT_DIR/objects" "$GIT_DIR/refs" && echo 'ref: refs/heads/m' >"$GIT_DIR/HEAD" ||
        exit 255 # a bare repository, without `git init`'s process
    set -- $(git hash-object -w --no-filters -- "$base" "$current" "$other" 2>/dev/null)
    [ $# -eq 3 ] || exit 255
    printf 'm conflict-marker-size=%s\n' "$size" >"$scratch/attributes" || exit 255
    printf '100644 %s 1\tm\n100644 %s 2\tm\n100644 %s 3\tm\n' "$@" |
        GIT_INDEX_FILE=$scratch/index git update-index --index-info 2>/dev/null || exit 255
    (cd "$scratch" && GIT_WORK_TREE=. GIT_INDEX_FILE=index git -c core.attributesFile="$scratch/attributes" \
        -c merge.conflictStyle="${style:-merge}" checkout -m -- m) >/dev/null 2>&1 || exit 255
    cat "$scratch/m" >"$result" || exit 255
    exit "$status"
)

case $faults in *,fastpath,*) status=255 ;; *) line_merge; status=$? ;; esac
if [ "$status" -eq 0 ]; then
    mv -f "$result" "$current" && exit 0
    say "cannot write the merge result; left ours in place"
    exit 1
fi
if [ "$status" -lt 128 ]; then
    # conflicts: git's result, with git's labels and in the configured style, is the fallback if mergebert
    # fails; made now, as %A is ours only until mergebert runs
    style=$(unset GIT_CONFIG; git config --get merge.conflictStyle 2>/dev/null) # as git merge reads it
    if remaking; then # git's own conflict, without mergebert: in the style asked for
        style=${asked:-$style} algorithm= # git makes it with Myers
        case $style in
        diff3) styled_merge ;; # merge-file joins no conflict in the diff3 style: its merge is checkout -m's
        *) recreated_merge ;;
        esac
        status=$?
        if [ "$status" -ge 128 ]; then # no scratch repository (TMPDIR?): git's merge-file is the nearest
            styled_merge
            status=$?
        fi
        if [ "$status" -lt 128 ] && [ -z "$caught" ]; then
            mv -f "$result" "$current" && exit 1
            say "cannot write the merge result; left ours in place"
            exit 1
        fi
    elif [ "$given" -ne 9 ]; then # with git's labels, the first merge was already git's, in its style
        git_labels
        styled_merge
        status=$?
    fi
fi
if [ -n "$caught" ]; then # signalled: stop, with git's merge in %A where there is one
    [ "$status" -ge 128 ] || mv -f "$result" "$current"
    exit "$caught"
fi
[ "$status" -lt 128 ] || rm -f "$result" # what git could not write (a full disk?): its space is mergebert's

shift
{ command exec 3<"$current"; } 2>/dev/null # %A as it is: a merge mergebert renames over it is another file
case $faults in
*,start,*) mergebert=127 ;;
*)
    if command -v "$python" >/dev/null 2>&1; then # a Python that is gone is reported below, in one line
        # as `python -m mergebert.git.driver`, without this folder, the work tree's top, on sys.path: the
        # repository's own modules (a json.py, a mergebert/) are never imported (pystart.CODE, the same)
        "$python" -c 'import sys
sys.path[:1] = [entry for entry in sys.path[:1] if entry]
import runpy
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)' mergebert.git.driver --conflict-status 3 "$@"
        mergebert=$?
    else
        mergebert=127
    fi
    ;;
esac
case $mergebert in 0) exit 0 ;; 3) exit 1 ;; esac
if [ -e /dev/fd/3 ] && ! [ "$current" -ef /dev/fd/3 ]; then
    # mergebert wrote %A whole, then died: its merge (which it logged last) stays, and git stops on it
    say "mergebert ended (exit $mergebert) after writing its merge, perhaps before logging it; check it (git diff)"
    exit 1
fi
if [ "$status" -lt 128 ]; then
    kept="kept git's line merge"
    mv -f "$result" "$current" || kept="cannot write git's merge result; left ours in place"
    say "mergebert could not run (exit $mergebert); $kept"
else
    reason=$(git_reason)
    say "mergebert could not run (exit $mergebert) and git merge-file failed${reason:+ (${reason})}; left ours in place"
fi
exit 1
