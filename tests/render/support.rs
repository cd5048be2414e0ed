//! Builders for channels and items.

use chrono::{DateTime, Duration, TimeZone, Utc};
use musharaka::config::Channel;
use musharaka::model::{ItemId, Lang, Localized, Media, MediaKind, NewsItem, Origin};
use std::collections::BTreeSet;
use std::path::PathBuf;
use url::Url;
use uuid::Uuid;

pub const BASE: &str = "https://feeds.portal.example.om/";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0)
        .single()
        .expect("t0")
}

pub fn at(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

pub fn channel(id: &str, lang: Lang, limit: usize) -> Channel {
    Channel {
        id: id.to_string(),
        lang,
        title: match lang {
            Lang::Ar => "أخبار البوابة".to_string(),
            Lang::En => "Portal news".to_string(),
        },
        description: match lang {
            Lang::Ar => "آخر أخبار بوابة سلطنة عمان".to_string(),
            Lang::En => "Latest news of the Oman portal".to_string(),
        },
        site_link: Url::parse("https://portal.example.om/").expect("url"),
        base_url: Url::parse(BASE).expect("url"),
        limit,
        image: Some(Url::parse("https://portal.example.om/logo.png").expect("url")),
        rights: Some("© حكومة سلطنة عمان".to_string()),
        include_staff: true,
        sources: BTreeSet::from(["mol".to_string()]),
        categories: BTreeSet::new(),
        file: PathBuf::from("feeds/test.toml"),
    }
}

/// Item `n`, published at `at(n)`, titled in both languages.
pub fn item(n: u128) -> NewsItem {
    let h = i64::try_from(n).expect("small n");
    NewsItem {
        id: ItemId(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0000 + n,
        )),
        origin: Origin::Staff,
        title: Localized {
            ar: Some(format!("خبر رقم {n}")),
            en: Some(format!("News number {n}")),
        },
        body: Localized {
            ar: Some(format!("<p>نص الخبر {n}</p>")),
            en: Some(format!("<p>Body of news {n}</p>")),
        },
        link: None,
        categories: vec![],
        media: vec![],
        author: None,
        published_at: at(h),
        updated_at: at(h),
        created_at: at(h),
        retracted_at: None,
        revision: 1,
        modified_at: None,
        content_hash: None,
    }
}

pub fn items(range: std::ops::RangeInclusive<u128>) -> Vec<NewsItem> {
    range.map(item).collect()
}

/// A rich Arabic item: media, author, categories, link.
pub fn rich_item() -> NewsItem {
    let mut it = item(100);
    it.title.ar = Some("وزارة العمل تطلق خدمة \u{200f}«تصريح»\u{200f} الإلكترونية".to_string());
    it.body.ar =
        Some("<p dir=\"rtl\">أطلقت الوزارة اليوم خدمة جديدة &amp; مجانية.</p>".to_string());
    it.author = Some("مكتب الإعلام".to_string());
    it.categories = vec![" عمل ".to_string(), "خدمات".to_string(), "".to_string()];
    it.link = Some("https://www.mol.gov.om/news/42?lang=ar&x=1".to_string());
    it.media = vec![
        Media {
            kind: MediaKind::Video,
            url: "https://media.portal.example.om/v/42.mp4".to_string(),
            mime_type: "video/mp4".to_string(),
            length: Some(1_234_567),
        },
        Media {
            kind: MediaKind::Image,
            url: "https://media.portal.example.om/i/42.jpg".to_string(),
            mime_type: "image/jpeg".to_string(),
            length: None,
        },
    ];
    it.updated_at = it.published_at + Duration::minutes(30);
    it
}
