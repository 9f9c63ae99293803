//! `aimarket slurm SWEEP --tasks N …`: write a Slurm job-array script that runs the sweep as N
//! shards (`sweep --shard slurm`, one per array task) and a merge script that depends on it
//! (`afterok`), and with `--submit` submit both with `sbatch`.
//!
//! The scripts are plain bash with `#SBATCH` lines and comments, meant to be read and edited
//! for a site (modules, accounts, memory, the binary's path). They run from the directory
//! `aimarket slurm` was run in (`--chdir`), and pass the sweep file and output directory as they
//! were given, so the merged manifest names the sweep file exactly as a local
//! `aimarket sweep SWEEP` run there would.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::CommandError;
use crate::sweep::spec::Plan;

/// A validated `slurm`.
#[derive(Debug, Clone)]
pub struct SlurmPlan {
    /// The sweep file as given.
    pub file: PathBuf,
    /// The resolved sweep (validated before anything is written or submitted).
    pub plan: Box<Plan>,
    /// Array tasks = shards.
    pub tasks: u64,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`.
    pub time: Option<String>,
    /// `--cpus-per-task` (also the sweep's `--threads`).
    pub cpus_per_task: u32,
    /// At most this many tasks at once (`%K`).
    pub array_limit: Option<u64>,
    /// Output directory: shards in `OUT/shard-I`, merged results in `OUT`, scripts and logs in
    /// `OUT/slurm`.
    pub out: PathBuf,
    /// Pass `--trajectories` to every shard.
    pub trajectories: bool,
    /// Submit with sbatch.
    pub submit: bool,
}

/// Directory of the scripts and logs, inside the output directory.
pub const SLURM_DIR: &str = "slurm";
/// The array script.
pub const ARRAY_SCRIPT: &str = "sweep.sbatch";
/// The merge script.
pub const MERGE_SCRIPT: &str = "merge.sbatch";

/// A word for bash: as is when it is plain, else single-quoted.
fn sh(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-=:,+@%^".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A value of an `#SBATCH` line (double-quoted when it has spaces).
fn sb(value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// The `#SBATCH` lines both scripts share.
fn common_directives(p: &SlurmPlan, cwd: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", p.cpus_per_task);
    if let Some(part) = &p.partition {
        let _ = writeln!(s, "#SBATCH --partition={}", sb(part));
    }
    if let Some(t) = &p.time {
        let _ = writeln!(s, "#SBATCH --time={}", sb(t));
    }
    let _ = writeln!(s, "#SBATCH --chdir={}", sb(&cwd.display().to_string()));
    s
}

const SITE_NOTE: &str = "\
# Add what your site needs, for example:
##SBATCH --account=my_project
##SBATCH --qos=normal
##SBATCH --mem-per-cpu=1G
# module load ...
";

fn array_script(p: &SlurmPlan, bin: &Path, cwd: &Path, logs: &Path) -> String {
    let stem = stem(&p.file);
    let last = p.tasks - 1;
    let limit = p.array_limit.map(|k| format!("%{k}")).unwrap_or_default();
    let span = p.plan.points.len();
    let mut s = String::new();
    let _ = write!(
        s,
        "#!/bin/bash
# aimarket sweep {file} as a Slurm job array, written by `aimarket slurm`.
#
# {tasks} array tasks; task I runs shard I of {tasks} (--shard slurm reads SLURM_ARRAY_TASK_ID
# and SLURM_ARRAY_TASK_COUNT), a contiguous block of whole points of the {points} points x
# {replicates} replicates, into {out}/shard-I. `aimarket merge` (merge.sbatch) then writes the
# files a single-machine sweep would have written into {out}.
#
# Resubmitting is safe: a finished shard exits at once and an interrupted one resumes. To
# rerun only some tasks, keep the array size (SLURM_ARRAY_TASK_COUNT must stay {tasks}) or run
# a shard by hand: {bin} sweep {file} --shard I/{tasks} --out {out}/shard-I
# The %K at the end of --array is how many tasks may run at once.
#
# Edit freely for your site: modules, account, memory, the path of the binary.
#SBATCH --job-name={name}
#SBATCH --array=0-{last}{limit}
{common}#SBATCH --output={logs}/sweep-%A_%a.out
{site}
set -euo pipefail

AIMARKET={bin}
SWEEP={file}
OUT={out}

shard_dir=\"$OUT/shard-$SLURM_ARRAY_TASK_ID\"
status=0
\"$AIMARKET\" sweep \"$SWEEP\" --shard slurm --out \"$shard_dir\" --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" --quiet{traj} || status=$?
# Exit code 1 with a manifest.json: the shard is complete, but some of its runs failed (each is
# in runs.csv with its message). Let the merge run; it reports them.
if [ \"$status\" -eq 1 ] && [ -e \"$shard_dir/manifest.json\" ]; then
  echo \"aimarket: some runs of shard $SLURM_ARRAY_TASK_ID failed; see $shard_dir/runs.csv\" >&2
  status=0
fi
exit \"$status\"
",
        file = sh(&p.file.display().to_string()),
        tasks = p.tasks,
        points = span,
        replicates = p.plan.replicates,
        out = sh(&p.out.display().to_string()),
        bin = sh(&bin.display().to_string()),
        name = sb(&format!("aimarket-{stem}")),
        common = common_directives(p, cwd),
        logs = sb(&logs.display().to_string()),
        site = SITE_NOTE,
        traj = if p.trajectories { " --trajectories" } else { "" },
    );
    s
}

fn merge_script(p: &SlurmPlan, bin: &Path, cwd: &Path, logs: &Path) -> String {
    let stem = stem(&p.file);
    let mut s = String::new();
    let _ = write!(
        s,
        "#!/bin/bash
# Merges the {tasks} shards of aimarket sweep {file} into {out}, written by `aimarket slurm`.
# Submit it after the array job, to start once every task succeeded:
#   sbatch --dependency=afterok:<array job id> {script}
# or run the last line by hand. It refuses (exit 2), naming them, missing or unfinished
# shards, and an output directory that holds another sweep.
#
# Edit freely for your site.
#SBATCH --job-name={name}
{common}#SBATCH --output={logs}/merge-%j.out
{site}
set -euo pipefail

AIMARKET={bin}
OUT={out}

\"$AIMARKET\" merge \"$OUT\" \"$OUT\"/shard-{{0..{last}}}
",
        tasks = p.tasks,
        last = p.tasks - 1,
        file = sh(&p.file.display().to_string()),
        out = sh(&p.out.display().to_string()),
        script = sh(&p.out.join(SLURM_DIR).join(MERGE_SCRIPT).display().to_string()),
        bin = sh(&bin.display().to_string()),
        name = sb(&format!("aimarket-{stem}-merge")),
        common = common_directives(p, cwd),
        logs = sb(&logs.display().to_string()),
        site = SITE_NOTE,
    );
    s
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into())
}

/// Runs `sbatch --parsable ARGS…` and returns the job id it prints.
fn sbatch(args: &[String]) -> Result<String, CommandError> {
    let shown = format!("sbatch {}", args.iter().map(|a| sh(a)).collect::<Vec<_>>().join(" "));
    let out = Command::new("sbatch").args(args).output().map_err(|e| {
        CommandError::failed(format!(
            "cannot run `{shown}`: {e} (is Slurm installed here? without --submit the scripts are only written)"
        ))
    })?;
    if !out.status.success() {
        return Err(CommandError::failed(format!(
            "`{shown}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // --parsable prints `jobid` or `jobid;cluster`.
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CommandError::failed(format!(
            "`{shown}` printed no job id: {}",
            text.trim()
        )));
    }
    println!("submitted: {shown}  → job {id}");
    Ok(id)
}

/// Writes the scripts and, with `--submit`, submits them.
pub fn execute(p: &SlurmPlan) -> Result<(), CommandError> {
    let bin = std::env::current_exe()
        .map_err(|e| CommandError::failed(format!("cannot find the path of the aimarket binary: {e}")))?;
    let cwd =
        std::env::current_dir().map_err(|e| CommandError::failed(format!("cannot read the current directory: {e}")))?;
    crate::sweep::merge::check_target(&p.out, &p.plan, p.trajectories).map_err(CommandError::input)?;
    let dir = p.out.join(SLURM_DIR);
    let logs_rel = dir.join("logs");
    std::fs::create_dir_all(&logs_rel)
        .map_err(|e| CommandError::failed(format!("cannot create {}: {e}", logs_rel.display())))?;
    // Slurm opens the log files itself, relative to --chdir: give it absolute paths.
    let logs = cwd.join(&logs_rel);
    let write = |name: &str, text: String| -> Result<PathBuf, CommandError> {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| CommandError::failed(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
        Ok(path)
    };
    let array = write(ARRAY_SCRIPT, array_script(p, &bin, &cwd, &logs))?;
    let merge = write(MERGE_SCRIPT, merge_script(p, &bin, &cwd, &logs))?;
    let points = p.plan.points.len() as u64;
    println!(
        "wrote {} ({} array tasks{}) and {}",
        array.display(),
        p.tasks,
        p.array_limit
            .map(|k| format!(", at most {k} at once"))
            .unwrap_or_default(),
        merge.display()
    );
    if p.tasks > points {
        eprintln!(
            "note: {} tasks for {points} points: {} of them have no runs (a shard is whole points); --tasks {points} is enough",
            p.tasks,
            p.tasks - points
        );
    }
    let (array_s, merge_s) = (array.display().to_string(), merge.display().to_string());
    let out = p.out.display();
    let results = format!(
        "shards: {out}/shard-0 … {out}/shard-{}; merged results: {out} (points.csv, runs.csv, summary.csv{}, manifest.json); logs: {}",
        p.tasks - 1,
        if p.trajectories { ", trajectories.csv" } else { "" },
        logs_rel.display()
    );
    if !p.submit {
        println!(
            "submit with:\n  jobid=$(sbatch --parsable {})\n  sbatch --dependency=afterok:${{jobid%%;*}} {}\n{results}",
            sh(&array_s),
            sh(&merge_s)
        );
        return Ok(());
    }
    let array_id = sbatch(&["--parsable".into(), array_s])?;
    let merge_id = sbatch(&["--parsable".into(), format!("--dependency=afterok:{array_id}"), merge_s])?;
    println!("{results}");
    println!("watch with: squeue -j {array_id},{merge_id}");
    println!("array job: {array_id}");
    println!("merge job: {merge_id}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_bash_only_when_needed() {
        assert_eq!(sh("configs/sweeps/a-b_1.toml"), "configs/sweeps/a-b_1.toml");
        assert_eq!(sh("my dir/it's"), r"'my dir/it'\''s'");
        assert_eq!(sh("$HOME"), "'$HOME'");
        assert_eq!(sh(""), "''");
        assert_eq!(sb("a b"), "\"a b\"");
    }
}
