//! The template's sheets and columns, with their headers in both languages. A header is
//! recognised in either language (or as its key), whatever the case, so a brand may fill in the
//! Chinese template and another the English one.

/// The four tables of an import. An XLSX workbook holds them as sheets; a CSV file is one of them,
/// told apart by its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sheet {
    Agents,
    Balances,
    Orders,
    Activity,
}

impl Sheet {
    pub const ALL: [Sheet; 4] = [
        Sheet::Agents,
        Sheet::Balances,
        Sheet::Orders,
        Sheet::Activity,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Sheet::Agents => "agents",
            Sheet::Balances => "balances",
            Sheet::Orders => "orders",
            Sheet::Activity => "activity",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Sheet::Agents => "代理",
            Sheet::Balances => "期初余额",
            Sheet::Orders => "历史订单",
            Sheet::Activity => "历史活动",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Sheet::Agents => "Agents",
            Sheet::Balances => "Opening balances",
            Sheet::Orders => "Historical orders",
            Sheet::Activity => "Historical activity",
        }
    }

    /// A sheet's name as a workbook gives it, in either language.
    pub fn by_name(name: &str) -> Option<Sheet> {
        let n = name.trim().to_lowercase();
        Sheet::ALL
            .into_iter()
            .find(|s| n == s.key() || n == s.name_zh() || n == s.name_en().to_lowercase())
    }

    pub fn columns(self) -> &'static [Column] {
        use Column::*;
        match self {
            Sheet::Agents => &[
                Phone,
                Name,
                IdNumber,
                Tier,
                Referrer,
                Regions,
                JoinedOn,
                TierReachedOn,
                Status,
                OldSupplier,
            ],
            Sheet::Balances => &[Phone, Wallet, Amount, ReleaseOn],
            Sheet::Orders => &[Phone, OrderNo, PaidOn, Sku, Quantity, Amount],
            Sheet::Activity => &[Phone, Date, Kind, Amount, Level],
        }
    }

    pub fn required(self) -> &'static [Column] {
        use Column::*;
        match self {
            Sheet::Agents => &[Phone, Name, IdNumber, Tier, Regions, JoinedOn],
            Sheet::Balances => &[Phone, Wallet, Amount],
            Sheet::Orders => &[Phone, OrderNo, PaidOn, Sku, Quantity, Amount],
            Sheet::Activity => &[Phone, Date, Kind],
        }
    }
}

/// One column of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Phone,
    Name,
    IdNumber,
    Tier,
    Referrer,
    Regions,
    JoinedOn,
    TierReachedOn,
    Status,
    OldSupplier,
    Wallet,
    Amount,
    ReleaseOn,
    OrderNo,
    PaidOn,
    Sku,
    Quantity,
    Date,
    Kind,
    Level,
}

impl Column {
    pub fn key(self) -> &'static str {
        use Column::*;
        match self {
            Phone => "phone",
            Name => "name",
            IdNumber => "id_number",
            Tier => "tier",
            Referrer => "referrer_phone",
            Regions => "regions",
            JoinedOn => "joined_on",
            TierReachedOn => "tier_reached_on",
            Status => "status",
            OldSupplier => "old_supplier_phone",
            Wallet => "wallet",
            Amount => "amount",
            ReleaseOn => "release_on",
            OrderNo => "order_no",
            PaidOn => "paid_on",
            Sku => "sku",
            Quantity => "quantity",
            Date => "date",
            Kind => "kind",
            Level => "level",
        }
    }

    pub fn header_zh(self) -> &'static str {
        use Column::*;
        match self {
            Phone => "手机号",
            Name => "姓名",
            IdNumber => "身份证号",
            Tier => "等级",
            Referrer => "推荐人手机号",
            Regions => "授权区域",
            JoinedOn => "加入日期",
            TierReachedOn => "达到等级日期",
            Status => "状态",
            OldSupplier => "原上级手机号",
            Wallet => "钱包",
            Amount => "金额",
            ReleaseOn => "解冻日期",
            OrderNo => "原单号",
            PaidOn => "付款日期",
            Sku => "商品编码",
            Quantity => "数量",
            Date => "日期",
            Kind => "类型",
            Level => "等级",
        }
    }

    pub fn header_en(self) -> &'static str {
        use Column::*;
        match self {
            Phone => "Phone",
            Name => "Name",
            IdNumber => "ID number",
            Tier => "Tier",
            Referrer => "Referrer phone",
            Regions => "Regions",
            JoinedOn => "Joined on",
            TierReachedOn => "Tier reached on",
            Status => "Status",
            OldSupplier => "Old supplier phone",
            Wallet => "Wallet",
            Amount => "Amount",
            ReleaseOn => "Release on",
            OrderNo => "Order no",
            PaidOn => "Paid on",
            Sku => "SKU",
            Quantity => "Quantity",
            Date => "Date",
            Kind => "Kind",
            Level => "Level",
        }
    }

    /// The column of `sheet` a header names, in either language or as its key.
    pub fn by_header(sheet: Sheet, header: &str) -> Option<Column> {
        let h = header
            .trim()
            .trim_start_matches('\u{feff}')
            .trim_end_matches('*');
        let h = h.trim().to_lowercase();
        sheet
            .columns()
            .iter()
            .copied()
            .find(|c| h == c.key() || h == c.header_zh() || h == c.header_en().to_lowercase())
    }
}

/// The sheet whose columns a header row names: the one with all its required columns there and
/// nothing it does not know (a CSV file holds one sheet).
pub fn sheet_of_header(headers: &[String]) -> Option<Sheet> {
    Sheet::ALL.into_iter().find(|&s| {
        let cols: Vec<Option<Column>> = headers
            .iter()
            .filter(|h| !h.trim().is_empty())
            .map(|h| Column::by_header(s, h))
            .collect();
        cols.iter().all(Option::is_some) && s.required().iter().all(|r| cols.contains(&Some(*r)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_in_either_language() {
        assert_eq!(
            Column::by_header(Sheet::Agents, "手机号"),
            Some(Column::Phone)
        );
        assert_eq!(
            Column::by_header(Sheet::Agents, " referrer PHONE "),
            Some(Column::Referrer)
        );
        assert_eq!(
            Column::by_header(Sheet::Agents, "\u{feff}Phone*"),
            Some(Column::Phone)
        );
        assert_eq!(Column::by_header(Sheet::Agents, "Wallet"), None);
        let agents: Vec<String> = Sheet::Agents
            .columns()
            .iter()
            .map(|c| c.header_zh().to_string())
            .collect();
        assert_eq!(sheet_of_header(&agents), Some(Sheet::Agents));
        let balances: Vec<String> = ["phone", "wallet", "amount", "release_on"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(sheet_of_header(&balances), Some(Sheet::Balances));
        assert_eq!(sheet_of_header(&["phone".to_string()]), None);
        assert_eq!(Sheet::by_name("期初余额"), Some(Sheet::Balances));
        assert_eq!(Sheet::by_name("historical ORDERS"), Some(Sheet::Orders));
    }
}
