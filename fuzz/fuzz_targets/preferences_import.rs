//! Any text as a legacy export, read as CSV and as JSON: parsing never panics, every row and
//! every rejection names a line of the file, and validation never panics.
#![no_main]

use std::collections::BTreeSet;

use app::preferences::import::{Format, parse, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.split('\n').count();
    let workspaces: BTreeSet<app::items::Workspace> = ["billing", "referrals"]
        .into_iter()
        .map(app::items::Workspace::from)
        .collect();
    for format in [Format::Csv, Format::Json] {
        let Ok(parsed) = parse(text, format) else {
            continue;
        };
        for (line, row) in &parsed.rows {
            assert!((1..=lines).contains(line), "row line {line} of {lines}");
            if let Ok(valid) = validate(row, &workspaces) {
                assert!(valid.email.contains('@'));
                if let Some(language) = &valid.email_language {
                    assert!(app::preferences::EMAIL_LANGUAGES.contains(&language.as_str()));
                }
                assert!(
                    valid
                        .workspaces_off
                        .iter()
                        .flatten()
                        .all(|w| workspaces.contains(w))
                );
            }
        }
        for rejected in &parsed.rejected {
            assert!(
                (1..=lines).contains(&rejected.line),
                "rejection line {} of {lines}",
                rejected.line
            );
        }
    }
});
