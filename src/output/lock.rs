//! An exclusive advisory lock on an output directory, so that two processes never write into
//! the same results at once (a second sweep, a `--resume` while the first still runs).
//!
//! The lock is an OS file lock (`flock` on Unix, through `std::fs::File::try_lock`) on
//! `DIR/.aimarket.lock`, held for as long as the [`DirLock`] lives. The operating system
//! releases it when the process ends in any way — exit, panic, SIGKILL — so a lock left by a
//! dead process never blocks anybody. The holder writes its PID into the file so that a refused
//! process can name it. The file itself is left in place when the lock is released: removing it
//! would let two later processes lock two different files of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside a locked directory.
pub const LOCK_FILE: &str = ".aimarket.lock";

/// Why a directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds the lock.
    #[error(
        "{} is in use by another aimarket process{}; wait for it to finish (or stop it) and try again",
        dir.display(),
        pid.map(|p| format!(" (PID {p})")).unwrap_or_default()
    )]
    Held {
        /// The locked directory.
        dir: PathBuf,
        /// The holder's PID, as it wrote it into the lock file.
        pid: Option<u32>,
    },
    /// The directory or its lock file cannot be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The directory or lock file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A held lock on a directory; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    dir: PathBuf,
}

impl DirLock {
    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Creates `dir` if needed and locks it exclusively without waiting: fails with
/// [`LockError::Held`] when another process holds it.
pub fn lock_dir(dir: &Path) -> Result<DirLock, LockError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LockError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                dir: dir.to_path_buf(),
                pid: text.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
    }
    // The PID is informational: failing to write it does not make the lock less held.
    let _ = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .and_then(|()| file.flush());
    Ok(DirLock {
        _file: file,
        dir: dir.to_path_buf(),
    })
}

/// Locks `dir` itself (its directory handle) exclusively without waiting, leaving no file in
/// it: for outputs whose directory must hold only results (`aimarket run`). The holder's PID is
/// not known to a refused process.
pub fn lock_dir_itself(dir: &Path) -> Result<DirLock, LockError> {
    let io = |source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = File::open(dir).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock {
            _file: file,
            dir: dir.to_path_buf(),
        }),
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            dir: dir.to_path_buf(),
            pid: None,
        }),
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_granted_after_release() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let held = lock_dir(&dir).unwrap();
        assert_eq!(held.dir(), dir);
        // flock locks belong to the open file description: a second open in the same process
        // conflicts just as another process would.
        match lock_dir(&dir) {
            Err(LockError::Held { dir: d, pid }) => {
                assert_eq!(d, dir);
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("expected Held, got {other:?}"),
        }
        let msg = lock_dir(&dir).unwrap_err().to_string();
        assert!(msg.contains(&dir.display().to_string()) && msg.contains("PID"), "{msg}");
        drop(held);
        lock_dir(&dir).expect("released with the holder");

        let itself = lock_dir_itself(&dir).unwrap();
        assert!(matches!(lock_dir_itself(&dir), Err(LockError::Held { pid: None, .. })));
        drop(itself);
        lock_dir_itself(&dir).expect("released");
    }
}
