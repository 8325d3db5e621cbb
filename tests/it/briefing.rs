//! The executive briefing: HTML and DOCX from the same text, no sentence about
//! change without a comparison snapshot, and every "number + noun" phrase in
//! the form the number needs.

use std::io::Read;
use std::path::Path;

use reestr::publish::nouns;

use crate::common::*;

async fn briefed(dir: &Path, dates: &[&str]) -> std::path::PathBuf {
    published(dir, dates, |tables| tables.get_mut("official_stats").unwrap().set(0, "members", "1021")).await.join("briefings").join(D)
}

/// The visible text of the briefing page (no-break spaces are blanks).
pub fn briefing_text(html: &str) -> String {
    visible_text(&html[html.find("<body>").unwrap()..])
}

fn expected_form(n: u64) -> usize {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => 0,
        (2..=4, r) if !(12..=14).contains(&r) => 1,
        _ => 2,
    }
}

/// Every number followed by a form of a counted noun has the form its
/// number needs (a phrase may fit several nouns: one of them must agree).
/// Returns how many phrases were checked.
pub fn check_agreement(text: &str) -> usize {
    let nouns = nouns();
    let words: Vec<&str> = text.split(' ').collect();
    let mut checked = 0;
    let mut i = 0;
    while i < words.len() {
        // A number is digits in groups of three after the first ("3 098 599").
        if !words[i].chars().all(|c| c.is_ascii_digit()) || words[i].is_empty() {
            i += 1;
            continue;
        }
        let mut digits = words[i].to_string();
        let mut j = i + 1;
        while j < words.len() && words[j].len() == 3 && words[j].chars().all(|c| c.is_ascii_digit()) {
            digits.push_str(words[j]);
            j += 1;
        }
        let rest = words[j..].join(" ");
        let n: u64 = digits.parse().unwrap();
        let candidates: Vec<_> = nouns
            .iter()
            .filter(|(_, one, few, many)| [one, few, many].iter().any(|f| rest.starts_with(**f)))
            .collect();
        if !candidates.is_empty() {
            checked += 1;
            let agrees = candidates.iter().any(|(_, one, few, many)| {
                let right = [one, few, many][expected_form(n)];
                // The longest form that fits is the one written.
                let written = [one, few, many].into_iter().filter(|f| rest.starts_with(**f)).max_by_key(|f| f.len()).unwrap();
                written == right
            });
            assert!(agrees, "{n} followed by «{}»", &rest.chars().take(40).collect::<String>());
        }
        i = j;
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_is_html_and_docx_with_agreeing_nouns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = briefed(tmp.path(), &[C, D]).await;
    let html = std::fs::read_to_string(dir.join("briefing.html")).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<link"), "nothing from the network");
    let text = briefing_text(&html);
    assert!(text.starts_with("ИНФОРМАЦИЯ о ходе работы"), "{}", &text[..80]);
    assert!(text.contains("по состоянию на 21 ноября 2023 г."));
    assert!(text.contains("По сравнению с 21 ноября 2022 г."), "a change sentence with C");
    assert!(check_agreement(&text) >= 10, "phrases checked");

    // The DOCX holds the same text: unzip it and read the document's runs.
    let file = std::fs::File::open(dir.join("briefing.docx")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    for part in ["[Content_Types].xml", "_rels/.rels", "word/styles.xml", "word/_rels/document.xml.rels"] {
        assert!(zip.by_name(part).is_ok(), "{part}");
    }
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    let runs: Vec<&str> = xml.split("<w:t xml:space=\"preserve\">").skip(1).map(|r| r.split("</w:t>").next().unwrap()).collect();
    let docx_text = runs.join(" ").replace('\u{a0}', " ").replace("&quot;", "\"");
    assert!(docx_text.contains("ИНФОРМАЦИЯ"));
    assert!(docx_text.contains("По сравнению с 21 ноября 2022 г."));
    assert!(docx_text.contains("1 021"), "the official count, grouped");
    assert!(xml.contains("<w:tbl>"), "the appendix tables are Word tables");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_year_before_nothing_is_said_about_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = briefed(tmp.path(), &[D]).await;
    let text = briefing_text(&std::fs::read_to_string(dir.join("briefing.html")).unwrap());
    for phrase in ["По сравнению", "по сравнению", "для сравнения", "годом ранее:", "+0", "увеличилась", "уменьшилась"] {
        assert!(!text.contains(phrase), "«{phrase}» without a comparison snapshot");
    }
    assert!(text.contains("На электронный учёт в АИС поставлено"));
    check_agreement(&text);
}
