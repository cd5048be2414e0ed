//! URL extraction with the rules of twitter-text's extractor, as X uses them
//! to find the links it shortens to `t.co` (each counting
//! `transformedURLLength` on its own).
//!
//! The grammar follows twitter-text's `extractUrl` regular expression: a URL
//! must be preceded by start of text, a non-alphanumeric character that is not
//! `@ ＠ $ # ＃`, or a directional mark; it has an optional `http://` or
//! `https://`, a domain whose last label is a known top-level domain (or
//! `xn--` punycode), an optional port, path and query. Each DNS label must
//! be 1–63 characters once punycode-encoded, and the URL at most 4,096
//! UTF-16 code units. Scheme-less URLs (`example.gov.sa`) count only for the
//! ASCII part of the domain, not after `-_./`, and a bare `name.cc` with a
//! two-letter country code counts only if it has a path or is `.co`/`.tv`.
//! `t.co` links stop after their slug (at most 40 characters).
//!
//! The regular expression needs backtracking and look-ahead, so it runs on
//! `fancy-regex`. Matching is leftmost-first and greedy like the JavaScript
//! engine twitter-text targets.
//!
//! The top-level-domain lists ([`GENERIC_TLDS`], [`COUNTRY_TLDS`]) are the
//! `generic` and `country` lists of twitter-text's `conformance/tld_lib.yml`
//! (github.com/twitter/twitter-text, Apache License 2.0), embedded unchanged.
//! A TLD delegated after that list is not recognised without a scheme (as on
//! X clients built on twitter-text); `https://` URLs on such TLDs are not
//! recognised either, so they count per character (never less than 23 for a
//! realistic URL, so the count errs on the long side).

