//! What every page shares: HTML escaping, links, the page shell (header, navigation,
//! stylesheet) and small formatters for times, numbers and stages.
//!
//! Every string that did not come from this module's own literals goes through [`Esc`]
//! (text and attribute values) or [`Seg`] (a path segment inside an `href`).

use std::fmt::{self, Display, Write as _};

use bascule_core::{Millis, Stage};

/// Text escaped for HTML element content and quoted attribute values.
#[derive(Debug, Clone, Copy)]
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// A URL path segment, percent-encoded (RFC 3986 unreserved characters pass through), so
/// the result is also safe inside a quoted HTML attribute.
#[derive(Debug, Clone, Copy)]
pub struct Seg<'a>(pub &'a str);

impl Display for Seg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                f.write_char(char::from(byte))?;
            } else {
                write!(f, "%{byte:02X}")?;
            }
        }
        Ok(())
    }
}

/// `/ui/models/{name}`.
pub fn model_href(name: &str) -> String {
    format!("/ui/models/{}", Seg(name))
}

/// `/ui/models/{name}/versions/{version}`.
pub fn version_href(name: &str, version: i64) -> String {
    format!("/ui/models/{}/versions/{version}", Seg(name))
}

/// `/ui/models/{name}/monitoring`.
pub fn monitoring_href(name: &str) -> String {
    format!("/ui/models/{}/monitoring", Seg(name))
}

/// `/ui/models/{name}/windows/{id}`.
pub fn window_href(name: &str, id: i64) -> String {
    format!("/ui/models/{}/windows/{id}", Seg(name))
}

/// Which part of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Models,
    Feedback,
    Experiments,
    None,
}

/// The frame around a page's body.
#[derive(Debug)]
pub struct Shell<'a> {
    pub title: &'a str,
    pub section: Section,
    /// `(label, href)` from the top down to this page's parent.
    pub crumbs: Vec<(String, String)>,
    /// Reload the page every so many seconds (the monitoring page).
    pub refresh_seconds: Option<u32>,
}

impl<'a> Shell<'a> {
    pub fn new(title: &'a str, section: Section) -> Self {
        Shell {
            title,
            section,
            crumbs: Vec::new(),
            refresh_seconds: None,
        }
    }

    pub fn crumb(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.crumbs.push((label.into(), href.into()));
        self
    }

    pub fn refresh(mut self, seconds: u32) -> Self {
        self.refresh_seconds = Some(seconds);
        self
    }

    /// The whole document around `body` (already HTML).
    pub fn render(&self, body: &str) -> String {
        let mut page = String::with_capacity(body.len() + STYLE.len() + 1024);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        );
        if let Some(seconds) = self.refresh_seconds {
            let _ = writeln!(page, "<meta http-equiv=\"refresh\" content=\"{seconds}\">");
        }
        let _ = write!(
            page,
            "<title>{} · Bascule</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header class=\"top\"><a class=\"brand\" href=\"/ui\">Bascule</a><nav>",
            Esc(self.title)
        );
        for (label, href, section) in [
            ("Models", "/ui", Section::Models),
            ("Feedback", "/ui/feedback", Section::Feedback),
            ("Experiments", "/ui/experiments", Section::Experiments),
        ] {
            let current = if section == self.section {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(page, "<a href=\"{href}\"{current}>{label}</a>");
        }
        page.push_str("</nav></header>\n<main>\n");
        if !self.crumbs.is_empty() {
            page.push_str("<nav class=\"crumbs\" aria-label=\"breadcrumb\">");
            for (label, href) in &self.crumbs {
                let _ = write!(
                    page,
                    "<a href=\"{}\">{}</a> <span aria-hidden=\"true\">›</span> ",
                    Esc(href),
                    Esc(label)
                );
            }
            page.push_str("</nav>\n");
        }
        let _ = writeln!(page, "<h1>{}</h1>", Esc(self.title));
        page.push_str(body);
        page.push_str("</main>\n<footer>Bascule — server-rendered; every chart has a table or sentence beside it.</footer>\n</body>\n</html>\n");
        page
    }
}

/// A box saying there is nothing here yet, and what to do about it.
pub fn empty_state(out: &mut String, what: &str, next: &str) {
    let _ = writeln!(
        out,
        "<div class=\"empty\"><p><strong>{}</strong></p><p>{next}</p></div>",
        Esc(what)
    );
}

