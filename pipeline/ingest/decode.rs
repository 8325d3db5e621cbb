//! The text encoding of a CSV export — UTF-8 (with or without BOM) or
//! windows-1251 — decided from the file's own bytes as its records are read,
//! and its separator (`,` or `;`) from the header. Never asks the user, never
//! guesses silently: KOI8-R and UTF-16 are errors naming the file, and a byte
//! that does not fit the decided encoding costs its row (`bad_encoding`).
//!
//! Separators, quotes and line ends are ASCII in both encodings, so records
//! are split on the raw bytes and only contract fields are decoded, one by one:
//! no stream-wide decoder guesses for the whole file.

use std::io::{self, Read};

use encoding_rs::{KOI8_R, WINDOWS_1251};
use sha2::{Digest, Sha256};

/// How much of a file is looked at for its separator and size estimate.
pub const SNIFF_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Windows1251,
}

impl TextEncoding {
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8 (BOM)",
            TextEncoding::Windows1251 => "windows-1251",
        }
    }
}

/// What the first bytes of a file say: UTF-8 for a UTF-8 byte-order mark, an
/// error for a UTF-16 one, nothing otherwise. A byte-order mark counts only
/// here: anywhere else those bytes are stray bytes of a record.
pub fn byte_order_mark(start: &[u8]) -> Result<Option<TextEncoding>, String> {
    if start.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Some(TextEncoding::Utf8Bom));
    }
    if start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") {
        return Err("it is UTF-16: it starts with a UTF-16 byte-order mark".into());
    }
    Ok(None)
}

/// Why a header line holding a NUL byte is refused: column names are ASCII,
/// so NUL bytes between them mean UTF-16/32 or no text at all.
pub const NUL_IN_HEADER: &str = "its header line holds NUL bytes, so it is binary or UTF-16/32 text";

/// Valid multi-byte UTF-8 characters that make UTF-8 final (when they are at
/// least as many as the invalid sequences): windows-1251 text almost never
/// forms one, and never several in a row of its letters.
const UTF8_EVIDENCE: usize = 4;
/// Invalid sequences, read as windows-1251 words, that make a file
/// windows-1251 before its end: enough letters to tell it from KOI8-R.
const SINGLE_BYTE_EVIDENCE: usize = 128;
/// Letters in windows-1251 words, fewest, for Cyrillic text rather than
/// stray bytes (two words of two letters, such as `5-СП` and `ДА`).
const WORD_LETTERS: usize = 4;
/// Invalid bytes kept for the KOI8-R check.
const SAMPLE_CAP: usize = 64 * 1024;

/// What the non-ASCII bytes of a file read so far say about its encoding.
/// One stray byte cannot outvote it: UTF-8 needs valid multi-byte
/// characters, windows-1251 needs Cyrillic words among the bytes that are not
/// UTF-8.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Valid multi-byte UTF-8 characters.
    valid: usize,
    /// Invalid UTF-8 sequences, and the bytes in them.
    invalid: usize,
    invalid_bytes: usize,
    /// Invalid bytes that are windows-1251 letters next to another one.
    word_letters: usize,
    run: usize,
    /// The invalid bytes, runs apart separated by a space (for the vowel test).
    sample: Vec<u8>,
}

impl Evidence {
    /// Counts the non-ASCII bytes of one field (a field, not a record: a
    /// character split by a separator is no character).
    pub fn add(&mut self, field: &[u8]) {
        if field.is_ascii() {
            return;
        }
        for chunk in field.utf8_chunks() {
            let valid = chunk.valid().as_bytes();
            if !valid.is_empty() {
                // Lead bytes: one per multi-byte character.
                self.valid += valid.iter().filter(|&&b| b >= 0xC0).count();
                self.end_run();
            }
            let invalid = chunk.invalid();
            if !invalid.is_empty() {
                self.invalid += 1;
                self.invalid_bytes += invalid.len();
                for &b in invalid {
                    if is_1251_letter(b) {
                        self.run += 1;
                        self.word_letters += match self.run {
                            1 => 0,
                            2 => 2,
                            _ => 1,
                        };
                    } else {
                        self.run = 0;
                    }
                }
                if self.sample.len() + invalid.len() < SAMPLE_CAP {
                    self.sample.extend_from_slice(invalid);
                }
            }
        }
        self.end_run();
    }

