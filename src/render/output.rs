//! Static copies of the feeds, for a plain web server in front of (or
//! instead of) the daemon.

use super::{Document, PageId, RenderedChannel, is_safe_channel_id};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write every document of `rendered` under `dir` as
/// `feeds/{id}.{ext}` and `feeds/{id}/archive/{n}.{ext}`.
///
/// Only files whose bytes differ from what is on disk are written, each
/// atomically: a temporary file in the same directory, fsync, rename over
/// the target, fsync of the directory. A reader of the directory sees the
/// old file or the new one, never a mix. Archive files of pages that no
/// longer exist (after retractions) are removed. Returns how many files
/// were written.
pub async fn write_static(dir: &Path, rendered: &RenderedChannel) -> io::Result<usize> {
    if !is_safe_channel_id(&rendered.channel_id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unsafe channel id {:?}", rendered.channel_id),
        ));
    }
    let files: Vec<(PathBuf, Arc<Document>)> = rendered
        .documents
        .iter()
        .map(|((page, format), doc)| {
            (
                dir.join(page.path(&rendered.channel_id, *format)),
                Arc::clone(doc),
            )
        })
        .collect();
    let archive_dir = dir.join("feeds").join(&rendered.channel_id).join("archive");
    let pages = rendered.archive_pages;
    tokio::task::spawn_blocking(move || {
        let mut written = 0;
        for (path, doc) in &files {
            if write_if_changed(path, &doc.body)? {
                written += 1;
            }
        }
        remove_stale_archives(&archive_dir, pages)?;
        Ok(written)
    })
    .await
    .map_err(io::Error::other)?
}

/// Atomically replace `path` with `bytes` unless it already holds them.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match fs::read(path) {
        Ok(existing) if existing == bytes => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    fs::create_dir_all(parent)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
        .to_string_lossy();
    let tmp = parent.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(parent)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| true)
}

/// fsync a directory so a rename in it is durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Remove `{n}.{ext}` archive files with `n > pages`.
fn remove_stale_archives(archive_dir: &Path, pages: u32) -> io::Result<()> {
    let entries = match fs::read_dir(archive_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut removed = false;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((stem, ext)) = name.split_once('.') else {
            continue;
        };
        let is_feed = super::Format::from_ext(ext).is_some();
        if let (true, Ok(n)) = (is_feed, stem.parse::<u32>()) {
            if PageId::Archive(n) > PageId::Archive(pages) {
                fs::remove_file(entry.path())?;
                removed = true;
            }
        }
    }
    if removed {
        sync_dir(archive_dir)?;
    }
    Ok(())
}
