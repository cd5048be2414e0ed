//! RSS 2.0 writer, on the `rss` crate. History links (RFC 5005) and the
//! self link are `atom:link` elements; `<fh:archive/>` is a channel
//! extension; the author is `dc:creator` because RSS `<author>` must be an
//! e-mail address.

use super::text::{self, clean, clean_line};
use super::{FH_NAMESPACE, Format, GENERATOR, Page, RenderError};
use ::atom_syndication::Link;
use ::rss::extension::atom::AtomExtension;
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::extension::{Extension, ExtensionMap};
use ::rss::{Category, Channel, Enclosure, Guid, Image, Item};
use std::collections::BTreeMap;

fn link(rel: &str, href: String) -> Link {
    Link {
        href,
        rel: rel.to_string(),
        mime_type: Some(Format::Rss.media_type().to_string()),
        ..Link::default()
    }
}

fn item(page: &Page<'_>, it: &crate::model::NewsItem) -> Item {
    let lang = page.channel.lang;
    let title = it.title.get(lang).map(clean_line).unwrap_or_default();
    let description = it.body.get(lang).map(clean);
    let categories = text::categories(it)
        .into_iter()
        .map(|name| Category { name, domain: None })
        .collect();
    // RSS allows one enclosure per item: the first usable medium.
    let enclosure = text::usable_media(it)
        .next()
        .map(|(url, mime, m)| Enclosure {
            url,
            // RSS Best Practices: use 0 when the size cannot be determined.
            length: m.length.unwrap_or(0).to_string(),
            mime_type: mime,
        });
    let dublin_core_ext = text::author(it).map(|a| DublinCoreExtension {
        creators: vec![a],
        ..DublinCoreExtension::default()
    });
    Item {
        title: Some(title),
        link: Some(text::permalink(page.channel, it)),
        description,
        categories,
        enclosure,
        guid: Some(Guid {
            value: text::item_guid(it),
            permalink: false,
        }),
        pub_date: Some(text::rfc822(it.published_at)),
        dublin_core_ext,
        ..Item::default()
    }
}

/// The RSS 2.0 document of one page.
pub(crate) fn render(page: &Page<'_>) -> Result<Vec<u8>, RenderError> {
    let ch = page.channel;
    let mut links = vec![link("self", page.self_url(Format::Rss))];
    for (rel, target) in page.history_links() {
        links.push(link(rel, page.url_of(target, Format::Rss)));
    }
    let mut namespaces = BTreeMap::new();
    let mut extensions = ExtensionMap::new();
    if page.is_archive() {
        namespaces.insert("fh".to_string(), FH_NAMESPACE.to_string());
        let archive = Extension {
            name: "fh:archive".to_string(),
            ..Extension::default()
        };
        extensions.insert(
            "fh".to_string(),
            BTreeMap::from([("archive".to_string(), vec![archive])]),
        );
    }
    let title = clean_line(&ch.title);
    let date = text::rfc822(page.updated);
    let channel = Channel {
        title: title.clone(),
        link: ch.site_link.to_string(),
        description: clean(&ch.description),
        language: Some(ch.lang.tag().to_string()),
        copyright: ch
            .rights
            .as_deref()
            .map(clean_line)
            .filter(|r| !r.is_empty()),
        pub_date: Some(date.clone()),
        last_build_date: Some(date),
        generator: Some(GENERATOR.to_string()),
        docs: Some("https://www.rssboard.org/rss-specification".to_string()),
        image: ch.image.as_ref().map(|u| Image {
            url: u.to_string(),
            title,
            link: ch.site_link.to_string(),
            ..Image::default()
        }),
        items: page.items.iter().map(|it| item(page, it)).collect(),
        extensions,
        namespaces,
        atom_ext: Some(AtomExtension { links }),
        ..Channel::default()
    };
    channel
        .write_to(Vec::new())
        .map_err(|source| RenderError::Rss {
            channel: ch.id.clone(),
            source,
        })
}
