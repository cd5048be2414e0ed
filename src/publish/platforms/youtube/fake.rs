//! placeholder
pub struct FakeYoutube;
