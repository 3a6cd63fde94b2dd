//! The operator's words on the terminal screen, in Chinese and English (config `language`).
//! The plain line output stays in English keys: it is for scripts, not people.

use firmware_config::Language;

/// A word in both languages.
struct Text {
    zh: &'static str,
    en: &'static str,
}

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

fn pick(lang: Language, text: &Text) -> &'static str {
    match lang {
        Language::ZhCn => text.zh,
        Language::En => text.en,
    }
}

/// Fixed labels of the screen.
#[derive(Debug, Clone, Copy)]
pub enum Label {
    Online,
    Offline,
    Mode,
    Context,
    ThisMode,
    Total,
    Accepted,
    Rejected,
    Duplicate,
    Refused,
    Kept,
    Pending,
    Queued,
    Debounced,
    BadCommand,
    ForgedAck,
    JournalRepaired,
    Done,
    NotProvisioning,
    Provisioned,
}

/// The label in `lang`.
pub fn label(lang: Language, label: Label) -> &'static str {
    let text = match label {
        Label::Online => t("在线", "online"),
        Label::Offline => t("离线（扫描照常保存）", "offline (scans are kept)"),
        Label::Mode => t("模式", "mode"),
        Label::Context => t("单据", "for"),
        Label::ThisMode => t("本次", "this mode"),
        Label::Total => t("合计", "total"),
        Label::Accepted => t("接受", "accepted"),
        Label::Rejected => t("拒绝", "rejected"),
        Label::Duplicate => t("重复", "duplicate"),
        Label::Refused => t("本机拒收", "refused here"),
        Label::Kept => t("暂存待查", "kept, call support"),
        Label::Pending => t("待确认", "waiting"),
        Label::Queued => t("已保存", "saved"),
        Label::Debounced => t("重复读取，已忽略", "read twice, counted once"),
        Label::BadCommand => t("无效指令", "bad command"),
        Label::ForgedAck => t("收到伪造的回执，已忽略", "forged answer ignored"),
        Label::JournalRepaired => t("扫描日志已修复", "scan journal repaired"),
        Label::Done => t("完成", "done"),
        Label::NotProvisioning => t(
            "不是可用的设备配置码，请重新扫描",
            "not a usable provisioning code, scan again",
        ),
        Label::Provisioned => t("设备已配置", "device configured"),
    };
    pick(lang, &text)
}

/// A mode's name in `lang`.
pub fn mode(lang: Language, name: &str) -> &'static str {
    let text = match name {
        "ship" => t("发货", "ship"),
        "pack" => t("装箱", "pack"),
        "unpack" => t("拆箱", "unpack"),
        "receive" => t("收货", "receive"),
        "return" => t("退货", "return"),
        "sell" => t("零售", "sell"),
        "inspect" => t("查验", "inspect"),
        _ => t(
            "未选择（请扫描单据或指令）",
            "none (scan an order or a command)",
        ),
    };
    pick(lang, &text)
}

/// A reason code (server rejection, device refusal or command error) in `lang`; unknown codes
/// are shown as they are.
pub fn reason(lang: Language, code: &'static str) -> &'static str {
    let text = match code {
        "unknown_code" => t("非本品牌码", "not one of our codes"),
        "forged_tag" => t("防伪码不符（疑似伪造）", "tag does not match (forgery?)"),
        "not_in_custody" => t("不在本仓库存", "not in this warehouse's custody"),
        "not_on_order" => t("不在此订单上", "not on this order"),
        "quantity_exceeded" => t("超出订单数量", "more than the order asks for"),
        "already_shipped" => t("已发货", "already shipped"),
        "case_opened" => t("箱已拆开", "case was opened"),
        "already_packed" => t("已在另一箱中，请先拆箱", "in another case: unpack it first"),
        "device_not_authorised" => t("设备未授权", "device not authorised"),
        "malformed" => t("格式错误", "malformed"),
        "unknown_version" => t("协议版本不符", "protocol version not supported"),
        "bad_mac" => t("设备密钥不符", "device secret does not match"),
        "duplicate" => t("已处理过", "already processed"),
        "unknown_format" => t("无法识别的码", "unrecognised code"),
        "bad_check_character" => t("校验位错误（误读或输错）", "bad check character (misread?)"),
        "bad_gs1_check_digit" => t("GS1 校验位错误", "bad GS1 check digit"),
        "missing_tag" => t("缺少防伪参数", "anti-counterfeit tag missing"),
        "not_item_or_case" => t(
            "商品码，非单品或箱码",
            "a product code, not an item or case",
        ),
        "no_mode" => t(
            "请先扫描单据或选择模式",
            "scan an order or choose a mode first",
        ),
        "not_a_case" => t("请先扫描箱码", "scan the case first"),
        "journal_full" => t(
            "扫描日志已满，请联网",
            "journal full: connect to the network",
        ),
        "journal_error" => t("扫描日志写入失败", "journal write failed"),
        "unknown_command" => t("未知指令", "unknown command"),
        "missing_argument" => t("指令缺少参数", "command needs an argument"),
        "unexpected_argument" => t("指令参数多余", "unexpected argument"),
        "bad_context" => t("单据号无效", "bad order or case id"),
        other => return other,
    };
    pick(lang, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::RejectReason;

    #[test]
    fn every_server_reason_is_translated() {
        use RejectReason::*;
        for r in [
            UnknownCode,
            ForgedTag,
            NotInCustody,
            NotOnOrder,
            QuantityExceeded,
            AlreadyShipped,
            CaseOpened,
            AlreadyPacked,
            DeviceNotAuthorised,
            Malformed,
            UnknownVersion,
            BadMac,
            Duplicate,
        ] {
            assert_ne!(reason(Language::ZhCn, r.as_str()), r.as_str(), "{r:?}");
            assert_ne!(reason(Language::En, r.as_str()), "", "{r:?}");
        }
    }
}
