//! Sweep results on disk: typed rows, the CSV journal that survives a kill,
//! and the finished Parquet or CSV files made from it.
//!
//! The journal is the durable record. Rows are appended in run order, one
//! whole chunk of runs at a time, so after any kill it is a contiguous prefix
//! of the runs plus at most one torn line. Finished files are only ever made
//! by streaming a complete, sorted journal (or several, for `merge`) through
//! one writer, which is why a resumed, sharded or merged sweep ends with the
//! same bytes as an uninterrupted one.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use std::fmt::Write as _;

use crate::output::{csv_field, CsvField, FloatCell, Num};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColType {
    U32,
    U64,
    I64,
    /// An integer that may be missing (null in Parquet, empty in CSV): the
    /// months of an order that did not happen.
    #[serde(rename = "opt_i64")]
    OptI64,
    F64,
    Bool,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColType,
}

pub type Schema = Vec<Column>;

/// One cell. Missing floats are NaN and missing integers (of an
/// [`ColType::OptI64`] column) `Null`: both written empty in CSV, null in
/// Parquet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    U(u64),
    I(i64),
    F(f64),
    B(bool),
    T(String),
    Null,
}

impl Cell {
    pub fn as_u64(&self) -> u64 {
        match self {
            Cell::U(x) => *x,
            Cell::I(x) => *x as u64,
            _ => 0,
        }
    }
    pub fn as_f64(&self) -> f64 {
        match self {
            Cell::F(x) => *x,
            Cell::U(x) => *x as f64,
            Cell::I(x) => *x as f64,
            _ => f64::NAN,
        }
    }
    fn write_csv(&self, out: &mut String, whole_floats: bool) {
        match self {
            Cell::U(x) => _ = write!(out, "{x}"),
            Cell::I(x) => _ = write!(out, "{x}"),
            Cell::F(x) if whole_floats => _ = write!(out, "{}", FloatCell(*x)),
            Cell::F(x) => _ = write!(out, "{}", Num(*x)),
            Cell::B(x) => out.push_str(if *x { "true" } else { "false" }),
            Cell::T(s) => _ = write!(out, "{}", CsvField(s)),
            Cell::Null => {}
        }
    }
    fn parse(ty: ColType, text: &str) -> Result<Cell> {
        Ok(match ty {
            ColType::U32 | ColType::U64 => Cell::U(text.parse()?),
            ColType::I64 => Cell::I(text.parse()?),
            ColType::OptI64 if text.is_empty() => Cell::Null,
            ColType::OptI64 => Cell::I(text.parse()?),
            ColType::F64 if text.is_empty() => Cell::F(f64::NAN),
            ColType::F64 => Cell::F(text.parse()?),
            ColType::Bool => Cell::B(text.parse()?),
            ColType::Text => Cell::T(text.to_string()),
        })
    }
}

pub fn header(schema: &Schema) -> String {
    let names: Vec<String> = schema.iter().map(|c| csv_field(&c.name)).collect();
    format!("{}\n", names.join(","))
}

/// A row as one CSV line (with its newline), floats as `dibsim run` writes
/// them: the journals and the per-month and per-order tables, which equal
/// a lone run's files field for field.
pub fn encode(row: &[Cell], out: &mut String) {
    encode_with(row, out, false);
}

/// A row of runs.csv or points.csv: a whole float keeps its ".0"
/// ([`FloatCell`]), so that an axis of 0, 1 and then 0.5 reads as floats.
pub fn encode_summary(row: &[Cell], out: &mut String) {
    encode_with(row, out, true);
}

fn encode_with(row: &[Cell], out: &mut String, whole_floats: bool) {
    for (i, c) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        c.write_csv(out, whole_floats);
    }
    out.push('\n');
}

/// An append-only journal of CSV rows.
pub struct Journal {
    file: BufWriter<File>,
    pub path: PathBuf,
}

impl Journal {
    /// Opens `path` for appending after `keep` bytes (a resume), or creates
    /// it with a header.
    pub fn open(path: &Path, schema: &Schema, keep: Option<u64>) -> Result<Journal> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match keep {
            Some(len) => {
                f.set_len(len)?;
                f.seek(SeekFrom::End(0))?;
            }
            None => {
                f.set_len(0)?;
                f.write_all(header(schema).as_bytes())?;
            }
        }
        Ok(Journal {
            file: BufWriter::with_capacity(1 << 16, f),
            path: path.to_path_buf(),
        })
    }

    pub fn append(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Hands the rows to the OS: they survive the process being killed.
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Also asks the disk to keep them (a power cut).
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        self.file.get_ref().sync_data().ok();
        Ok(())
    }
}

