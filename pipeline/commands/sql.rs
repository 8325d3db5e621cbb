//! `reestr sql`: one ad-hoc query, printed as a table, CSV or JSON.

use std::io::{ErrorKind, Write};

use arrow::array::RecordBatch;

use crate::Error;
use crate::cli::{SqlArgs, SqlFormat};
use crate::compute::{ComputeError, query};
use crate::warehouse::Warehouse;

pub async fn run(args: SqlArgs) -> Result<(), Error> {
    // Reads only: no lock, so questions can be asked while a run works.
    let warehouse = Warehouse::open_existing(&args.warehouse)?;
    let batches = query(&warehouse, args.as_of, &args.query).await?;
    let text =
        render(&batches, args.format).map_err(|e| ComputeError::Write { what: "the result".into(), detail: e })?;
    let mut out = std::io::stdout().lock();
    match out.write_all(&text).and_then(|_| out.flush()) {
        // The reader has what it wanted (`reestr sql … | head`): done, quietly.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output(e)),
        Ok(()) => Ok(()),
    }
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
