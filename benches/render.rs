//! Render benchmarks: one call of `render_channel` on a 1,000-item bilingual
//! store, per channel language and paging layout.
//!
//! Every call produces RSS, Atom and JSON Feed for every page, each with its
//! gzip and brotli (quality 11) bodies and ETag, so the figures are the cost
//! of one full re-render as the daemon does it after a news change. Throughput
//! is reported in items (`Elements(1000)`): criterion prints items/s.
//!
//! Run: `cargo bench --bench render` (add a filter, e.g. `-- reuse`, to run
//! a subset). Benchmarks measure; they assert nothing.

use chrono::{DateTime, TimeZone, Utc};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use musharaka::config::Channel;
use musharaka::model::{ItemId, Lang, Localized, Media, MediaKind, NewsItem, Origin};
use musharaka::render::{Format, PageId, RenderedChannel, render_channel};
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;
use uuid::Uuid;

/// Items in the store (all bilingual, so each channel shows all of them).
const ITEMS: usize = 1_000;

const AR_TITLES: [&str; 8] = [
    "إطلاق خدمة تجديد بطاقة الهوية إلكترونياً عبر البوابة",
    "وزارة الصحة تعلن مواعيد حملة التطعيم الموسمية في المحافظات",
    "تمديد فترة التسجيل في نظام القبول الموحد للعام الدراسي الجديد",
    "شرطة عُمان السلطانية تحذّر من رسائل احتيالية تنتحل صفة الجهات الحكومية",
    "تحديث اشتراطات ترخيص المركبات التجارية عبر منصة النقل",
    "بدء استقبال طلبات الدعم السكني للمرحلة الثانية",
    "صيانة مجدولة لخدمات الدفع الإلكتروني مساء يوم الجمعة",
    "إطلاق النسخة الجديدة من تطبيق البوابة للهواتف الذكية",
];

const EN_TITLES: [&str; 8] = [
    "ID card renewal is now available online through the portal",
    "Ministry of Health announces the seasonal vaccination campaign dates",
    "Registration in the unified admission system extended for the new academic year",
    "Royal Oman Police warns of fraudulent messages impersonating government bodies",
    "Updated licensing requirements for commercial vehicles on the transport platform",
    "Applications for housing support open for the second phase",
    "Scheduled maintenance of e-payment services on Friday evening",
    "New version of the portal's mobile app released",
];

const AR_SENTENCES: [&str; 6] = [
    "أعلنت الجهة المختصة اليوم عن إتاحة الخدمة لجميع المواطنين والمقيمين عبر البوابة الإلكترونية دون الحاجة إلى مراجعة مراكز الخدمة.",
    "ويمكن للمستفيدين تقديم الطلب وإرفاق المستندات المطلوبة ومتابعة حالته من خلال حساباتهم الشخصية.",
    "وأوضحت أن الإجراءات الجديدة تختصر مدة إنجاز المعاملة من خمسة أيام عمل إلى يوم واحد.",
    "ودعت الجميع إلى التحقق من صحة بياناتهم قبل تقديم الطلب وتحديث أرقام الهواتف المسجلة.",
    "وتأتي هذه الخطوة ضمن برنامج التحول الرقمي الحكومي الذي يهدف إلى رفع كفاءة الخدمات.",
    "وللاستفسار يمكن التواصل مع مركز الاتصال على الرقم المجاني أو عبر المحادثة الفورية.",
];

const EN_SENTENCES: [&str; 6] = [
    "The competent authority announced today that the service is available to all citizens and residents through the e-portal, with no visit to a service centre required.",
    "Beneficiaries can submit the application, attach the required documents and follow its status from their personal accounts.",
    "The new procedure cuts the processing time from five working days to one.",
    "Everyone is invited to check their details before applying and to update their registered phone numbers.",
    "This step is part of the government digital transformation programme to raise the efficiency of services.",
    "For enquiries, contact the call centre on the toll-free number or through live chat.",
];

const CATEGORIES: [&str; 6] = [
    "خدمات إلكترونية",
    "صحة",
    "تعليم",
    "تنبيهات",
    "e-services",
    "transport",
];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0)
        .single()
        .expect("fixed time")
}

/// A sanitized HTML body of a few hundred bytes, varied per item so the
/// compressors see realistic (not trivially repetitive) input.
fn body(sentences: &[&str; 6], n: usize, number: &str) -> String {
    let a = sentences[n % 6];
    let b = sentences[(n / 6 + 1) % 6];
    let c = sentences[(n * 7 + 3) % 6];
    format!(
        "<p>{a} {b}</p><p><strong>{number} {n}</strong> — {c}</p>\
         <ul><li>{}</li><li><a href=\"https://omanportal.gov.om/services/{n}\" rel=\"noopener\">omanportal.gov.om/services/{n}</a></li></ul>",
        sentences[(n + 2) % 6],
    )
}

