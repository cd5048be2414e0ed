//! Emoji sequences, each of which X (twitter-text v3, `emojiParsingEnabled`)
//! counts once at `defaultWeight`, however many code points it has.
//!
//! The matcher follows the sequence grammar of Unicode UTS #51 rather than a
//! fixed list of known emoji, so emoji newer than any table still group:
//!
//! - flags: a pair of regional indicators (a lone one is one emoji too);
//! - keycaps: `0-9 # *`, an optional U+FE0F, then U+20E3;
//! - an element: a pictographic code point (Extended_Pictographic from
//!   U+2000 up, or a skin-tone modifier), an optional U+FE0F, an optional
//!   skin-tone modifier U+1F3FB–1F3FF, and an optional tag sequence
//!   (U+E0020–E007E…, ended by U+E007F, as in 🏴󠁧󠁢󠁳󠁣󠁴󠁿);
//! - ZWJ sequences: elements joined by U+200D.
//!
//! Differences from twitter-text 3.1's generated (twemoji) regex, on purpose
//! and all outside its conformance cases: a ZWJ sequence newer than that list
//! (🧑‍💻) counts 2 here, while twitter-text counts its parts (2 + 1 + 2);
//! `©` and `®` (below U+2000) are never emoji here or there. A pictographic
//! character followed by U+FE0E (text presentation) is not an emoji, as in
//! twitter-text. Single pictographs above U+10FF weigh `defaultWeight`
//! whether or not they match, so only sequences change the count.

use std::ops::Range;

const ZWJ: char = '\u{200D}';
const VS15: char = '\u{FE0E}';
const VS16: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';
const TAG_END: char = '\u{E007F}';

/// Extended_Pictographic ranges (emoji-data.txt) from U+2000 up.
const PICTOGRAPHIC: &[(u32, u32)] = &[
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
];

fn is_pictographic(c: char) -> bool {
    let c = u32::from(c);
    PICTOGRAPHIC
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn is_modifier(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007E}').contains(&c)
}

/// Length in bytes of the emoji element (pictograph plus its modifiers) at
/// the start of `s`.
fn element(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().peekable();
    let (_, first) = chars.next()?;
    if !(is_pictographic(first) || is_modifier(first)) {
        return None;
    }
    let mut end = first.len_utf8();
    match chars.peek() {
        Some(&(_, VS15)) => return None,
        Some(&(i, VS16)) => {
            end = i + VS16.len_utf8();
            chars.next();
        }
        _ => {}
    }
    if let Some(&(i, c)) = chars.peek() {
        if is_modifier(c) && !is_modifier(first) {
            end = i + c.len_utf8();
            chars.next();
        }
    }
    // A tag sequence counts only when it is terminated.
    let mut tag_end = None;
    let mut saw_tag = false;
    for (i, c) in chars {
        if is_tag(c) {
            saw_tag = true;
        } else {
            if c == TAG_END && saw_tag {
                tag_end = Some(i + c.len_utf8());
            }
            break;
        }
    }
    Some(tag_end.unwrap_or(end))
}

/// Length in bytes of the emoji sequence at the start of `s`, if one starts
/// there.
pub fn emoji_at(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    let first = chars.next()?;
    if is_regional_indicator(first) {
        let len = first.len_utf8();
        return match chars.next() {
            Some(second) if is_regional_indicator(second) => Some(len + second.len_utf8()),
            _ => Some(len),
        };
    }
    if matches!(first, '0'..='9' | '#' | '*') {
        let rest = &s[1..];
        let rest_after_vs = rest.strip_prefix(VS16).unwrap_or(rest);
        return rest_after_vs
            .starts_with(KEYCAP)
            .then(|| s.len() - rest_after_vs.len() + KEYCAP.len_utf8());
    }
    let mut end = element(s)?;
    while let Some(rest) = s[end..].strip_prefix(ZWJ) {
        match element(rest) {
            Some(len) => end += ZWJ.len_utf8() + len,
            None => break,
        }
    }
    Some(end)
}

/// Byte ranges of the emoji sequences in `text`, in order, not overlapping.
pub fn extract_emoji(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        match emoji_at(&text[i..]) {
            Some(len) => {
                found.push(i..i + len);
                i += len;
            }
            None => i += c.len_utf8(),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        extract_emoji(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn groups_sequences() {
        assert_eq!(spans("👨‍👩‍👧‍👦"), ["👨‍👩‍👧‍👦"]);
        assert_eq!(spans("🙋🏽👨‍🎤"), ["🙋🏽", "👨‍🎤"]);
        assert_eq!(spans("🇴🇲🇸🇦"), ["🇴🇲", "🇸🇦"]);
        assert_eq!(spans("1⃣ #️⃣ 12"), ["1⃣", "#️⃣"]);
        assert_eq!(spans("🏴󠁧󠁢󠁥󠁮󠁧󠁿"), ["🏴󠁧󠁢󠁥󠁮󠁧󠁿"]);
        assert_eq!(spans("❤️ ☺"), ["❤️", "☺"]);
        assert_eq!(spans("🧑🏽‍💻"), ["🧑🏽‍💻"]);
    }

    #[test]
    fn leaves_text_alone() {
        assert!(spans("abc © ® مرحبا 123").is_empty());
        assert!(spans("☺\u{FE0E}").is_empty());
        // A ZWJ not followed by an emoji is not part of the sequence.
        assert_eq!(spans("👨\u{200D}a"), ["👨"]);
    }
}
