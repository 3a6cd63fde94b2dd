//! The templates HQ downloads: an XLSX workbook with the four sheets (headers and example rows)
//! and a sheet of notes, or one CSV per sheet, in Chinese or English. docs/import.md describes
//! the same columns.

use rust_xlsxwriter::{Format, Workbook};

use crate::domain::network_import::{Column, Sheet};
use crate::error::{Error, Result};

/// Example rows, in the sheet's column order: `(zh, en)` per cell.
fn examples(sheet: Sheet) -> Vec<Vec<(&'static str, &'static str)>> {
    let same = |s: &'static str| (s, s);
    match sheet {
        Sheet::Agents => vec![
            vec![
                same("13800000001"),
                ("张三", "Zhang San"),
                same("330106199001011234"),
                ("市代", "city"),
                same(""),
                same("330100"),
                same("2025-06-01"),
                same("2025-09-01"),
                ("正常", "active"),
                ("总部", "HQ"),
            ],
            vec![
                same("13800000002"),
                ("李四", "Li Si"),
                same("33010619900202123X"),
                ("区代", "district"),
                same("13800000001"),
                same("330106;330108"),
                same("2025-07-01"),
                same(""),
                ("正常", "active"),
                same("13800000001"),
            ],
        ],
        Sheet::Balances => vec![
            vec![
                same("13800000001"),
                ("可提现", "available"),
                same("1200.00"),
                same(""),
            ],
            vec![
                same("13800000001"),
                ("冻结", "frozen"),
                same("300.00"),
                same("2026-12-31"),
            ],
        ],
        Sheet::Orders => vec![vec![
            same("13800000002"),
            same("OLD-000123"),
            same("2025-11-20"),
            same("DEMO-TEA-250"),
            same("20"),
            same("760.00"),
        ]],
        Sheet::Activity => vec![
            vec![
                same("13800000002"),
                same("2025-11-21"),
                ("绑定客户", "customer_bound"),
                same(""),
                same(""),
            ],
            vec![
                same("13800000001"),
                same("2025-10-01"),
                ("等级付费", "level_payment"),
                same("999.00"),
                ("市代", "city"),
            ],
        ],
    }
}

fn header(c: Column, sheet: Sheet, zh: bool) -> String {
    let h = if zh { c.header_zh() } else { c.header_en() };
    if sheet.required().contains(&c) {
        format!("{h}*")
    } else {
        h.to_string()
    }
}

/// One sheet as CSV (UTF-8 with a BOM, so Excel opens the Chinese right).
pub fn csv(sheet: Sheet, zh: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let cols = sheet.columns();
    w.write_record(cols.iter().map(|&c| header(c, sheet, zh)))
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
    for row in examples(sheet) {
        w.write_record(row.iter().map(|(z, e)| if zh { *z } else { *e }))
            .map_err(|e| Error::Internal(format!("template: {e}")))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("template: {e}")))?;
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

/// The workbook: the four sheets and a sheet of notes.
pub fn xlsx(zh: bool) -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("template: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for sheet in Sheet::ALL {
        let ws = book.add_worksheet();
        ws.set_name(if zh { sheet.name_zh() } else { sheet.name_en() })
            .map_err(err)?;
        for (i, &c) in sheet.columns().iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            // Text cells: phones, ID numbers and dates stay as typed (no 1.38E+10, no serials).
            ws.set_column_format(col, &text).map_err(err)?;
            ws.set_column_width(col, 18).map_err(err)?;
            ws.write_string_with_format(0, col, header(c, sheet, zh), &bold)
                .map_err(err)?;
        }
        for (r, row) in examples(sheet).iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (i, (z, e)) in row.iter().enumerate() {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                ws.write_string_with_format(r, col, if zh { *z } else { *e }, &text)
                    .map_err(err)?;
            }
        }
    }
    let notes = book.add_worksheet();
    notes
        .set_name(if zh { "说明" } else { "Notes" })
        .map_err(err)?;
    notes.set_column_width(0, 120).map_err(err)?;
    for (i, line) in notes_text(zh).iter().enumerate() {
        notes
            .write_string(u32::try_from(i).unwrap_or(u32::MAX), 0, *line)
            .map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

fn notes_text(zh: bool) -> Vec<&'static str> {
    if zh {
        vec![
            "带 * 的列必填。示例行请替换为真实数据。",
            "代理:手机号即登录账号;等级填等级政策中的名称或代码;推荐人填手机号(本文件中或系统中已有代理);授权区域填 GB/T 2260 六位代码,多个用分号分隔;日期写作 2026-03-01,不晚于今天;状态:正常 或 暂停;原上级手机号(可选,总部填“总部”)仅用于核对,上级按推荐链自动计算。",
            "期初余额:钱包填 可提现 或 冻结;金额最多两位小数;冻结金额需要解冻日期,到期自动转为可提现。",
            "历史订单:原单号在本文件中唯一;商品编码须已在系统中;付款日期不早于代理加入日期。",
            "历史活动:类型填 绑定客户、充值 或 等级付费;充值和等级付费需要金额;等级付费需要等级。",
            "整个文件要么全部导入,要么一条也不导入;同一文件再次导入不会改变任何数据。",
        ]
    } else {
        vec![
            "Columns marked * are required. Replace the example rows with your data.",
            "Agents: the phone is the sign-in name; tier is a tier name or key of the tier policy; referrer is a phone (in this file or an agent already here); regions are GB/T 2260 six-digit codes separated by semicolons; dates are written 2026-03-01, not after today; status is active or suspended; old supplier phone (optional, HQ for HQ) is only compared: suppliers are derived from the referrer chain.",
            "Opening balances: wallet is available or frozen; at most two decimals; a frozen amount needs its release date, when it becomes available.",
            "Historical orders: order numbers are unique in the file; the SKU must exist here; paid on is not before the agent joined.",
            "Historical activity: kind is customer_bound, recharge or level_payment; recharges and level payments need an amount, level payments a level.",
            "A file is imported whole or not at all; importing the same file again changes nothing.",
        ]
    }
}