/// What a journal on disk holds: its complete rows' byte length and the run
/// index after its last complete row. A torn last line is not counted.
pub struct JournalState {
    pub bytes: u64,
    pub rows: u64,
    pub last_run: Option<u64>,
}

/// Scans a journal, checking its header, for resuming. `stop_run`: stop
/// before the first row whose run is at or beyond it (the timeseries journal
/// is cut back to the runs journal).
pub fn scan_journal(path: &Path, schema: &Schema, stop_run: Option<u64>) -> Result<JournalState> {
    let f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    let n = r.read_line(&mut line)?;
    if line != header(schema) {
        if n == 0 || !line.ends_with('\n') {
            return Ok(JournalState {
                bytes: 0,
                rows: 0,
                last_run: None,
            });
        }
        bail!(
            "{} has other columns than this sweep writes; it belongs to a different sweep",
            path.display()
        );
    }
    let mut state = JournalState {
        bytes: n as u64,
        rows: 0,
        last_run: None,
    };
    loop {
        line.clear();
        let n = r.read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        let run: u64 = line
            .split(',')
            .next()
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("{}: a row without a run index", path.display()))?;
        if stop_run.is_some_and(|s| run >= s) {
            break;
        }
        state.bytes += n as u64;
        state.rows += 1;
        state.last_run = Some(run);
    }
    Ok(state)
}

/// Streams the rows of a CSV file written by [`encode`].
pub fn read_csv(
    path: &Path,
    schema: &Schema,
    mut f: impl FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_csv_from(file, path, schema, &mut f)
}

