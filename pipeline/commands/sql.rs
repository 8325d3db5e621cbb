//! `reestr sql`: one ad-hoc query, printed as a table, CSV or JSON.

use std::io::Write;

use arrow::array::RecordBatch;

use crate::Error;
use crate::cli::{SqlArgs, SqlFormat};
use crate::compute::{ComputeError, query};

pub async fn run(args: SqlArgs) -> Result<(), Error> {
    let batches = query(&args.warehouse, args.as_of, &args.query).await?;
    let text = render(&batches, args.format).map_err(|e| ComputeError::Write { what: "the result".into(), detail: e })?;
    let mut out = std::io::stdout().lock();
    out.write_all(&text).and_then(|_| out.flush()).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(())
}

fn render(batches: &[RecordBatch], format: SqlFormat) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match format {
        SqlFormat::Table => {
            let table = arrow::util::pretty::pretty_format_batches(batches).map_err(|e| e.to_string())?;
            buf.extend(format!("{table}\n").into_bytes());
        }
        SqlFormat::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(&mut buf);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
        }
        SqlFormat::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut buf);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())?;
            if buf.is_empty() {
                buf.extend(b"[]");
            }
            buf.push(b'\n');
        }
    }
    Ok(buf)
}