use fancy_regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// Generic top-level domains from twitter-text's `tld_lib.yml` (`generic`).
pub const GENERIC_TLDS: &str = "
삼성 닷컴 닷넷 香格里拉 餐厅 食品 飞利浦 電訊盈科 集团 通販 购物 谷歌 诺基亚 联通 网络 网站 网店 网址
组织机构 移动 珠宝 点看 游戏 淡马锡 机构 書籍 时尚 新闻 政府 政务 招聘 手表 手机 我爱你 慈善 微博 广东
工行 家電 娱乐 天主教 大拿 大众汽车 在线 嘉里大酒店 嘉里 商标 商店 商城 公益 公司 八卦 健康 信息 佛山
企业 中文网 中信 世界 ポイント ファッション セール ストア コム グーグル クラウド みんな คอม संगठन नेट
कॉम همراه موقع موبايلي كوم كاثوليك عرب شبكة بيتك بازار العليان ارامكو اتصالات ابوظبي קום сайт рус
орг онлайн москва ком католик дети
zuerich zone zippo zip zero zara zappos yun youtube you yokohama yoga yodobashi yandex yamaxun yahoo
yachts xyz xxx xperia xin xihuan xfinity xerox xbox wtf wtc wow world works work woodside
wolterskluwer wme winners wine windows win williamhill wiki wien whoswho weir weibo wedding wed
website weber webcam weatherchannel weather watches watch warman wanggou wang walter walmart wales
vuelos voyage voto voting vote volvo volkswagen vodka vlaanderen vivo viva vistaprint vista vision
visa virgin vip vin villas viking vig video viajes vet versicherung vermögensberatung
vermögensberater verisign ventures vegas vanguard vana vacations ups uol uno university unicom
uconnect ubs ubank tvs tushu tunes tui tube trv trust travelersinsurance travelers travelchannel
travel training trading trade toys toyota town tours total toshiba toray top tools tokyo today tmall
tkmaxx tjx tjmaxx tirol tires tips tiffany tienda tickets tiaa theatre theater thd teva tennis
temasek telefonica telecity tel technology tech team tdk tci taxi tax tattoo tatar tatamotors target
taobao talk taipei tab systems symantec sydney swiss swiftcover swatch suzuki surgery surf support
supply supplies sucks style study studio stream store storage stockholm stcgroup stc statoil
statefarm statebank starhub star staples stada srt srl spreadbetting spot sport spiegel space soy
sony song solutions solar sohu software softbank social soccer sncf smile smart sling skype sky skin
ski site singles sina silk shriram showtime show shouji shopping shop shoes shiksha shia shell shaw
sharp shangrila sfr sexy sex sew seven ses services sener select seek security secure seat search
scot scor scjohnson science schwarz schule school scholarships schmidt schaeffler scb sca sbs sbi
saxo save sas sarl sapo sap sanofi sandvikcoromant sandvik samsung samsclub salon sale sakura safety
safe saarland ryukyu rwe run ruhr rugby rsvp room rogers rodeo rocks rocher rmit rip rio ril
rightathome ricoh richardli rich rexroth reviews review restaurant rest republican report repair
rentals rent ren reliance reit reisen reise rehab redumbrella redstone red recipes realty realtor
realestate read raid radio racing qvc quest quebec qpon pwc pub prudential pru protection property
properties promo progressive prof productions prod pro prime press praxi pramerica post porn politie
poker pohl pnc plus plumbing playstation play place pizza pioneer pink ping pin pid pictures pictet
pics piaget physio photos photography photo phone philips phd pharmacy pfizer pet pccw pay passagens
party parts partners pars paris panerai panasonic pamperedchef page ovh ott otsuka osaka origins
orientexpress organic org orange oracle open ooo onyourside online onl ong one omega ollo oldnavy
olayangroup olayan okinawa office off observer obi nyc ntt nrw nra nowtv nowruz now norton
northwesternmutual nokia nissay nissan ninja nikon nike nico nhk ngo nfl nexus nextdirect next news
newholland new neustar network netflix netbank net nec nba navy natura nationwide name nagoya nadex
nab mutuelle mutual museum mtr mtpc mtn msd movistar movie mov motorcycles moto moscow mortgage
mormon mopar montblanc monster money monash mom moi moe moda mobily mobile mobi mma mls mlb
mitsubishi mit mint mini mil microsoft miami metlife merckmsd meo menu men memorial meme melbourne
meet media med mckinsey mcdonalds mcd mba mattel maserati marshalls marriott markets marketing
market map mango management man makeup maison maif madrid macys luxury luxe lupin lundbeck ltda ltd
lplfinancial lpl love lotto lotte london lol loft locus locker loans loan llp llc lixil living live
lipsy link linde lincoln limo limited lilly like lighting lifestyle lifeinsurance life lidl liaison
lgbt lexus lego legal lefrak leclerc lease lds lawyer law latrobe latino lat lasalle lanxess
landrover land lancome lancia lancaster lamer lamborghini ladbrokes lacaixa kyoto kuokgroup kred krd
kpn kpmg kosher komatsu koeln kiwi kitchen kindle kinder kim kia kfh kerryproperties kerrylogistics
kerryhotels kddi kaufen juniper juegos jprs jpmorgan joy jot joburg jobs jnj jmp jll jlc jio jewelry
jetzt jeep jcp jcb java jaguar iwc iveco itv itau istanbul ist ismaili iselect irish ipiranga
investments intuit international intel int insure insurance institute ink ing info infiniti
industries inc immobilien immo imdb imamat ikano iinet ifm ieee icu ice icbc ibm hyundai hyatt
hughes htc hsbc how house hotmail hotels hoteles hot hosting host hospital horse honeywell honda
homesense homes homegoods homedepot holiday holdings hockey hkt hiv hitachi hisamitsu hiphop hgtv
hermes here helsinki help healthcare health hdfcbank hdfc hbo haus hangout hamburg hair guru guitars
guide guge gucci guardian group grocery gripe green gratis graphics grainger gov got gop google goog
goodyear goodhands goo golf goldpoint gold godaddy gmx gmo gmbh gmail globo global gle glass glade
giving gives gifts gift ggee george genting gent gea gdn gbiz gay garden gap games game gallup gallo
gallery gal fyi futbol furniture fund fun fujixerox fujitsu ftr frontier frontdoor frogans frl
fresenius free fox foundation forum forsale forex ford football foodnetwork food foo fly flsmidth
flowers florist flir flights flickr fitness fit fishing fish firmdale firestone fire financial
finance final film fido fidelity fiat ferrero ferrari feedback fedex fast fashion farmers farm fans
fan family faith fairwinds fail fage extraspace express exposed expert exchange everbank events eus
eurovision etisalat esurance estate esq erni ericsson equipment epson epost enterprises engineering
engineer energy emerck email education edu edeka eco eat earth dvr dvag durban dupont duns dunlop
duck dubai dtv drive download dot doosan domains doha dog dodge doctor docs dnp diy dish discover
discount directory direct digital diet diamonds dhl dev design desi dentist dental democrat delta
deloitte dell delivery degree deals dealer deal dds dclk day datsun dating date data dance dad dabur
cyou cymru cuisinella csc cruises cruise crs crown cricket creditunion creditcard credit cpa courses
coupons coupon country corsica coop cool cookingchannel cooking contractors contact consulting
construction condos comsec computer compare company community commbank comcast com cologne college
coffee codes coach clubmed club cloud clothing clinique clinic click cleaning claims cityeats city
citic citi citadel cisco circle cipriani church chrysler chrome christmas chloe chintai cheap chat
chase charity channel chanel cfd cfa cern ceo center ceb cbs cbre cbn cba catholic catering cat
casino cash caseih case casa cartier cars careers career care cards caravan car capitalone capital
capetown canon cancerresearch camp camera cam calvinklein call cal cafe cab bzh buzz buy business
builders build bugatti budapest brussels brother broker broadway bridgestone bradesco box boutique
bot boston bostik bosch boots booking book boo bond bom bofa boehringer boats bnpparibas bnl bmw bms
blue bloomberg blog blockbuster blanco blackfriday black biz bio bingo bing bike bid bible bharti bet
bestbuy best berlin bentley beer beauty beats bcn bcg bbva bbt bbc bayern bauhaus basketball
baseball bargains barefoot barclays barclaycard barcelona bar bank band bananarepublic banamex baidu
baby azure axa aws avianca autos auto author auspost audio audible audi auction attorney athleta
associates asia asda arte art arpa army archi aramco arab aquarelle apple app apartments aol anz
anquan android analytics amsterdam amica amfam amex americanfamily americanexpress alstom alsace ally
allstate allfinanz alipay alibaba alfaromeo akdn airtel airforce airbus aigo aig agency agakhan
africa afl afamilycompany aetna aero aeg adult ads adac actor active aco accountants accountant
accenture academy abudhabi abogado able abc abbvie abbott abb abarth aarp aaa onion
";