fn read_csv_from(
    file: impl Read,
    path: &Path,
    schema: &Schema,
    f: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let names: Vec<String> = rdr
        .headers()
        .with_context(|| format!("cannot read {}", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    if names.iter().ne(schema.iter().map(|c| &c.name)) {
        bail!("{}: its columns differ from the manifest's", path.display());
    }
    for (i, rec) in rdr.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            // A torn last line of a journal: the rest is unusable anyway.
            Err(e) if e.is_io_error() => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()))
            }
            Err(e) => bail!("{}: row {}: {e}", path.display(), i + 1),
        };
        let row = rec
            .iter()
            .zip(schema)
            .map(|(t, c)| {
                Cell::parse(c.ty, t).with_context(|| {
                    format!(
                        "{}: row {}, column {}: `{t}`",
                        path.display(),
                        i + 1,
                        c.name
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        f(row)?;
    }
    Ok(())
}

/// Reads only the complete lines of a journal (a killed process may have
/// left a torn one).
pub fn read_journal(
    path: &Path,
    schema: &Schema,
    f: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let state = scan_journal(path, schema, None)?;
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_csv_from(file.take(state.bytes), path, schema, f)
}

fn arrow_schema(schema: &Schema) -> Arc<ArrowSchema> {
    Arc::new(ArrowSchema::new(
        schema
            .iter()
            .map(|c| {
                let (ty, nullable) = match c.ty {
                    ColType::U32 => (DataType::UInt32, false),
                    ColType::U64 => (DataType::UInt64, false),
                    ColType::I64 => (DataType::Int64, false),
                    ColType::OptI64 => (DataType::Int64, true),
                    ColType::F64 => (DataType::Float64, true),
                    ColType::Bool => (DataType::Boolean, false),
                    ColType::Text => (DataType::Utf8, false),
                };
                Field::new(&c.name, ty, nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

/// Where finished rows go: a Parquet file or a CSV file, written under a
/// temporary name and renamed by [`Sink::finish`].
#[allow(clippy::large_enum_variant)] // one per output file
pub enum Sink {
    Parquet {
        writer: ArrowWriter<File>,
        schema: Schema,
        arrow: Arc<ArrowSchema>,
        rows: Vec<Vec<Cell>>,
        tmp: PathBuf,
        path: PathBuf,
    },
    Csv {
        file: BufWriter<File>,
        buf: String,
        tmp: PathBuf,
        path: PathBuf,
        /// Rows by [`encode_summary`] rather than [`encode`].
        summary: bool,
    },
}

const BATCH_ROWS: usize = 8192;

pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

impl Sink {
    /// A sink for runs.csv (or runs.parquet): as [`Sink::create`], with
    /// CSV rows by [`encode_summary`].
    pub fn create_summary(path: &Path, schema: &Schema) -> Result<Sink> {
        let mut sink = Sink::create(path, schema)?;
        if let Sink::Csv { summary, .. } = &mut sink {
            *summary = true;
        }
        Ok(sink)
    }

    pub fn create(path: &Path, schema: &Schema) -> Result<Sink> {
        let tmp = tmp_path(path);
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let parquet = path.extension().is_some_and(|e| e == "parquet");
        if parquet {
            let arrow = arrow_schema(schema);
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(BATCH_ROWS * 16))
                .set_created_by(format!("dibsim {}", env!("CARGO_PKG_VERSION")))
                .build();
            let writer = ArrowWriter::try_new(file, arrow.clone(), Some(props))
                .with_context(|| format!("cannot start {}", tmp.display()))?;
            Ok(Sink::Parquet {
                writer,
                schema: schema.clone(),
                arrow,
                rows: Vec::with_capacity(BATCH_ROWS),
                tmp,
                path: path.to_path_buf(),
            })
        } else {
            let mut file = BufWriter::with_capacity(1 << 16, file);
            file.write_all(header(schema).as_bytes())?;
            Ok(Sink::Csv {
                file,
                buf: String::new(),
                tmp,
                path: path.to_path_buf(),
                summary: false,
            })
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) -> Result<()> {
        match self {
            Sink::Parquet { rows, .. } => {
                rows.push(row);
                if rows.len() >= BATCH_ROWS {
                    self.flush_batch()?;
                }
            }
            Sink::Csv {
                file,
                buf,
                tmp,
                summary,
                ..
            } => {
                buf.clear();
                encode_with(&row, buf, *summary);
                file.write_all(buf.as_bytes())
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
            }
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        let Sink::Parquet {
            writer,
            schema,
            arrow,
            rows,
            tmp,
            ..
        } = self
        else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = schema
            .iter()
            .enumerate()
            .map(|(i, c)| -> ArrayRef {
                match c.ty {
                    ColType::U32 => {
                        let mut b = UInt32Builder::with_capacity(rows.len());
                        rows.iter()
                            .for_each(|r| b.append_value(r[i].as_u64() as u32));
                        Arc::new(b.finish())
                    }
                    ColType::U64 => {
                        let mut b = UInt64Builder::with_capacity(rows.len());
                        rows.iter().for_each(|r| b.append_value(r[i].as_u64()));
                        Arc::new(b.finish())
                    }
                    ColType::I64 => {
                        let mut b = Int64Builder::with_capacity(rows.len());
                        rows.iter().for_each(|r| {
                            b.append_value(match r[i] {
                                Cell::I(x) => x,
                                ref o => o.as_u64() as i64,
                            })
                        });
                        Arc::new(b.finish())
                    }
                    ColType::OptI64 => {
                        let mut b = Int64Builder::with_capacity(rows.len());
                        rows.iter().for_each(|r| {
                            b.append_option(match r[i] {
                                Cell::I(x) => Some(x),
                                Cell::U(x) => Some(x as i64),
                                _ => None,
                            })
                        });
                        Arc::new(b.finish())
                    }
                    ColType::F64 => {
                        let mut b = Float64Builder::with_capacity(rows.len());
                        rows.iter().for_each(|r| {
                            let x = r[i].as_f64();
                            b.append_option((!x.is_nan()).then_some(x))
                        });
                        Arc::new(b.finish())
                    }
                    ColType::Bool => {
                        let mut b = BooleanBuilder::with_capacity(rows.len());
                        rows.iter()
                            .for_each(|r| b.append_value(matches!(r[i], Cell::B(true))));
                        Arc::new(b.finish())
                    }
                    ColType::Text => {
                        let mut b = StringBuilder::new();
                        rows.iter().for_each(|r| match &r[i] {
                            Cell::T(s) => b.append_value(s),
                            _ => b.append_value(""),
                        });
                        Arc::new(b.finish())
                    }
                }
            })
            .collect();
        let batch = RecordBatch::try_new(arrow.clone(), cols)?;
        writer
            .write(&batch)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        rows.clear();
        Ok(())
    }

    /// Completes the file and moves it to its final name.
    pub fn finish(mut self) -> Result<()> {
        self.flush_batch()?;
        let (tmp, path) = match self {
            Sink::Parquet {
                writer, tmp, path, ..
            } => {
                let file = writer
                    .into_inner()
                    .with_context(|| format!("cannot finish {}", tmp.display()))?;
                file.sync_all().ok();
                (tmp, path)
            }
            Sink::Csv {
                file, tmp, path, ..
            } => {
                let file = file
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
                file.sync_all().ok();
                (tmp, path)
            }
        };
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
    }
}

/// Streams the rows of a finished Parquet file.
pub fn read_parquet(
    path: &Path,
    schema: &Schema,
    f: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?
        .with_batch_size(BATCH_ROWS)
        .build()?;
    let names: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if names.iter().ne(schema.iter().map(|c| &c.name)) {
        bail!("{}: its columns differ from the manifest's", path.display());
    }
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, UInt32Type, UInt64Type};
    for batch in reader {
        let batch = batch.with_context(|| format!("cannot read {}", path.display()))?;
        for r in 0..batch.num_rows() {
            let row = schema
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let a = batch.column(i);
                    match c.ty {
                        ColType::U32 => Cell::U(a.as_primitive::<UInt32Type>().value(r) as u64),
                        ColType::U64 => Cell::U(a.as_primitive::<UInt64Type>().value(r)),
                        ColType::I64 => Cell::I(a.as_primitive::<Int64Type>().value(r)),
                        ColType::OptI64 if a.is_null(r) => Cell::Null,
                        ColType::OptI64 => Cell::I(a.as_primitive::<Int64Type>().value(r)),
                        ColType::F64 => Cell::F(if a.is_null(r) {
                            f64::NAN
                        } else {
                            a.as_primitive::<Float64Type>().value(r)
                        }),
                        ColType::Bool => Cell::B(a.as_boolean().value(r)),
                        ColType::Text => Cell::T(a.as_string::<i32>().value(r).to_string()),
                    }
                })
                .collect();
            f(row)?;
        }
    }
    Ok(())
}

/// Reads a finished runs, timeseries or orders file, by its extension.
pub fn read_file(
    path: &Path,
    schema: &Schema,
    f: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    if path.extension().is_some_and(|e| e == "parquet") {
        read_parquet(path, schema, f)
    } else {
        read_csv(path, schema, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        [
            ("run", ColType::U64),
            ("p", ColType::U32),
            ("x", ColType::F64),
            ("ok", ColType::Bool),
            ("msg", ColType::Text),
            ("k", ColType::I64),
            ("m", ColType::OptI64),
        ]
        .iter()
        .map(|(n, t)| Column {
            name: n.to_string(),
            ty: *t,
        })
        .collect()
    }

    fn rows() -> Vec<Vec<Cell>> {
        (0..20u64)
            .map(|i| {
                vec![
                    Cell::U(i),
                    Cell::U(i / 3),
                    Cell::F(if i == 4 { f64::NAN } else { 0.1 * i as f64 }),
                    Cell::B(i % 2 == 0),
                    Cell::T(if i == 5 {
                        "a, \"quoted\" text".into()
                    } else {
                        String::new()
                    }),
                    Cell::I(-(i as i64)),
                    if i % 3 == 1 {
                        Cell::Null
                    } else {
                        Cell::I(i as i64 - 7)
                    },
                ]
            })
            .collect()
    }

    fn same(a: &[Vec<Cell>], b: &[Vec<Cell>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.iter().zip(y).all(|(p, q)| match (p, q) {
                    (Cell::F(u), Cell::F(v)) => {
                        u.to_bits() == v.to_bits() || (u.is_nan() && v.is_nan())
                    }
                    _ => p == q,
                })
            })
    }

    #[test]
    fn parquet_and_csv_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["r.parquet", "r.csv"] {
            let path = dir.path().join(name);
            let mut s = Sink::create(&path, &schema()).unwrap();
            for r in rows() {
                s.push(r).unwrap();
            }
            s.finish().unwrap();
            assert!(!tmp_path(&path).exists());
            let mut back = Vec::new();
            read_file(&path, &schema(), &mut |r| {
                back.push(r);
                Ok(())
            })
            .unwrap();
            assert!(same(&back, &rows()), "{name}");
        }
    }

    #[test]
    fn a_torn_journal_keeps_its_complete_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.csv");
        let mut j = Journal::open(&path, &schema(), None).unwrap();
        let mut text = String::new();
        for r in rows().iter().take(7) {
            encode(r, &mut text);
        }
        j.append(&text).unwrap();
        j.append("7,2,0.7,fal").unwrap();
        j.flush().unwrap();
        drop(j);
        let st = scan_journal(&path, &schema(), None).unwrap();
        assert_eq!(st.rows, 7);
        assert_eq!(st.last_run, Some(6));
        let cut = scan_journal(&path, &schema(), Some(3)).unwrap();
        assert_eq!(cut.rows, 3);
        let mut back = Vec::new();
        read_journal(&path, &schema(), &mut |r| {
            back.push(r);
            Ok(())
        })
        .unwrap();
        assert!(same(&back, &rows()[..7]));
    }
}