    fn end_run(&mut self) {
        self.run = 0;
        if self.sample.last().is_some_and(|&b| b != b' ') {
            self.sample.push(b' ');
        }
    }

    /// The encoding, once the evidence settles it; with `finished` (the end
    /// of the file, or as much held back as memory allows) always, from what
    /// there is: a file with no Cyrillic words among its invalid bytes is
    /// UTF-8 with stray bytes.
    pub fn decide(&self, finished: bool) -> Option<Result<TextEncoding, String>> {
        let (valid, invalid) = (self.valid, self.invalid);
        if valid >= UTF8_EVIDENCE && valid >= invalid {
            return Some(Ok(TextEncoding::Utf8));
        }
        let cyrillic = self.word_letters >= WORD_LETTERS && self.word_letters * 2 >= self.invalid_bytes;
        if invalid >= SINGLE_BYTE_EVIDENCE && valid * 10 < invalid && cyrillic {
            return Some(self.single_byte());
        }
        if !finished {
            return None;
        }
        Some(if cyrillic && invalid > valid { self.single_byte() } else { Ok(TextEncoding::Utf8) })
    }

    /// windows-1251, unless the bytes read as Russian in KOI8-R instead.
    /// Russian text has about 42 % vowels among its letters; KOI8-R bytes read
    /// as windows-1251 do not (and vice versa). Only when the windows-1251
    /// reading looks wrong and the KOI8-R one looks right is the file refused —
    /// uppercase-only fields such as `3-СП` or `ДА` stay fine. Only invalid
    /// bytes count, so the UTF-8 half of a mixed file cannot tip it.
    fn single_byte(&self) -> Result<TextEncoding, String> {
        let as_1251 = vowel_share(&WINDOWS_1251.decode_without_bom_handling(&self.sample).0);
        let as_koi8 = vowel_share(&KOI8_R.decode_without_bom_handling(&self.sample).0);
        if let (Some(cp), Some(koi)) = (as_1251, as_koi8)
            && !(0.28..=0.6).contains(&cp)
            && (0.3..=0.55).contains(&koi)
        {
            return Err("it looks like KOI8-R".into());
        }
        Ok(TextEncoding::Windows1251)
    }
}

/// А–я, Ё and ё in windows-1251.
fn is_1251_letter(b: u8) -> bool {
    b >= 0xC0 || b == 0xA8 || b == 0xB8
}

/// The share of vowels among Cyrillic letters, when there are enough letters
/// to judge.
fn vowel_share(text: &str) -> Option<f64> {
    const VOWELS: &str = "аеёиоуыэюяАЕЁИОУЫЭЮЯ";
    let (mut letters, mut vowels) = (0usize, 0usize);
    for c in text.chars().filter(|c| ('\u{0410}'..='\u{044F}').contains(c) || *c == 'ё' || *c == 'Ё') {
        letters += 1;
        vowels += usize::from(VOWELS.contains(c));
    }
    (letters >= 50).then(|| vowels as f64 / letters as f64)
}

/// Appends a field of a windows-1251 file to `out` as UTF-8; `false` (and
/// nothing appended) when its bytes are not windows-1251 text: NUL, 0x98
/// (undefined), or valid multi-byte UTF-8 — a UTF-8 row in a windows-1251
/// file, which must not load as mojibake.
pub fn windows_1251_to_utf8(field: &[u8], out: &mut Vec<u8>) -> bool {
    if field.contains(&0) || field.contains(&0x98) {
        return false;
    }
    if field.is_ascii() {
        out.extend_from_slice(field);
        return true;
    }
    if std::str::from_utf8(field).is_ok() {
        return false;
    }
    let mut decoder = WINDOWS_1251.new_decoder_without_bom_handling();
    let most = decoder.max_utf8_buffer_length_without_replacement(field.len()).expect("a field fits in memory");
    let start = out.len();
    out.resize(start + most, 0);
    let (result, _, written) = decoder.decode_to_utf8_without_replacement(field, &mut out[start..], true);
    debug_assert_eq!(result, encoding_rs::DecoderResult::InputEmpty);
    out.truncate(start + written);
    true
}