/// Country-code top-level domains from twitter-text's `tld_lib.yml` (`country`).
pub const COUNTRY_TLDS: &str = "
한국 香港 澳門 新加坡 台灣 台湾 中國 中国 გე ລາວ ไทย ලංකා ഭാരതം ಭಾರತ భారత్ சிங்கப்பூர் இலங்கை இந்தியா
ଭାରତ ભારત ਭਾਰਤ ভাৰত ভারত বাংলা भारोत भारतम् भारत ڀارت پاکستان موريتانيا مليسيا مصر قطر فلسطين عمان
عراق سورية سودان تونس بھارت بارت ایران امارات المغرب السعودية الجزائر البحرين الاردن հայ қаз укр срб
рф мон мкд ею бел бг ευ ελ
zw zm za yt ye ws wf vu vn vi vg ve vc va uz uy us um uk ug ua tz tw tv tt tr tp to tn tm tl tk tj
th tg tf td tc sz sy sx sv su st ss sr so sn sm sl sk sj si sh sg se sd sc sb sa rw ru rs ro re qa
py pw pt ps pr pn pm pl pk ph pg pf pe pa om nz nu nr np no nl ni ng nf ne nc na mz my mx mw mv mu
mt ms mr mq mp mo mn mm ml mk mh mg mf me md mc ma ly lv lu lt ls lr lk li lc lb la kz ky kw kr kp
kn km ki kh kg ke jp jo jm je it is ir iq io in im il ie id hu ht hr hn hm hk gy gw gu gt gs gr gq
gp gn gm gl gi gh gg gf ge gd gb ga fr fo fm fk fj fi eu et es er eh eg ee ec dz do dm dk dj de cz
cy cx cw cv cu cr co cn cm cl ck ci ch cg cf cd cc ca bz by bw bv bt bs br bq bo bn bm bl bj bi bh
bg bf be bd bb ba az ax aw au at as ar aq ao an am al ai ag af ae ad ac
";

/// Characters twitter-text treats as punctuation (never part of a domain label).
const PUNCT: &str = r"!'\#%\&()*+,\\\-./:;<=>?@\[\]\^_{|}\~$";
/// Unicode white space.
const SPACES: &str = r"\x09-\x0D\x20\x85\xA0\x{1680}\x{180E}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";
/// Characters that make a post invalid.
const INVALID: &str = r"\x{FFFE}\x{FEFF}\x{FFFF}";
/// Bidirectional marks, embeddings and isolates.
const DIRECTIONAL: &str = r"\x{202A}-\x{202E}\x{061C}\x{200E}\x{200F}\x{2066}-\x{2069}";
/// Latin letters with accents and combining diacritics allowed in paths.
const LATIN_ACCENTS: &str = r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\x{0100}-\x{024F}\x{0253}\x{0254}\x{0256}\x{0257}\x{0259}\x{025B}\x{0263}\x{0268}\x{026F}\x{0272}\x{0289}\x{028B}\x{02BB}\x{0300}-\x{036F}\x{1E00}-\x{1EFF}";
/// Cyrillic letters and marks allowed in paths.
const CYRILLIC: &str = r"\x{0400}-\x{04FF}";