/// A stage as a coloured badge.
pub fn stage_badge(stage: Stage) -> String {
    format!(
        "<span class=\"stage stage-{}\">{}</span>",
        stage.as_str().to_ascii_lowercase(),
        stage.as_str()
    )
}

/// A time, in UTC, inside `<time>`.
pub fn time(millis: Millis) -> String {
    let text = bascule_core::format_utc(millis);
    format!(
        "<time datetime=\"{}\">{text}</time>",
        text.replace(' ', "T")
    )
}

/// A number for a table: four significant decimals, scientific when tiny or huge.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value != 0.0 && (value.abs() < 1e-3 || value.abs() >= 1e6) {
        format!("{value:.3e}")
    } else if value.fract() == 0.0 && value.abs() < 1e6 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

/// [`number`], or a dash.
pub fn maybe(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), number)
}

/// A percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

const STYLE: &str = "\
:root{--ink:#1d2430;--muted:#5b6575;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;\
--ok:#1b7f3b;--bad:#b3261e;--warn:#a15c00}\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:var(--ink);background:var(--bg)}\
header.top{display:flex;gap:2rem;align-items:center;padding:.6rem 2rem;background:#17202e;color:#fff}\
header.top a{color:#dfe6f2;text-decoration:none}header.top a.brand{font-weight:700;font-size:1.1rem;color:#fff;letter-spacing:.02em}\
header.top nav{display:flex;gap:1.2rem}header.top nav a[aria-current]{color:#fff;border-bottom:2px solid #7fb0ff}\
main{max-width:1320px;margin:0 auto;padding:1rem 2rem 3rem}\
h1{font-size:1.6rem;margin:.4rem 0 1rem}h2{font-size:1.2rem;margin:1.8rem 0 .6rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}\
a{color:var(--accent)}.crumbs{font-size:.9rem;color:var(--muted)}.crumbs a{color:var(--muted)}\
table{border-collapse:collapse;background:var(--card);margin:.4rem 0 1rem;font-size:.92rem}\
th,td{border:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#eef1f6;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
tbody tr:nth-child(even){background:#fafbfc}\
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem}.grid>div{min-width:0}\
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:.6rem 0 1rem}\
.kpi{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:9rem}\
.kpi b{display:block;font-size:1.25rem}.kpi span{color:var(--muted);font-size:.85rem}\
.muted{color:var(--muted)}.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn);font-weight:600}\
.stage{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.82rem;font-weight:600;border:1px solid transparent}\
.stage-prototype{background:#eceff3;color:#3c4656}.stage-validated{background:#e3eefc;color:#174ea6}\
.stage-rejected{background:#fde7e6;color:#a1231b}.stage-improved{background:#fff1d6;color:#7a4b00;border-color:#e8b04a}\
.stage-deployed{background:#e0f4e6;color:#17672f}.stage-monitored{background:#dff3f4;color:#0b5f66}\
.stage-retired{background:#f0eef5;color:#5b4f73}\
.tracker td.step{text-align:center;min-width:8.5rem}.tracker td.reached{background:#eaf6ee}\
.tracker td.reached.improved{background:#fff4dc}.tracker td.pending{color:#a0a8b5}\
.empty{background:var(--card);border:1px dashed #b8c0cc;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0;color:var(--muted)}\
.empty strong{color:var(--ink)}\
svg{background:var(--card);border:1px solid var(--line);border-radius:6px;max-width:100%;height:auto}\
svg text{font:11px system-ui,'DejaVu Sans',sans-serif;fill:#3c4656}\
details{margin:.2rem 0 .8rem}summary{cursor:pointer;color:var(--muted)}\
time{white-space:nowrap}code{font-size:.88em;background:#eef1f6;padding:0 .25rem;border-radius:3px}\
footer{max-width:1320px;margin:0 auto;padding:1rem 2rem;color:var(--muted);font-size:.8rem}\
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            Esc("<script>alert('x') & \"y\"</script>").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(Esc("plain dew point").to_string(), "plain dew point");
        assert_eq!(Seg("a b/<c>é").to_string(), "a%20b%2F%3Cc%3E%C3%A9");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(0.87654321), "0.8765");
        assert_eq!(number(0.00001234), "1.234e-5");
        assert_eq!(maybe(None), "–");
        assert_eq!(percent(0.375), "37.5%");
    }
}
