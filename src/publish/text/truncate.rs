//! Shortening text to a budget: cut at a word boundary (Unicode UAX #29),
//! append "…", and never split a grapheme cluster.
//!
//! Word boundaries come from `unicode-segmentation`, so Arabic harakat and
//! other combining marks stay with their letter, and emoji ZWJ sequences,
//! flags and keycaps stay whole. When not even the first word fits (one long
//! word or URL), the cut falls back to the last grapheme boundary that fits.
//! Word cuts never fall inside a URL (as X's extractor finds them), a
//! `#hashtag` or an `@mention`: those go whole or not at all.
//! Trailing spaces and joining punctuation (`, ، ; ؛ : - – —`) before the
//! ellipsis are dropped.
//!
//! The budget is in whatever unit `measure` returns (X weighted length,
//! UTF-16 units, characters, UTF-8 bytes), and the result, ellipsis
//! included, always measures at most `budget`.

use super::url::extract_urls;
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// The ellipsis appended to shortened text (U+2026: one character, 3 UTF-8
/// bytes, and weight 2 on X, whose weight-1 ranges stop at U+201F).
pub const ELLIPSIS: &str = "…";

/// Characters dropped from the end of a cut before the ellipsis.
fn is_trailing_joiner(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '،' | ';' | '؛' | ':' | '-' | '–' | '—')
}

/// Spans that a word cut must not fall inside: URLs, and whitespace-delimited
/// tokens starting with `#`, `＃` or `@`.
fn unbreakable_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = extract_urls(text);
    let mut token_start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() {
            if let Some(start) = token_start.take() {
                if text[start..].starts_with(['#', '＃', '@']) {
                    spans.push(start..i);
                }
            }
        } else if token_start.is_none() {
            token_start = Some(i);
        }
    }
    spans
}

/// `text[..cut]` without trailing joiners, followed by the ellipsis.
fn with_ellipsis(text: &str, cut: usize) -> Option<String> {
    let kept = text.get(..cut)?.trim_end_matches(is_trailing_joiner);
    (!kept.is_empty()).then(|| format!("{kept}{ELLIPSIS}"))
}

/// The longest candidate cut (byte offsets, ascending) whose shortened text
/// measures at most `budget`. Binary search for speed, then a step down in
/// case `measure` is not monotonic (a URL prefix can count differently from
/// the whole URL).
fn best_cut(
    text: &str,
    cuts: &[usize],
    budget: usize,
    measure: &impl Fn(&str) -> usize,
) -> Option<String> {
    let fits = |cut: usize| with_ellipsis(text, cut).filter(|s| measure(s) <= budget);
    let upper = cuts.partition_point(|&cut| fits(cut).is_some());
    cuts[..upper].iter().rev().find_map(|&cut| fits(cut))
}