/// Longest URL twitter-text accepts, in UTF-16 code units (scheme included).
const MAX_URL_LENGTH: usize = 4096;
/// Longest `t.co` slug.
const MAX_TCO_SLUG_LENGTH: usize = 40;
/// Longest DNS label once punycode-encoded.
const MAX_LABEL_LENGTH: usize = 63;

/// Alternation of the TLDs in `list`, longest first so that a TLD never loses
/// to one of its own prefixes, each followed by twitter-text's look-ahead.
fn tld_alternation(list: &str, lookahead: &str) -> String {
    let mut tlds: Vec<&str> = list.split_whitespace().collect();
    tlds.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(b.cmp(a)));
    let escaped: Vec<String> = tlds
        .iter()
        .map(|t| fancy_regex::escape(t).into_owned())
        .collect();
    format!("(?:(?:{})(?={lookahead}))", escaped.join("|"))
}

struct Patterns {
    extract: Regex,
    ascii_domain: Regex,
    invalid_short_domain: Regex,
    special_short_domain: Regex,
    tco: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let tld_end = r"[^0-9a-zA-Z@+\-]|$";
    let gtld = tld_alternation(GENERIC_TLDS, tld_end);
    let cctld = tld_alternation(COUNTRY_TLDS, tld_end);
    let punycode = r"(?:xn--[\-0-9a-z]+)";
    let domain_char = format!("[^{PUNCT}{SPACES}{INVALID}{DIRECTIONAL}]");
    let subdomain = format!(r"(?:(?:{domain_char}(?:[_\-]|{domain_char})*)?{domain_char}\.)");
    let domain_name = format!(r"(?:(?:{domain_char}(?:\-|{domain_char})*)?{domain_char}\.)");
    let domain = format!("(?:{subdomain}*{domain_name}(?:{gtld}|{cctld}|{punycode}))");
    let path_char =
        format!(r"[a-z{CYRILLIC}0-9!*';:=+,.$/%\#\[\]\-\x{{2013}}_\~\&|@{LATIN_ACCENTS}]");
    let parens = format!(r"(?:\((?:{path_char}+|(?:{path_char}*\({path_char}+\){path_char}*))\))");
    let path_end = format!(r"(?:[+\-a-z{CYRILLIC}0-9=_\#/{LATIN_ACCENTS}]|{parens})");
    let path =
        format!(r"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))");
    let query_char = r"[a-z0-9!?*'@();:\&=+$/%\#\[\]\-_.,\~|]";
    let query_end = r"[a-z0-9\-_\&=\#/]";
    let preceding = format!(r"(?:[^A-Za-z0-9@＠$\#＃{INVALID}]|[{DIRECTIONAL}]|^)");
    let extract = format!(
        r"(?i)({preceding})((https?://)?({domain})(?::([0-9]+))?(/{path}*)?(\?{query_char}*{query_end})?)"
    );
    let ascii_domain =
        format!(r"(?i)(?:(?:[\-a-z0-9{LATIN_ACCENTS}]+)\.)+(?:{gtld}|{cctld}|{punycode})");
    let invalid_short_domain = format!(r"(?i)^{domain_name}{cctld}$");
    let special_short_domain = format!(r"(?i)^{domain_name}(?:(?:co|tv)(?=[^0-9a-zA-Z@]|$))$");
    let tco = format!(r"(?i)^https?://t\.co/([a-z0-9]+)(?:\?{query_char}*{query_end})?");
    let build = |pattern: &str| {
        // The patterns are fixed at compile time; a unit test compiles them.
        Regex::new(pattern).expect("static twitter-text URL pattern")
    };
    Patterns {
        extract: build(&extract),
        ascii_domain: build(&ascii_domain),
        invalid_short_domain: build(&invalid_short_domain),
        special_short_domain: build(&special_short_domain),
        tco: build(&tco),
    }
});

