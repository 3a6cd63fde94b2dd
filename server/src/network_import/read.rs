//! Reading an import file into tables of text cells: an XLSX workbook (calamine) holds the
//! template's sheets by name; a CSV file (UTF-8, a BOM allowed) is one sheet, known by its header
//! row. Cells become the text a person sees: whole numbers without `.0` (phones typed as
//! numbers), dates as `YYYY-MM-DD`.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::domain::network_import::columns::sheet_of_header;
use crate::domain::network_import::{Place, Problem, ProblemKind, Sheet, Table};

/// One file as uploaded or named on the command line.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The file's name (no folders), for problems to name.
    pub name: String,
    pub bytes: Vec<u8>,
}

fn whole_file(name: &str, kind: ProblemKind) -> Problem {
    Problem {
        place: Place {
            file: name.to_string(),
            sheet: None,
            row: None,
            column: None,
        },
        kind,
    }
}

/// The tables of one file, or why it cannot be read.
pub fn read(upload: &Upload) -> Result<Vec<Table>, Vec<Problem>> {
    // An XLSX file is a ZIP archive, whatever its name says.
    if upload.bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(upload)
    } else {
        read_csv(upload).map(|t| vec![t])
    }
}

fn read_csv(upload: &Upload) -> Result<Table, Vec<Problem>> {
    let name = &upload.name;
    let text = std::str::from_utf8(&upload.bytes)
        .map_err(|_| vec![whole_file(name, ProblemKind::NotUtf8)])?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(|s| s.trim().to_string()).collect(),
        Some(Err(e)) => {
            return Err(vec![whole_file(
                name,
                ProblemKind::Unreadable(e.to_string()),
            )]);
        }
        None => return Err(vec![whole_file(name, ProblemKind::UnknownHeader)]),
    };
    let sheet = sheet_of_header(&headers).ok_or_else(|| {
        vec![Problem {
            place: Place {
                file: name.clone(),
                sheet: None,
                row: Some(1),
                column: None,
            },
            kind: ProblemKind::UnknownHeader,
        }]
    })?;
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let record =
            record.map_err(|e| vec![whole_file(name, ProblemKind::Unreadable(e.to_string()))])?;
        let cells: Vec<String> = record.iter().map(|s| s.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows.push((i + 2, cells));
    }
    Ok(Table {
        file: name.clone(),
        sheet,
        headers,
        rows,
    })
}

fn read_xlsx(upload: &Upload) -> Result<Vec<Table>, Vec<Problem>> {
    let name = &upload.name;
    let mut book = Xlsx::new(Cursor::new(&upload.bytes))
        .map_err(|e| vec![whole_file(name, ProblemKind::Unreadable(e.to_string()))])?;
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for sheet_name in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet_name)
            .map_err(|e| vec![whole_file(name, ProblemKind::Unreadable(e.to_string()))])?;
        if range.is_empty() {
            continue;
        }
        let Some(sheet) = Sheet::by_name(&sheet_name) else {
            // A sheet of notes (说明) is fine; one with a header of the template is a misnamed
            // sheet the brand meant to import.
            let first: Vec<String> = range
                .rows()
                .next()
                .map(|r| r.iter().map(cell_text).collect())
                .unwrap_or_default();
            if sheet_of_header(&first).is_some() {
                problems.push(whole_file(
                    name,
                    ProblemKind::UnknownSheet(sheet_name.clone()),
                ));
            }
            continue;
        };
        // Row numbers as the spreadsheet shows them: the range may start below row 1.
        let first_row = range.start().map_or(0, |(r, _)| r as usize) + 1;
        let mut iter = range.rows();
        let headers: Vec<String> = iter
            .next()
            .map(|r| r.iter().map(cell_text).collect())
            .unwrap_or_default();
        let mut rows = Vec::new();
        for (i, r) in iter.enumerate() {
            let cells: Vec<String> = r.iter().map(cell_text).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            rows.push((first_row + 1 + i, cells));
        }
        tables.push(Table {
            file: name.clone(),
            sheet,
            headers,
            rows,
        });
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

/// A cell as the text a person sees in it.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{f:.0}")
            } else {
                // The shortest text that reads back as this float: what Excel displays.
                format!("{f}")
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| t.date().format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| dt.to_string()),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