/// Item `n`: bilingual, published `n * 37` minutes before [`now`]; a third
/// carry an image enclosure, half an absolute link, some were edited.
fn item(n: usize) -> NewsItem {
    let published = now() - chrono::Duration::minutes(37 * (n as i64 + 1));
    let updated = if n % 5 == 0 {
        published + chrono::Duration::hours(3)
    } else {
        published
    };
    let media = if n % 3 == 0 {
        vec![Media {
            kind: MediaKind::Image,
            url: format!("https://omanportal.gov.om/media/2025/news-{n}.jpg"),
            mime_type: "image/jpeg".into(),
            length: Some(150_000 + (n as u64 * 97) % 90_000),
        }]
    } else {
        Vec::new()
    };
    NewsItem {
        id: ItemId(Uuid::from_u128(
            0x0197_0000_0000_7000_8000_0000_0000_0000 + n as u128,
        )),
        origin: Origin::Staff,
        title: Localized {
            ar: Some(format!("{} ({n})", AR_TITLES[n % AR_TITLES.len()])),
            en: Some(format!("{} ({n})", EN_TITLES[n % EN_TITLES.len()])),
        },
        body: Localized {
            ar: Some(body(&AR_SENTENCES, n, "رقم الإعلان")),
            en: Some(body(&EN_SENTENCES, n, "Notice no.")),
        },
        link: (n % 2 == 0).then(|| format!("https://omanportal.gov.om/ar/news/{n}")),
        categories: vec![
            CATEGORIES[n % CATEGORIES.len()].to_string(),
            CATEGORIES[(n / 3 + 1) % CATEGORIES.len()].to_string(),
        ],
        media,
        author: Some(if n % 4 == 0 {
            "المكتب الإعلامي".to_string()
        } else {
            "Portal newsroom".to_string()
        }),
        published_at: published,
        updated_at: updated,
        created_at: published,
        retracted_at: None,
        revision: if updated > published { 2 } else { 1 },
        modified_at: None,
        content_hash: None,
    }
}

fn channel(lang: Lang, limit: usize) -> Channel {
    let (id, title, description, site) = match lang {
        Lang::Ar => (
            "news-ar",
            "بوابة سلطنة عُمان - الأخبار",
            "آخر أخبار الخدمات الحكومية الإلكترونية من البوابة والوزارات",
            "https://omanportal.gov.om/ar/news",
        ),
        Lang::En => (
            "news-en",
            "Oman Portal — News",
            "The latest news on government e-services from the portal and the ministries",
            "https://omanportal.gov.om/en/news",
        ),
    };
    Channel {
        id: id.to_string(),
        lang,
        title: title.to_string(),
        description: description.to_string(),
        site_link: Url::parse(site).expect("url"),
        base_url: Url::parse("https://omanportal.gov.om/").expect("url"),
        limit,
        image: Some(Url::parse("https://omanportal.gov.om/logo.png").expect("url")),
        rights: Some("© بوابة سلطنة عُمان".to_string()),
        include_staff: true,
        sources: BTreeSet::new(),
        categories: BTreeSet::new(),
        file: PathBuf::from(format!("feeds/{id}.toml")),
    }
}

/// Print the document sizes once, so the figures can be related to bytes.
fn describe(label: &str, r: &RenderedChannel) {
    let doc = |f: Format| r.get(PageId::Current, f).expect("current document");
    let (rss, atom, json) = (doc(Format::Rss), doc(Format::Atom), doc(Format::Json));
    eprintln!(
        "{label}: {} items in current, {} archive pages, {} documents; current RSS {} B (gzip {} B, br {} B), Atom {} B, JSON {} B",
        r.items,
        r.archive_pages,
        r.documents.len(),
        rss.body.len(),
        rss.gzip.len(),
        rss.brotli.len(),
        atom.body.len(),
        json.body.len(),
    );
}

fn benches(c: &mut Criterion) {
    let items: Vec<NewsItem> = (0..ITEMS).map(item).collect();
    let now = now();
    let layouts = [("all-current", ITEMS), ("paged-50", 50)];
    let langs = [Lang::Ar, Lang::En];
    // The `previous` of the reuse benchmarks: one first render per case,
    // made only if that benchmark runs (criterion calls a closure only when
    // its id matches the filter).
    let mut firsts: BTreeMap<(usize, Lang), RenderedChannel> = BTreeMap::new();
    let mut first = |ch: &Channel| -> RenderedChannel {
        firsts
            .entry((ch.limit, ch.lang))
            .or_insert_with(|| {
                let r = render_channel(ch, &items, now, None).expect("render");
                describe(&format!("{}/limit-{}", ch.id, ch.limit), &r);
                r
            })
            .clone()
    };

    // A full render: nothing to reuse, every document built and compressed.
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(ITEMS as u64));
    // One iteration takes seconds (brotli quality 11 on every document):
    // the fewest samples criterion allows, one iteration each, so about
    // 11 iterations per benchmark; `-- --quick` measures a single one.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(1));
    for (layout, limit) in layouts {
        for lang in langs {
            let ch = channel(lang, limit);
            g.bench_function(BenchmarkId::new(&ch.id, layout), |b| {
                b.iter(|| {
                    render_channel(black_box(&ch), black_box(&items), now, None).expect("render")
                })
            });
        }
    }
    g.finish();

    // Re-render of an unchanged state: every body is written again and
    // compared with `previous`; nothing is compressed.
    let mut g = c.benchmark_group("render-reuse");
    g.throughput(Throughput::Elements(ITEMS as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    for (layout, limit) in layouts {
        for lang in langs {
            let ch = channel(lang, limit);
            g.bench_function(BenchmarkId::new(&ch.id, layout), |b| {
                let previous = first(&ch);
                b.iter(|| {
                    render_channel(black_box(&ch), black_box(&items), now, Some(&previous))
                        .expect("render")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