/// Number of UTF-16 code units in `s` (the unit twitter-text measures in).
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// twitter-text's `idna.toAscii` check: every label, punycode-encoded when
/// not ASCII, must be 1–63 characters long.
fn domain_labels_valid(domain: &str) -> bool {
    if domain.starts_with("xn--") && !matches!(PATTERNS.ascii_domain.is_match(domain), Ok(true)) {
        return false;
    }
    domain.split('.').all(|label| {
        let encoded_len = if label.is_ascii() {
            label.len()
        } else {
            match idna::punycode::encode_str(label) {
                Some(encoded) => "xn--".len() + encoded.len(),
                None => return false,
            }
        };
        (1..=MAX_LABEL_LENGTH).contains(&encoded_len)
    })
}

/// Byte ranges of the URLs X would shorten in `text`, in order.
///
/// `text` should already be NFC-normalised (see
/// [`weighted_length`](super::twitter::weighted_length)).
pub fn extract_urls(text: &str) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    if !text.contains('.') {
        return urls;
    }
    let patterns = &*PATTERNS;
    let mut pos = 0;
    while pos < text.len() {
        // An engine error means the backtracking limit was hit on
        // pathological input: stop looking (the rest counts per character).
        let Ok(Some(caps)) = patterns.extract.captures_from_pos(text, pos) else {
            break;
        };
        let (Some(whole), Some(url), Some(domain)) = (caps.get(0), caps.get(2), caps.get(4)) else {
            break;
        };
        pos = whole.end().max(pos + 1);
        let before = caps.get(1).map_or("", |m| m.as_str());
        let protocol = caps.get(3).map(|m| m.as_str());
        let has_path = caps.get(6).is_some();

        if !domain_labels_valid(domain.as_str())
            || utf16_len(protocol.unwrap_or("https://")) + utf16_len(url.as_str()) > MAX_URL_LENGTH
        {
            continue;
        }

        if protocol.is_some() {
            let mut end = url.end();
            if let Ok(Some(tco)) = patterns.tco.captures(url.as_str()) {
                let slug_len = tco.get(1).map_or(0, |m| m.as_str().len());
                if slug_len > MAX_TCO_SLUG_LENGTH {
                    continue;
                }
                if let Some(m) = tco.get(0) {
                    end = url.start() + m.end();
                }
            }
            urls.push(url.start()..end);
            continue;
        }

        // Scheme-less: only the ASCII domains in it, never after `-_./`.
        if before.ends_with(['-', '_', '.', '/']) {
            continue;
        }
        let mut last: Option<usize> = None;
        for ascii in patterns.ascii_domain.find_iter(domain.as_str()) {
            let Ok(ascii) = ascii else { break };
            let start = domain.start() + ascii.start();
            let end = domain.start() + ascii.end();
            let keep = has_path
                || matches!(
                    patterns.special_short_domain.is_match(ascii.as_str()),
                    Ok(true)
                )
                || !matches!(
                    patterns.invalid_short_domain.is_match(ascii.as_str()),
                    Ok(true)
                );
            if keep {
                urls.push(start..end);
                last = Some(urls.len() - 1);
            }
        }
        if has_path {
            if let Some(last) = last.and_then(|i| urls.get_mut(i)) {
                last.end = url.end();
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        extract_urls(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn patterns_compile() {
        let _ = &PATTERNS.extract;
    }

    #[test]
    fn finds_urls_with_and_without_scheme() {
        assert_eq!(found("Hi http://test.co"), ["http://test.co"]);
        assert_eq!(found("see example.gov.sa now"), ["example.gov.sa"]);
        assert_eq!(
            found("see www.example.com/path?q=1."),
            ["www.example.com/path?q=1"]
        );
        assert_eq!(
            found("https://example.com/a_(b)"),
            ["https://example.com/a_(b)"]
        );
        assert_eq!(
            found("زوروا https://www.oman.om/ar اليوم"),
            ["https://www.oman.om/ar"]
        );
    }

    #[test]
    fn rejects_what_twitter_text_rejects() {
        // Bare two-letter ccTLD without a path.
        assert!(found("example.sa").is_empty());
        assert_eq!(found("example.sa/x"), ["example.sa/x"]);
        assert_eq!(found("t.co"), ["t.co"]);
        // Preceded by `@` or `#`, or a scheme-less URL after `/`.
        assert!(found("@example.com").is_empty());
        assert!(found("#example.com").is_empty());
        // Unknown TLD.
        assert!(found("http://example.notatld").is_empty());
        // A 64-character label.
        assert!(found(&format!("{}.com", "a".repeat(64))).is_empty());
    }

    #[test]
    fn tco_stops_after_slug() {
        assert_eq!(found("http://t.co/abc123/extra"), ["http://t.co/abc123"]);
    }
}
