//! Files that appear complete or not at all: write to a hidden temporary name in the target
//! directory, rename into place only when everything is written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written under a temporary name; dropped without [`StagedFile::commit`] it
/// disappears.
pub struct StagedFile {
    temp: NamedTempFile,
    target: PathBuf,
}

impl StagedFile {
    /// Starts `dir/name` (the directory must exist).
    pub fn new(dir: &Path, name: &str) -> std::io::Result<StagedFile> {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        // Temporary files are created owner-only (0600); results are ordinary files, so ask for
        // 0666 and let the umask decide, as `File::create` would.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(dir)?;
        Ok(StagedFile {
            temp,
            target: dir.join(name),
        })
    }

    /// A handle to write through (buffer it yourself or use [`StagedFile::writer`]).
    pub fn file(&self) -> std::io::Result<File> {
        self.temp.as_file().try_clone()
    }

    /// A buffered writer over the temporary file.
    pub fn writer(&self) -> std::io::Result<BufWriter<File>> {
        Ok(BufWriter::new(self.file()?))
    }

    /// Final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes to disk and renames into place, replacing an older file of that name.
    pub fn commit(self) -> std::io::Result<PathBuf> {
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.target).map_err(|e| e.error)?;
        if let Some(dir) = self.target.parent() {
            super::run_files::sync_dir(dir)?;
        }
        Ok(self.target)
    }
}

/// Writes `bytes` to `dir/name` atomically.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let staged = StagedFile::new(dir, name)?;
    let mut w = staged.writer()?;
    w.write_all(bytes)?;
    w.flush()?;
    drop(w);
    staged.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_file_is_invisible_until_committed_and_gone_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let staged = StagedFile::new(dir.path(), "a.csv").unwrap();
        staged.writer().unwrap().write_all(b"x,y\n").unwrap();
        assert!(!dir.path().join("a.csv").exists());
        let path = staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "x,y\n");

        let dropped = StagedFile::new(dir.path(), "b.csv").unwrap();
        dropped.writer().unwrap().write_all(b"partial").unwrap();
        drop(dropped);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
    }
}