/// `;` or `,`, whichever the header line holds more of (outside quotes).
pub fn detect_separator(start: &[u8]) -> u8 {
    let line = start.split(|&b| b == b'\n' || b == b'\r').next().unwrap_or(b"");
    let mut in_quotes = false;
    let (mut semicolons, mut commas) = (0usize, 0usize);
    for &b in line {
        match b {
            b'"' => in_quotes = !in_quotes,
            b';' if !in_quotes => semicolons += 1,
            b',' if !in_quotes => commas += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// Records in a file of `file_size` bytes, from the line length in its sample
/// (quoted newlines make it an overestimate, which is harmless).
pub fn estimate_records(sample: &[u8], file_size: u64) -> Option<usize> {
    let lines = sample.iter().filter(|&&b| b == b'\n').count();
    // A record needs a few bytes at least; never trust the ratio beyond that.
    let most = usize::try_from(file_size / 8).unwrap_or(usize::MAX);
    (lines > 1).then(|| ((file_size as f64 * lines as f64 / sample.len() as f64) as usize).min(most))
}

/// The encoding the reading thread of a CSV file settled on (UTF-8 for a
/// file that is ASCII to its end).
#[derive(Clone, Default)]
pub struct Decided(std::sync::Arc<std::sync::OnceLock<TextEncoding>>);

impl Decided {
    pub fn set(&self, encoding: TextEncoding) {
        let _ = self.0.set(encoding);
    }

    pub fn get(&self) -> TextEncoding {
        self.0.get().copied().unwrap_or(TextEncoding::Utf8)
    }
}

/// The size and sha256 of a source file, known once its reader hit the end.
#[derive(Clone, Default)]
pub struct Digests(std::sync::Arc<std::sync::Mutex<(u64, String)>>);

impl Digests {
    pub fn get(&self) -> (u64, String) {
        self.0.lock().expect("digest lock").clone()
    }
}

/// Counts and hashes the raw bytes read through it, for the manifest; the file
/// is read once, for parsing and checksum together.
pub struct HashedRead<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    out: Digests,
}

impl<R: Read> HashedRead<R> {
    pub fn new(inner: R) -> (Self, Digests) {
        let out = Digests::default();
        (HashedRead { inner, hasher: Sha256::new(), bytes: 0, out: out.clone() }, out)
    }
}

impl<R: Read> Read for HashedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if n == 0 && !buf.is_empty() {
            let digest = hex::encode(self.hasher.clone().finalize());
            *self.out.0.lock().expect("digest lock") = (self.bytes, digest);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decision once every field of `text` is counted, and before the
    /// end when the evidence settles it.
    fn decide(fields: &[&[u8]]) -> (Option<Result<TextEncoding, String>>, Result<TextEncoding, String>) {
        let mut evidence = Evidence::default();
        for field in fields {
            evidence.add(field);
        }
        (evidence.decide(false), evidence.decide(true).expect("decided at the end"))
    }

    fn cp1251(text: &str) -> Vec<u8> {
        WINDOWS_1251.encode(text).0.into_owned()
    }

    const NAME: &str = "Краснодарская краевая организация Профсоюза";

    #[test]
    fn encodings_are_told_apart() {
        assert_eq!(decide(&[NAME.as_bytes()]), (Some(Ok(TextEncoding::Utf8)), Ok(TextEncoding::Utf8)));
        assert_eq!(decide(&[&cp1251(NAME)]).1, Ok(TextEncoding::Windows1251));
        // Enough windows-1251 text decides before the end.
        let long = cp1251(&NAME.repeat(4));
        assert_eq!(decide(&[&long]).0, Some(Ok(TextEncoding::Windows1251)));
        let text = "Краснодарская краевая организация Профсоюза Первичная профсоюзная организация школы";
        let koi = KOI8_R.encode(text).0.into_owned();
        assert_eq!(decide(&[&koi]).1, Err("it looks like KOI8-R".to_string()));
        // Upper-case-only Cyrillic in windows-1251 is not mistaken for KOI8-R.
        for fields in [["3-СП", "ДА", "НЕТ"], ["5-СП", "2-СП", "P1"]] {
            let bytes: Vec<Vec<u8>> = fields.repeat(100).iter().map(|f| cp1251(f)).collect();
            let fields: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
            assert_eq!(decide(&fields).1, Ok(TextEncoding::Windows1251), "{bytes:?}");
        }
        // Two short words are Cyrillic text too.
        assert_eq!(decide(&[&cp1251("5-сп"), &cp1251("2-СП")]).1, Ok(TextEncoding::Windows1251));
    }

    #[test]
    fn stray_bytes_do_not_outvote_the_text() {
        // One stray byte, then UTF-8: UTF-8, as soon as it is clear.
        let (early, end) = decide(&[b"o\xFFk", "Школа".as_bytes()]);
        assert_eq!((early, end), (Some(Ok(TextEncoding::Utf8)), Ok(TextEncoding::Utf8)));
        // Stray bytes alone, or a byte-order mark far down, are not Cyrillic
        // words: UTF-8 with stray bytes, and only at the end.
        for fields in [&[b"\xFF".as_slice()][..], &[b"\xFF\xFEx"], &[b"a\xE9b", b"\x80\x81\x82\x83\x84\x85"]] {
            assert_eq!(decide(fields), (None, Ok(TextEncoding::Utf8)), "{fields:?}");
        }
        // windows-1251 with a few valid UTF-8 characters is still windows-1251,
        // and the UTF-8 bytes do not make it look like KOI8-R.
        let mixed = [cp1251(&NAME.repeat(3)), "Школа".as_bytes().to_vec()];
        assert_eq!(decide(&[&mixed[0], &mixed[1]]).1, Ok(TextEncoding::Windows1251));
        // A character split between two fields is two invalid sequences.
        let (_, end) = decide(&[b"M\xD0", b"\x96P"]);
        assert_eq!(end, Ok(TextEncoding::Utf8));
    }

    #[test]
    fn byte_order_marks_only_at_the_start() {
        assert_eq!(byte_order_mark(b"\xEF\xBB\xBForg_id"), Ok(Some(TextEncoding::Utf8Bom)));
        assert!(byte_order_mark(b"\xFF\xFEo\0r\0").unwrap_err().contains("UTF-16"));
        assert!(byte_order_mark(b"\xFE\xFF\0o\0r").is_err());
        assert_eq!(byte_order_mark(b"org_id\xFF\xFE"), Ok(None));
    }

    #[test]
    fn windows_1251_fields_decode_or_say_no() {
        let mut out = Vec::new();
        assert!(windows_1251_to_utf8(&cp1251("ППО «Школа» № 1"), &mut out));
        assert_eq!(String::from_utf8(out).unwrap(), "ППО «Школа» № 1");
        for bad in [b"a\x98b".as_slice(), b"a\0b", "Школа".as_bytes()] {
            let mut out = b"x".to_vec();
            assert!(!windows_1251_to_utf8(bad, &mut out), "{bad:?}");
            assert_eq!(out, b"x");
        }
    }

    #[test]
    fn separator_from_header() {
        assert_eq!(detect_separator(b"org_id;name;level\n1,2,3"), b';');
        assert_eq!(detect_separator(b"org_id,name,level"), b',');
        assert_eq!(detect_separator(b"\"a;b\",c,d"), b',');
        assert_eq!(detect_separator(b"only"), b',');
    }
}
