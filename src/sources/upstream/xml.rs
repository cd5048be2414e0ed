//! Before a feed reaches the RSS/Atom readers: decode its bytes to UTF-8,
//! refuse hostile DTDs, and find out which format it is.
//!
//! Encoding: a byte-order mark wins, then the XML declaration's `encoding`
//! (looked up with `encoding_rs`, so `windows-1256` and `ISO-8859-6`, common
//! on Arabic sites, work), else UTF-8. UTF-8 input must be valid: the error
//! names the byte offset of the first bad sequence.
//!
//! Hostile XML: quick-xml never expands DTD entities nor fetches external
//! ones, so an undeclared `&lol9;` stays literal text. To be explicit rather
//! than lucky, a DOCTYPE with an internal subset (`[...]`, where entity
//! declarations live) is rejected; a plain public DOCTYPE, as old RSS 0.91
//! feeds carry, is ignored.

use super::parse::ParseError;
use quick_xml::events::Event;
use std::borrow::Cow;

/// Which reader a document needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RSS 0.9x or 2.0 (`<rss>`) or RSS 1.0 (`<rdf:RDF>`).
    Rss,
    /// Atom 1.0 (`<feed>`).
    Atom,
}

/// Decode `bytes` to UTF-8 text without an XML declaration.
pub fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    let (encoding, body): (&'static encoding_rs::Encoding, &[u8]) =
        match encoding_rs::Encoding::for_bom(bytes) {
            Some((enc, bom_len)) => (enc, &bytes[bom_len..]),
            None => match declared_encoding(bytes) {
                Some(label) => (
                    encoding_rs::Encoding::for_label(label.trim().as_bytes())
                        .ok_or_else(|| ParseError::UnknownEncoding(label.to_string()))?,
                    bytes,
                ),
                None => (encoding_rs::UTF_8, bytes),
            },
        };
    let text: Cow<'_, str> = if encoding == encoding_rs::UTF_8 {
        match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                let offset = e.valid_up_to() + (bytes.len() - body.len());
                return Err(ParseError::InvalidUtf8 { offset });
            }
        }
    } else {
        encoding
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| ParseError::Malformed {
                encoding: encoding.name().to_string(),
            })?
    };
    Ok(strip_declaration(&text).to_string())
}

/// The `encoding` pseudo-attribute of the XML declaration, read as ASCII
/// (every encoding we accept without a BOM is an ASCII superset).
fn declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(512)];
    let start = head.windows(5).position(|w| w == b"<?xml")?;
    if head[..start].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    let end = head[start..].windows(2).position(|w| w == b"?>")? + start;
    let decl = std::str::from_utf8(&head[start..end]).ok()?;
    let i = decl.find("encoding")?;
    let rest = decl[i + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    let close = rest.find(quote)?;
    Some(&rest[..close])
}

/// Remove a leading `<?xml ...?>`: the text is UTF-8 now, whatever it said.
fn strip_declaration(text: &str) -> &str {
    let trimmed = text.trim_start();
    if trimmed.starts_with("<?xml") {
        if let Some(end) = trimmed.find("?>") {
            return &trimmed[end + 2..];
        }
    }
    trimmed
}

/// Check the prolog for a hostile DTD and return the root element's format.
pub fn sniff(text: &str) -> Result<Format, ParseError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::DocType(dt)) => {
                let raw = String::from_utf8_lossy(dt.as_ref()).to_string();
                if raw.contains('[') || raw.to_ascii_uppercase().contains("<!ENTITY") {
                    return Err(ParseError::Dtd);
                }
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                let local = name.rsplit(':').next().unwrap_or_default().to_string();
                return match local.as_str() {
                    "rss" => Ok(Format::Rss),
                    "RDF" => Ok(Format::Rss),
                    "feed" => Ok(Format::Atom),
                    _ => Err(ParseError::UnknownFormat(name)),
                };
            }
            Ok(Event::Eof) => return Err(ParseError::Empty),
            Ok(_) => {}
            Err(e) => {
                return Err(ParseError::Xml(format!(
                    "at byte {}: {e}",
                    reader.error_position()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1256_is_decoded() {
        let (bytes, _, bad) = encoding_rs::WINDOWS_1256.encode("وزارة الصحة");
        assert!(!bad);
        let mut doc = b"<?xml version=\"1.0\" encoding=\"windows-1256\"?><rss><t>".to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</t></rss>");
        let text = decode(&doc).unwrap();
        assert_eq!(text, "<rss><t>وزارة الصحة</t></rss>");
    }

    #[test]
    fn iso_8859_6_and_single_quotes() {
        let (bytes, _, _) = encoding_rs::ISO_8859_6.encode("مسقط");
        let mut doc = b"<?xml version='1.0' encoding='ISO-8859-6' ?>\n<rss>".to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</rss>");
        assert_eq!(decode(&doc).unwrap().trim(), "<rss>مسقط</rss>");
    }

    #[test]
    fn utf16_bom() {
        let mut doc = vec![0xFF, 0xFE];
        for u in "<feed>عمان</feed>".encode_utf16() {
            doc.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&doc).unwrap(), "<feed>عمان</feed>");
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let doc = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>ok \xC3\x28</rss>";
        let err = decode(doc).unwrap_err();
        assert!(
            matches!(err, ParseError::InvalidUtf8 { offset: 46 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("byte 46"), "{err}");
        // With a BOM, offsets still count from the first byte of the document.
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(b"<rss>\xFF</rss>");
        assert!(matches!(
            decode(&bom).unwrap_err(),
            ParseError::InvalidUtf8 { offset: 8 }
        ));
    }

    #[test]
    fn unknown_encoding_is_an_error() {
        let doc = b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><rss/>";
        assert!(
            matches!(decode(doc).unwrap_err(), ParseError::UnknownEncoding(l) if l == "x-klingon")
        );
    }

    #[test]
    fn formats_by_root() {
        assert_eq!(sniff("<rss version='2.0'/>").unwrap(), Format::Rss);
        assert_eq!(
            sniff("<!-- c --><rdf:RDF xmlns:rdf='x'></rdf:RDF>").unwrap(),
            Format::Rss
        );
        assert_eq!(
            sniff("<feed xmlns='http://www.w3.org/2005/Atom'/>").unwrap(),
            Format::Atom
        );
        assert!(
            matches!(sniff("<html/>").unwrap_err(), ParseError::UnknownFormat(n) if n == "html")
        );
        assert!(matches!(sniff("   ").unwrap_err(), ParseError::Empty));
        // An old public DOCTYPE is harmless and ignored.
        let rss091 = r#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss/>"#;
        assert_eq!(sniff(rss091).unwrap(), Format::Rss);
    }

    #[test]
    fn internal_subsets_are_rejected() {
        let xxe = r#"<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss>&xxe;</rss>"#;
        assert!(matches!(sniff(xxe).unwrap_err(), ParseError::Dtd));
    }
}