/// Shorten `text` so that `measure(result) <= budget`.
///
/// Text that already fits is returned unchanged. Otherwise the result is the
/// longest prefix that ends at a word boundary, followed by "…"; if no word
/// fits, the longest prefix that ends at a grapheme boundary; if not even one
/// grapheme and the ellipsis fit, the empty string.
pub fn truncate_to_fit(text: &str, budget: usize, measure: impl Fn(&str) -> usize) -> String {
    if measure(text) <= budget {
        return text.to_owned();
    }
    let graphemes: Vec<usize> = text
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .skip(1)
        .collect();
    // Start of each word segment, i.e. every word boundary inside the text,
    // kept only where it is also a grapheme boundary.
    let unbreakable = unbreakable_spans(text);
    let words: Vec<usize> = text
        .split_word_bound_indices()
        .map(|(i, _)| i)
        .filter(|i| *i > 0 && graphemes.binary_search(i).is_ok())
        .filter(|i| !unbreakable.iter().any(|r| r.start < *i && *i < r.end))
        .collect();
    best_cut(text, &words, budget, &measure)
        .or_else(|| best_cut(text, &graphemes, budget, &measure))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::text::x_length;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn fitting_text_is_unchanged() {
        assert_eq!(truncate_to_fit("hello world", 11, chars), "hello world");
        assert_eq!(truncate_to_fit("", 0, chars), "");
    }

    #[test]
    fn cuts_at_word_boundary() {
        assert_eq!(
            truncate_to_fit("hello wonderful world", 12, chars),
            "hello…"
        );
        // Exactly at the budget with the ellipsis.
        assert_eq!(
            truncate_to_fit("hello wonderful world", 16, chars),
            "hello wonderful…"
        );
        assert_eq!(
            truncate_to_fit("hello wonderful world", 15, chars),
            "hello…"
        );
        // Punctuation before the cut is dropped.
        assert_eq!(truncate_to_fit("one, two, three", 9, chars), "one, two…");
        assert_eq!(truncate_to_fit("one, two, three", 8, chars), "one…");
    }

    #[test]
    fn long_word_falls_back_to_graphemes() {
        assert_eq!(truncate_to_fit("abcdefghij", 5, chars), "abcd…");
        assert_eq!(truncate_to_fit("abcdefghij", 1, chars), "");
        assert_eq!(truncate_to_fit("abcdefghij", 0, chars), "");
    }

    #[test]
    fn arabic_harakat_stay_with_their_letter() {
        // "مُحَمَّدٌ رَسُولُ اللَّهِ": every letter carries marks.
        let text = "مُحَمَّدٌ رَسُولُ اللَّهِ";
        let out = truncate_to_fit(text, 12, chars);
        assert_eq!(out, "مُحَمَّدٌ…");
        // Grapheme fallback inside one voweled word never strands a mark.
        let word = "مُحَمَّدٌ";
        for budget in 1..chars(word) {
            let out = truncate_to_fit(word, budget, chars);
            let kept = out.trim_end_matches(ELLIPSIS);
            assert!(word.starts_with(kept), "{out}");
            assert!(
                kept.graphemes(true)
                    .all(|g| word.graphemes(true).any(|w| w == g)),
                "split a cluster at budget {budget}: {out:?}"
            );
            assert!(chars(&out) <= budget);
        }
    }

    #[test]
    fn emoji_sequences_are_never_split() {
        let family = "👨‍👩‍👧‍👦";
        let text = format!("{family}{family}{family}");
        // 7 code points each; a budget of 10 fits one family and the ellipsis.
        assert_eq!(truncate_to_fit(&text, 10, chars), format!("{family}…"));
        assert_eq!(truncate_to_fit(&text, 5, chars), "");
        // Measured by X, each family weighs 2, and so does "…" (U+2026 is
        // outside X's weight-1 ranges).
        assert_eq!(truncate_to_fit(&text, 6, x_length), text);
        assert_eq!(truncate_to_fit(&text, 5, x_length), format!("{family}…"));
    }

    #[test]
    fn utf8_byte_budget() {
        // Arabic letters are 2 bytes; the ellipsis 3.
        let out = truncate_to_fit("سلطنة عمان", 13, str::len);
        assert_eq!(out, "سلطنة…");
        assert!(out.len() <= 13);
    }

    #[test]
    fn long_url_is_cut_at_graphemes_only_when_nothing_else_fits() {
        let text = "Read https://example.com/a/very/long/path/indeed";
        assert_eq!(truncate_to_fit(text, 10, chars), "Read…");
        let text = "Read https://example.com/a/very/long/path/indeed and more";
        assert_eq!(truncate_to_fit(text, 30, chars), "Read…");
        assert_eq!(
            truncate_to_fit(text, 52, chars),
            "Read https://example.com/a/very/long/path/indeed…"
        );
    }

    #[test]
    fn hashtags_and_mentions_go_whole() {
        let text = "خبر عاجل #سلطنة_عمان @OmanGov";
        assert_eq!(truncate_to_fit(text, 21, chars), "خبر عاجل #سلطنة_عمان…");
        assert_eq!(truncate_to_fit(text, 20, chars), "خبر عاجل…");
    }
}
