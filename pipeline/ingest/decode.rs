//! Turns the bytes of a CSV export into UTF-8 text: detects the encoding (UTF-8
//! with or without BOM, or windows-1251) and the separator (`,` or `;`) from the
//! file itself. Never asks the user, never guesses silently: anything else is an
//! error naming the file.

use std::io::{self, Read};

use encoding_rs::{Encoding, UTF_8, WINDOWS_1251};
use encoding_rs_io::DecodeReaderBytesBuilder;
use sha2::{Digest, Sha256};

/// How much of a file is looked at to decide its encoding and separator.
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

    fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => UTF_8,
            TextEncoding::Windows1251 => WINDOWS_1251,
        }
    }
}

/// Decides the encoding from the first bytes of a file. `complete` tells that
/// the sample is the whole file (so a cut multi-byte character is an error).
pub fn detect_encoding(sample: &[u8], complete: bool) -> Result<TextEncoding, String> {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Ok(TextEncoding::Utf8Bom);
    }
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return Err("it is UTF-16".into());
    }
    if sample.contains(&0) {
        return Err("it holds NUL bytes, so it is binary or UTF-16/32 text".into());
    }
    if looks_like_utf8(sample, complete) {
        return Ok(TextEncoding::Utf8);
    }
    // Not UTF-8. Russian text has about 42 % vowels among its letters; KOI8-R
    // bytes read as windows-1251 do not (and vice versa). Only when the
    // windows-1251 reading looks wrong and the KOI8-R one looks right is the
    // file refused — uppercase-only fields such as `3-СП` or `ДА` stay fine.
    let as_1251 = vowel_share(&WINDOWS_1251.decode_without_bom_handling(sample).0);
    let as_koi8 = vowel_share(&encoding_rs::KOI8_R.decode_without_bom_handling(sample).0);
    if let (Some(cp), Some(koi)) = (as_1251, as_koi8)
        && !(0.28..=0.6).contains(&cp)
        && (0.3..=0.55).contains(&koi)
    {
        return Err("it looks like KOI8-R".into());
    }
    let undefined = sample.contains(&0x98);
    if undefined {
        return Err("it holds bytes that are neither UTF-8 nor windows-1251 text".into());
    }
    Ok(TextEncoding::Windows1251)
}

/// UTF-8, allowing a few stray bytes (their rows are rejected one by one):
/// windows-1251 text almost never forms valid multi-byte UTF-8 sequences, so
/// ten valid non-ASCII characters for each invalid byte settle it.
fn looks_like_utf8(sample: &[u8], complete: bool) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        let cut_at_end = chunks.peek().is_none() && !complete;
        if !chunk.invalid().is_empty() && !cut_at_end {
            invalid += 1;
        }
    }
    invalid == 0 || valid >= 10 * invalid
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

/// `;` or `,`, whichever the header line holds more of (outside quotes).
pub fn detect_separator(header_text: &str) -> u8 {
    let line = header_text.split(['\n', '\r']).next().unwrap_or("");
    let mut in_quotes = false;
    let (mut semicolons, mut commas) = (0usize, 0usize);
    for c in line.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => semicolons += 1,
            ',' if !in_quotes => commas += 1,
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

/// Decodes the sample's first line for separator detection.
pub fn decode_sample(sample: &[u8], encoding: TextEncoding) -> String {
    let (text, _, _) = encoding.encoding().decode(sample);
    text.into_owned()
}

/// Decides the encoding of a file from its sample, or leaves it open when
/// the sample is plain ASCII and not the whole file: an export may hold its
/// first Cyrillic letter far down (see [`utf8_reader`]).
pub fn sample_encoding(sample: &[u8], complete: bool) -> Result<Option<TextEncoding>, String> {
    let encoding = detect_encoding(sample, complete)?;
    Ok((complete || !sample.is_ascii()).then_some(encoding))
}

/// The encoding a reader from [`utf8_reader`] settled on (UTF-8 for a file
/// that is ASCII to its end).
#[derive(Clone, Default)]
pub struct Decided(std::sync::Arc<std::sync::OnceLock<TextEncoding>>);

impl Decided {
    pub fn get(&self) -> TextEncoding {
        self.0.get().copied().unwrap_or(TextEncoding::Utf8)
    }
}

/// The encoding could not be decided from the first non-ASCII bytes of a
/// file whose start is ASCII; carried through the CSV reader as an I/O error.
#[derive(Debug)]
pub struct UndecidedEncoding(pub String);

impl std::fmt::Display for UndecidedEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UndecidedEncoding {}

/// A reader yielding UTF-8 for a source in `encoding` (the BOM removed), or,
/// with `None`, for a source that is ASCII so far: its bytes pass through
/// until the first that is not ASCII, and the stretch from there decides.
/// The file is read once, whatever it holds.
pub fn utf8_reader<R: Read + Send + 'static>(
    inner: R,
    encoding: Option<TextEncoding>,
) -> (Box<dyn Read + Send>, Decided) {
    let decided = Decided::default();
    let reader: Box<dyn Read + Send> = match encoding {
        Some(encoding) => {
            let _ = decided.0.set(encoding);
            decoder(inner, encoding)
        }
        None => Box::new(AsciiSoFar { inner: Some(inner), decoded: None, decided: decided.clone() }),
    };
    (reader, decided)
}

