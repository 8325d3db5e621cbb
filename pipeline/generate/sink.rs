//! CSV files of a generated snapshot, in the plain or the office form.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::NaiveDate;
use encoding_rs::WINDOWS_1251;

use super::GenerateError;

/// One CSV file being written, in the plain or the office form.
pub struct Sink {
    out: BufWriter<File>,
    path: String,
    messy: bool,
    row: Vec<u8>,
}

impl Sink {
    pub fn create(dir: &Path, name: &str, header: &[&str], messy: bool) -> Result<Sink, GenerateError> {
        let path = dir.join(format!("{name}.csv"));
        let file = File::create(&path).map_err(|source| GenerateError::Write { path: path.display().to_string(), source })?;
        let mut sink = Sink { out: BufWriter::with_capacity(1 << 20, file), path: path.display().to_string(), messy, row: Vec::new() };
        sink.write(header)?;
        Ok(sink)
    }

    pub fn write<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), GenerateError> {
        self.row.clear();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if self.messy { b';' } else { b',' })
                .from_writer(&mut self.row);
            w.write_record(fields.iter().map(|f| f.as_ref()))
                .and_then(|_| w.flush().map_err(csv::Error::from))
                .map_err(|e| GenerateError::Write { path: self.path.clone(), source: e.into() })?;
        }
        let result = if self.messy {
            let text = std::str::from_utf8(&self.row).expect("csv writes UTF-8");
            let (bytes, _, _) = WINDOWS_1251.encode(text);
            self.out.write_all(&bytes)
        } else {
            self.out.write_all(&self.row)
        };
        result.map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }

    pub fn finish(mut self) -> Result<(), GenerateError> {
        self.out.flush().map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }
}

/// Value spellings of the plain or the office form.
pub struct Form {
    pub messy: bool,
}

impl Form {
    pub fn date(&self, d: NaiveDate) -> String {
        if self.messy { d.format("%d.%m.%Y").to_string() } else { d.format("%Y-%m-%d").to_string() }
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

