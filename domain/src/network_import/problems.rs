//! What can be wrong with an import file, each problem named by file, sheet, row and column and
//! worded in both languages (the caller picks one).

use super::columns::{Column, Sheet};

/// Where a problem is: the file, its sheet, the row as the spreadsheet numbers it (the header is
/// row 1) and the column. A whole-file problem has no sheet; a whole-sheet one no row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub file: String,
    pub sheet: Option<Sheet>,
    pub row: Option<usize>,
    pub column: Option<Column>,
}

/// One problem. Nothing is written while there is any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not a CSV or XLSX file we can read (the reader's words).
    Unreadable(String),
    /// A CSV file that is not UTF-8 (Excel's "CSV" in a Chinese locale is GBK).
    NotUtf8,
    /// A CSV whose header row names no sheet of the template.
    UnknownHeader,
    /// A workbook sheet whose name is not one of the template's.
    UnknownSheet(String),
    /// A sheet given twice (two CSVs of agents, say).
    SheetTwice,
    /// A header the sheet does not have.
    UnknownColumn(String),
    ColumnTwice,
    MissingColumn,
    /// No agents sheet, or one without rows.
    NoAgents,
    Required,
    TooLong(usize),
    BadPhone,
    BadIdNumber,
    UnknownTier {
        given: String,
        known: Vec<String>,
    },
    BadRegion(String),
    BadDate(String),
    InFuture,
    BeforeJoined,
    BadStatus(String),
    /// The phone is on an earlier row of this file.
    DuplicatePhone {
        first_row: usize,
    },
    /// The phone already signs in here (an agent or any other account).
    PhoneTaken,
    /// A join application with this phone is pending.
    PhonePending,
    ReferrerMissing(String),
    SelfReferrer,
    /// The referrers on these rows refer to each other in a ring.
    ReferrerCycle(Vec<usize>),
    BadAmount(String),
    TooManyDecimals(String),
    NotPositive,
    BadWallet(String),
    ReleaseRequired,
    ReleaseNotAllowed,
    AvailableTwice {
        first_row: usize,
    },
    /// The phone is not an agent of this file.
    UnknownAgent(String),
    UnknownSku(String),
    BadQuantity(String),
    DuplicateOrderNo {
        first_row: usize,
    },
    BadKind(String),
    LevelRequired,
    AmountRequired,
}