fn decoder<R: Read + Send + 'static>(inner: R, encoding: TextEncoding) -> Box<dyn Read + Send> {
    match encoding {
        // Passed through as bytes; the CSV reader checks UTF-8 per record and
        // reports the line of any invalid byte.
        TextEncoding::Utf8 => Box::new(inner),
        TextEncoding::Utf8Bom => Box::new(
            DecodeReaderBytesBuilder::new().bom_sniffing(true).utf8_passthru(true).strip_bom(true).build(inner),
        ),
        TextEncoding::Windows1251 => Box::new(
            DecodeReaderBytesBuilder::new().encoding(Some(encoding.encoding())).bom_sniffing(false).build(inner),
        ),
    }
}

struct AsciiSoFar<R> {
    inner: Option<R>,
    decoded: Option<Box<dyn Read + Send>>,
    decided: Decided,
}

impl<R: Read + Send + 'static> Read for AsciiSoFar<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(decoded) = &mut self.decoded {
            return decoded.read(buf);
        }
        let Some(inner) = &mut self.inner else { return Ok(0) };
        let n = inner.read(buf)?;
        if buf[..n].is_ascii() {
            return Ok(n);
        }
        let first = buf[..n].iter().position(|b| !b.is_ascii()).expect("a non-ASCII byte");
        // The rest of this read and the next stretch of the file decide.
        let mut window = buf[first..n].to_vec();
        let more = inner.take(SNIFF_BYTES as u64).read_to_end(&mut window)?;
        let encoding = detect_encoding(&window, more < SNIFF_BYTES)
            .map_err(|detail| io::Error::new(io::ErrorKind::InvalidData, UndecidedEncoding(detail)))?;
        let _ = self.decided.0.set(encoding);
        let inner = self.inner.take().expect("inner reader");
        // Mid-file there is no BOM to strip.
        let encoding = if encoding == TextEncoding::Utf8Bom { TextEncoding::Utf8 } else { encoding };
        self.decoded = Some(decoder(io::Cursor::new(window).chain(inner), encoding));
        if first > 0 { Ok(first) } else { self.read(buf) }
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

    #[test]
    fn encodings_are_told_apart() {
        let utf8 = "org_id;name\n1;Краснодарская краевая организация\n".as_bytes();
        assert_eq!(detect_encoding(utf8, true), Ok(TextEncoding::Utf8));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(utf8);
        assert_eq!(detect_encoding(&bom, true), Ok(TextEncoding::Utf8Bom));
        let (cp, _, _) = WINDOWS_1251.encode("org_id;name\n1;Краснодарская краевая организация\n");
        assert_eq!(detect_encoding(&cp, true), Ok(TextEncoding::Windows1251));
        let text =
            "org_id;name\n1;Краснодарская краевая организация Профсоюза\n2;Первичная профсоюзная организация школы\n";
        let (koi, _, _) = encoding_rs::KOI8_R.encode(text);
        assert!(detect_encoding(&koi, true).is_err());
        // Upper-case-only Cyrillic in windows-1251 is not mistaken for KOI8-R.
        for line in ["P1;3-СП;2023-10-01;ДА;НЕТ\n", "P1;5-СП;2023-10-01\n"] {
            let text = line.repeat(100);
            let (bytes, _, _) = WINDOWS_1251.encode(&text);
            assert_eq!(detect_encoding(&bytes, true), Ok(TextEncoding::Windows1251), "{line}");
        }
        assert!(detect_encoding(b"\xFF\xFEo\0r\0", true).is_err());
        // A few stray bytes in UTF-8 text do not make it another encoding.
        let mut stray = "Краснодарская краевая организация\n".repeat(3).into_bytes();
        stray.insert(5, 0xFF);
        assert_eq!(detect_encoding(&stray, true), Ok(TextEncoding::Utf8));
        // A character cut by the end of the sample is not a reason to doubt UTF-8.
        let cut = &"ab Ж".as_bytes()[..4];
        assert_eq!(detect_encoding(cut, false), Ok(TextEncoding::Utf8));
    }

    #[test]
    fn separator_from_header() {
        assert_eq!(detect_separator("org_id;name;level\n1,2,3"), b';');
        assert_eq!(detect_separator("org_id,name,level"), b',');
        assert_eq!(detect_separator("\"a;b\",c,d"), b',');
        assert_eq!(detect_separator("only"), b',');
    }
}
