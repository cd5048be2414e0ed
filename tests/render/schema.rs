//! Atom output validated against the RFC 4287 Relax NG schema with
//! `xmllint` (Debian package `libxml2-utils`, listed in tests/APT_PACKAGES).
//! Locally without xmllint the test is skipped with a loud message; under CI
//! (`CI` set) a missing xmllint is a failure.

use crate::support::*;
use musharaka::model::Lang;
use musharaka::render::{Format, render_channel};
use std::path::Path;
use std::process::Command;

fn xmllint_available() -> bool {
    Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn atom_output_validates_against_rfc4287_relax_ng() {
    if !xmllint_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is required in CI: install the packages in tests/APT_PACKAGES"
        );
        eprintln!(
            "\n*** SKIPPED atom_output_validates_against_rfc4287_relax_ng: xmllint not found (apt-get install -y libxml2-utils) ***\n"
        );
        return;
    }
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/atom.rng");
    let dir = tempfile::tempdir().expect("tempdir");
    let ch = channel("news-ar", Lang::Ar, 4);
    let mut its = items(1..=9);
    its.push(rich_item());
    let mut hostile = item(11);
    hostile.title.ar = Some("<b>عنوان</b> & ]]> \u{202b}x\u{202c}".into());
    its.push(hostile);
    let r = render_channel(&ch, &its, at(300), None).expect("render");
    assert!(r.archive_pages >= 2);
    let mut checked = 0;
    for ((page, f), doc) in &r.documents {
        if *f != Format::Atom {
            continue;
        }
        let file = dir.path().join(format!("{page:?}.atom"));
        std::fs::write(&file, &doc.body).expect("write");
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--relaxng")
            .arg(&schema)
            .arg(&file)
            .output()
            .expect("run xmllint");
        assert!(
            out.status.success(),
            "{page:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&doc.body)
        );
        checked += 1;
    }
    assert_eq!(checked, 1 + r.archive_pages as usize);
    // The schema must be able to reject: an entry without an id fails.
    let bad = dir.path().join("bad.atom");
    std::fs::write(&bad, r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><updated>2024-01-01T00:00:00Z</updated><entry><title>e</title><updated>2024-01-01T00:00:00Z</updated></entry></feed>"#).expect("write");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(&schema)
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success(), "schema accepted an entry without id");
}