impl Problem {
    /// A stable machine-readable code (for the API and tests).
    pub fn code(&self) -> &'static str {
        use ProblemKind::*;
        match &self.kind {
            Unreadable(_) => "unreadable",
            NotUtf8 => "not_utf8",
            UnknownHeader => "unknown_header",
            UnknownSheet(_) => "unknown_sheet",
            SheetTwice => "sheet_twice",
            UnknownColumn(_) => "unknown_column",
            ColumnTwice => "column_twice",
            MissingColumn => "missing_column",
            NoAgents => "no_agents",
            Required => "required",
            TooLong(_) => "too_long",
            BadPhone => "bad_phone",
            BadIdNumber => "bad_id_number",
            UnknownTier { .. } => "unknown_tier",
            BadRegion(_) => "bad_region",
            BadDate(_) => "bad_date",
            InFuture => "in_future",
            BeforeJoined => "before_joined",
            BadStatus(_) => "bad_status",
            DuplicatePhone { .. } => "duplicate_phone",
            PhoneTaken => "phone_taken",
            PhonePending => "phone_pending",
            ReferrerMissing(_) => "referrer_missing",
            SelfReferrer => "self_referrer",
            ReferrerCycle(_) => "referrer_cycle",
            BadAmount(_) => "bad_amount",
            TooManyDecimals(_) => "too_many_decimals",
            NotPositive => "not_positive",
            BadWallet(_) => "bad_wallet",
            ReleaseRequired => "release_required",
            ReleaseNotAllowed => "release_not_allowed",
            AvailableTwice { .. } => "available_twice",
            UnknownAgent(_) => "unknown_agent",
            UnknownSku(_) => "unknown_sku",
            BadQuantity(_) => "bad_quantity",
            DuplicateOrderNo { .. } => "duplicate_order_no",
            BadKind(_) => "bad_kind",
            LevelRequired => "level_required",
            AmountRequired => "amount_required",
        }
    }

    /// Where, in Chinese: `agents.xlsx 代理 第 12 行 推荐人手机号`.
    pub fn place_zh(&self) -> String {
        let p = &self.place;
        let mut s = p.file.clone();
        if let Some(sheet) = p.sheet {
            s.push_str(&format!(" · {}", sheet.name_zh()));
        }
        if let Some(row) = p.row {
            s.push_str(&format!(" · 第 {row} 行"));
        }
        if let Some(col) = p.column {
            s.push_str(&format!(" · {}", col.header_zh()));
        }
        s
    }

    /// Where, in English: `agents.xlsx, Agents, row 12, Referrer phone`.
    pub fn place_en(&self) -> String {
        let p = &self.place;
        let mut s = p.file.clone();
        if let Some(sheet) = p.sheet {
            s.push_str(&format!(", {}", sheet.name_en()));
        }
        if let Some(row) = p.row {
            s.push_str(&format!(", row {row}"));
        }
        if let Some(col) = p.column {
            s.push_str(&format!(", {}", col.header_en()));
        }
        s
    }

    pub fn message_zh(&self) -> String {
        use ProblemKind::*;
        match &self.kind {
            Unreadable(why) => format!("无法读取该文件(需要 CSV 或 XLSX):{why}"),
            NotUtf8 => "CSV 文件不是 UTF-8 编码:请在 Excel 中另存为“CSV UTF-8”".into(),
            UnknownHeader => "表头与模板的任何一张表都不符:请使用下载的模板".into(),
            UnknownSheet(name) => format!("工作表“{name}”不是模板中的表"),
            SheetTwice => "这张表出现了两次".into(),
            UnknownColumn(h) => format!("模板中没有“{h}”这一列"),
            ColumnTwice => "这一列出现了两次".into(),
            MissingColumn => "缺少必填列".into(),
            NoAgents => "没有代理数据:代理表至少需要一行".into(),
            Required => "必填".into(),
            TooLong(max) => format!("最多 {max} 个字符,且不能含控制字符"),
            BadPhone => "手机号应为 6 到 20 位数字(可带前导 +)".into(),
            BadIdNumber => "身份证号应为 6 到 32 位字母或数字".into(),
            UnknownTier { given, known } => {
                format!("等级“{given}”不在当前等级政策中;可用:{}", known.join("、"))
            }
            BadRegion(code) => format!("“{code}”不是 GB/T 2260 行政区划代码"),
            BadDate(v) => format!("“{v}”不是日期(请写作 2026-03-01)"),
            InFuture => "日期不能晚于今天".into(),
            BeforeJoined => "日期早于该代理的加入日期".into(),
            BadStatus(v) => format!("状态“{v}”无效:填写 正常 或 暂停"),
            DuplicatePhone { first_row } => format!("手机号重复:与第 {first_row} 行相同"),
            PhoneTaken => "该手机号在系统中已有账号".into(),
            PhonePending => "该手机号有待审核的入驻申请".into(),
            ReferrerMissing(phone) => {
                format!("推荐人 {phone} 既不在本文件中,也不是系统中的代理")
            }
            SelfReferrer => "推荐人不能是自己".into(),
            ReferrerCycle(rows) => format!(
                "推荐关系成环:第 {} 行互相推荐",
                rows.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            BadAmount(v) => format!("“{v}”不是金额"),
            TooManyDecimals(v) => format!("金额“{v}”超过两位小数"),
            NotPositive => "必须大于 0".into(),
            BadWallet(v) => format!("钱包“{v}”无效:填写 可提现 或 冻结"),
            ReleaseRequired => "冻结金额需要解冻日期".into(),
            ReleaseNotAllowed => "可提现金额不需要解冻日期".into(),
            AvailableTwice { first_row } => {
                format!("该代理的可提现余额已在第 {first_row} 行给出")
            }
            UnknownAgent(phone) => format!("{phone} 不是本文件代理表中的代理"),
            UnknownSku(sku) => format!("商品编码“{sku}”在系统中不存在"),
            BadQuantity(v) => format!("数量“{v}”应为正整数"),
            DuplicateOrderNo { first_row } => format!("原单号重复:与第 {first_row} 行相同"),
            BadKind(v) => {
                format!("类型“{v}”无效:填写 绑定客户、充值 或 等级付费")
            }
            LevelRequired => "等级付费需要填写等级".into(),
            AmountRequired => "充值和等级付费需要填写金额".into(),
        }
    }

    pub fn message_en(&self) -> String {
        use ProblemKind::*;
        match &self.kind {
            Unreadable(why) => format!("cannot read this file (CSV or XLSX expected): {why}"),
            NotUtf8 => "the CSV file is not UTF-8: save it from Excel as \"CSV UTF-8\"".into(),
            UnknownHeader => {
                "the header row matches no sheet of the template: use the downloaded template"
                    .into()
            }
            UnknownSheet(name) => format!("sheet \"{name}\" is not a sheet of the template"),
            SheetTwice => "this sheet is given twice".into(),
            UnknownColumn(h) => format!("the template has no column \"{h}\""),
            ColumnTwice => "this column is given twice".into(),
            MissingColumn => "this required column is missing".into(),
            NoAgents => "no agents: the agents sheet needs at least one row".into(),
            Required => "is required".into(),
            TooLong(max) => format!("at most {max} characters, no control characters"),
            BadPhone => "a phone is 6 to 20 digits (an optional leading +)".into(),
            BadIdNumber => "an ID number is 6 to 32 letters or digits".into(),
            UnknownTier { given, known } => format!(
                "tier \"{given}\" is not in the active tier policy; use one of {}",
                known.join(", ")
            ),
            BadRegion(code) => format!("\"{code}\" is not a GB/T 2260 region code"),
            BadDate(v) => format!("\"{v}\" is not a date (write 2026-03-01)"),
            InFuture => "the date is after today".into(),
            BeforeJoined => "the date is before the agent joined".into(),
            BadStatus(v) => format!("status \"{v}\" is not valid: use active or suspended"),
            DuplicatePhone { first_row } => {
                format!("duplicate phone: the same as row {first_row}")
            }
            PhoneTaken => "this phone already has an account here".into(),
            PhonePending => "a join application with this phone is pending".into(),
            ReferrerMissing(phone) => {
                format!("referrer {phone} is neither in this file nor an agent here")
            }
            SelfReferrer => "an agent cannot refer itself".into(),
            ReferrerCycle(rows) => format!(
                "referrer cycle: rows {} refer to each other",
                rows.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            BadAmount(v) => format!("\"{v}\" is not an amount"),
            TooManyDecimals(v) => format!("amount \"{v}\" has more than two decimals"),
            NotPositive => "must be more than 0".into(),
            BadWallet(v) => format!("wallet \"{v}\" is not valid: use available or frozen"),
            ReleaseRequired => "a frozen amount needs its release date".into(),
            ReleaseNotAllowed => "an available amount has no release date".into(),
            AvailableTwice { first_row } => {
                format!("this agent's available balance is already on row {first_row}")
            }
            UnknownAgent(phone) => format!("{phone} is not an agent of this file's agents sheet"),
            UnknownSku(sku) => format!("no product has SKU \"{sku}\""),
            BadQuantity(v) => format!("quantity \"{v}\" must be a whole number above 0"),
            DuplicateOrderNo { first_row } => {
                format!("duplicate order number: the same as row {first_row}")
            }
            BadKind(v) => {
                format!("kind \"{v}\" is not valid: use customer_bound, recharge or level_payment")
            }
            LevelRequired => "a level payment names its level".into(),
            AmountRequired => "a recharge or level payment needs its amount".into(),
        }
    }

    /// `place: message` in the language asked for (`zh` first, anything else English).
    pub fn render(&self, zh: bool) -> String {
        if zh {
            format!("{}:{}", self.place_zh(), self.message_zh())
        } else {
            format!("{}: {}", self.place_en(), self.message_en())
        }
    }
}
