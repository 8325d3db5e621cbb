//! CSV files of a generated snapshot, in the plain or the office form.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use encoding_rs::WINDOWS_1251;

use super::GenerateError;

/// One CSV file being written, in the plain or the office form.
pub struct Sink {
    csv: csv::Writer<Encoded>,
    path: String,
}

/// The file under the CSV writer: UTF-8 as it comes, or re-encoded to
/// windows-1251 for the office form. The CSV writer hands over its buffer in
/// chunks that may cut a character in two: the cut tail waits for the next.
struct Encoded {
    out: BufWriter<File>,
    cp1251: bool,
    pending: Vec<u8>,
}

impl Write for Encoded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.cp1251 {
            return self.out.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).expect("checked above");
        let (bytes, _, _) = WINDOWS_1251.encode(text);
        self.out.write_all(&bytes)?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Sink {
    pub fn create(dir: &Path, name: &str, header: &[&str], messy: bool) -> Result<Sink, GenerateError> {
        let path = dir.join(format!("{name}.csv"));
        let file =
            File::create(&path).map_err(|source| GenerateError::Write { path: path.display().to_string(), source })?;
        let out = Encoded { out: BufWriter::with_capacity(1 << 20, file), cp1251: messy, pending: Vec::new() };
        let csv = csv::WriterBuilder::new()
            .delimiter(if messy { b';' } else { b',' })
            .buffer_capacity(1 << 16)
            .from_writer(out);
        let mut sink = Sink { csv, path: path.display().to_string() };
        sink.write(header)?;
        Ok(sink)
    }

    pub fn write<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), GenerateError> {
        self.csv
            .write_record(fields.iter().map(|f| f.as_ref()))
            .map_err(|e| GenerateError::Write { path: self.path.clone(), source: e.into() })
    }

    pub fn finish(mut self) -> Result<(), GenerateError> {
        self.csv.flush().map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }
}

/// Value spellings of the plain or the office form.
pub struct Form {
    pub messy: bool,
}

impl Form {
    /// `YYYY-MM-DD`, or `DD.MM.YYYY` in the office form (by hand: chrono's
    /// formatter was a sixth of the generator's time).
    pub fn date(&self, d: NaiveDate) -> String {
        let (y, m, day) = (d.year() as u32, d.month(), d.day());
        let digit = |v: u32| char::from(b'0' + v as u8);
        let mut s = String::with_capacity(10);
        let push2 = |s: &mut String, v: u32| {
            s.push(digit(v / 10));
            s.push(digit(v % 10));
        };
        let push4 = |s: &mut String, v: u32| {
            for p in [1000, 100, 10, 1] {
                s.push(digit(v / p % 10));
            }
        };
        if self.messy {
            push2(&mut s, day);
            s.push('.');
            push2(&mut s, m);
            s.push('.');
            push4(&mut s, y);
        } else {
            push4(&mut s, y);
            s.push('-');
            push2(&mut s, m);
            s.push('-');
            push2(&mut s, day);
        }
        s
    }

    pub fn opt_date(&self, d: Option<NaiveDate>) -> String {
        d.map(|d| self.date(d)).unwrap_or_default()
    }

    pub fn bool(&self, b: bool) -> &'static str {
        match (self.messy, b) {
            (false, true) => "true",
            (false, false) => "false",
            (true, true) => "да",
            (true, false) => "нет",
        }
    }

    pub fn form(&self, n: u8) -> String {
        if self.messy { format!("{n}-СП") } else { format!("{n}-SP") }
    }

    pub fn money(&self, kopecks: u64) -> String {
        let text = format!("{}.{:02}", kopecks / 100, kopecks % 100);
        if self.messy { text.replace('.', ",") } else { text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_forms() {
        let d = NaiveDate::from_ymd_opt(2023, 1, 9).unwrap();
        assert_eq!(Form { messy: false }.date(d), "2023-01-09");
        assert_eq!(Form { messy: true }.date(d), "09.01.2023");
    }
}
