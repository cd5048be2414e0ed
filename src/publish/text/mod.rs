//! Post text for the social platforms: measuring, truncating and composing.
//!
//! - [`twitter`]: X's weighted length (twitter-text v3 rules), [`x_length`].
//! - [`url`], [`emoji`]: the URL and emoji-sequence matchers it counts with.
//! - [`truncate`]: cut at a word boundary with "…", never inside a grapheme.
//! - [`template`]: post templates (`{title}`, `{summary}`, `{link}`,
//!   `{hashtags}`) and composing posts for X, Facebook and YouTube.
//!
//! Direction: posts mix Arabic (RTL) with LTR hashtags, URLs and numbers.
//! X, Facebook and YouTube all lay text out with the Unicode bidirectional
//! algorithm per paragraph, so nothing is added: no LRM/RLM, embeddings or
//! isolates are ever inserted (on X each costs 2 characters, and they break
//! hashtag and URL detection when placed inside them). Direction characters
//! already in the input are kept as they are. Each template line is its own
//! paragraph, so putting the link and hashtags on their own line (as the
//! default templates do) keeps an LTR URL from reordering Arabic words.

pub mod emoji;
pub mod template;
pub mod truncate;
pub mod twitter;
pub mod url;

pub use template::{
    ComposeError, Placeholder, Template, TemplateError, compose_facebook, compose_x,
    format_hashtags, youtube_description, youtube_title,
};
pub use truncate::truncate_to_fit;
pub use twitter::{
    TextLength, TwitterTextConfig, WeightRange, v3_config, weighted_length, x_length,
};
