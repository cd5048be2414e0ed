//! twitter-text conformance: the weighted-length sections of the official
//! `validate.yml` (fixtures in `tests/fixtures/twitter-text/`, see SOURCE.md
//! there), run against `musharaka::publish::text::weighted_length`.

use musharaka::publish::text::{TextLength, TwitterTextConfig, weighted_length};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
struct Validate {
    tests: BTreeMap<String, serde_norway::Value>,
}

#[derive(Debug, Deserialize)]
struct Case {
    description: String,
    text: String,
    expected: Expected,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Expected {
    weighted_length: usize,
    valid: bool,
    permillage: usize,
    display_range_start: usize,
    display_range_end: usize,
    valid_range_start: usize,
    valid_range_end: usize,
}

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/twitter-text",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases(section: &str) -> Vec<Case> {
    let doc: Validate = serde_norway::from_str(&fixture("validate.yml")).expect("validate.yml");
    let value = doc.tests.get(section).cloned().expect("section present");
    serde_norway::from_value(value).expect("section shape")
}

fn config(name: &str) -> TwitterTextConfig {
    serde_json::from_str(&fixture(name)).expect("config json")
}

/// Runs every case of `section`, reports all failures at once, and returns
/// how many cases passed.
fn run(section: &str, config: &TwitterTextConfig) -> usize {
    let cases = cases(section);
    let mut failures = Vec::new();
    for case in &cases {
        let got = weighted_length(&case.text, config);
        let e = &case.expected;
        let want = TextLength {
            weighted_length: e.weighted_length,
            valid: e.valid,
            permillage: e.permillage,
            display_range: (e.display_range_start, e.display_range_end),
            valid_range: (e.valid_range_start, e.valid_range_end),
        };
        if got != want {
            failures.push(format!(
                "{section} / {}:\n  want {want:?}\n  got  {got:?}",
                case.description
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn embedded_configs_match_the_official_json() {
    assert_eq!(config("v2.json"), TwitterTextConfig::v2());
    assert_eq!(config("v3.json"), TwitterTextConfig::v3());
}

#[test]
fn weighted_tweets_counter_v2() {
    assert_eq!(run("WeightedTweetsCounterTest", &config("v2.json")), 20);
}

#[test]
fn weighted_tweets_with_discounted_emoji_v3() {
    assert_eq!(
        run(
            "WeightedTweetsWithDiscountedEmojiCounterTest",
            &config("v3.json")
        ),
        22
    );
}

#[test]
fn unicode_directional_markers_v3() {
    assert_eq!(
        run("UnicodeDirectionalMarkerCounterTest", &config("v3.json")),
        2
    );
}
