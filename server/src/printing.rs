//! The warehouse's label printers and their print queue (issue 20: 配备打印终端实现货单、快递单
//! 自动打印): courier labels (快递面单) of HQ's shipments queued from the order page or the pick
//! list, and a sender on every instance that hands each job to its printer over raw TCP.
//!
//! The rules of a job's states are `chainmark_domain::printing` (why a broken connection is
//! never resent). Here: the use cases, with the same permission check for every page, and the
//! sender — a loop in the server's supervised parts that claims due jobs one by one (a
//! conditional update, so two instances never send one job), sends outside any database write,
//! and records the outcome.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDateTime;
use codegen::card::{Card, Fonts, Paint, Rgb, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::AppState;
use crate::diversion::views::region_name;
use crate::domain::Permission;
use crate::domain::printing::{self as rules, JobKind, JobState, PrintError, Sent};
use crate::error::{Error, Result};
use crate::network::{Actor, refused, shipping};
use crate::store::agent_pages;
use crate::store::network::agents as agent_store;
use crate::store::network::orders as order_store;
use crate::store::printing::{self as store, JobRow, NewJob, PrinterRow};
use crate::store::users::now;
use crate::store::{Db, DbConnection};
use crate::supervise::catch_panic;

/// How often each instance looks for due jobs.
pub const POLL: Duration = Duration::from_secs(2);
/// Jobs looked at per round.
const PER_ROUND: i64 = 20;
/// How long a printer has to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long writing one label may take (a 100 × 150 mm label is about 250 KB of ZPL).
const WRITE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for the printer to close its side after the last byte.
const LINGER: Duration = Duration::from_millis(500);

/// A 100 × 150 mm label at 203 dpi, in dots.
pub const LABEL_WIDTH: u32 = 800;
pub const LABEL_HEIGHT: u32 = 1200;

fn may_print(actor: Actor) -> Result<()> {
    actor.require(Permission::Print, "use the label printers")
}

/// Adds a printer: the warehouse it stands in (whose queue it is), a name people know it by,
/// and its address (`host:port`, or a host for 9100).
pub fn add_printer(
    c: &mut DbConnection,
    actor: Actor,
    warehouse: &str,
    name: &str,
    address: &str,
) -> Result<PrinterRow> {
    may_print(actor)?;
    let warehouse = warehouse.trim();
    if warehouse.is_empty() || warehouse.chars().count() > 40 {
        return Err(Error::refuse(
            "printer_warehouse_bad",
            "warehouse: name the warehouse the printer stands in, in 1 to 40 characters",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(Error::refuse(
            "printer_name_bad",
            "name: name the printer, in 1 to 40 characters",
        ));
    }
    let address = rules::printer_address(address).ok_or_else(|| {
        Error::refuse(
            "printer_address_bad",
            "address: the printer's network address, such as 192.168.1.50 or 192.168.1.50:9100",
        )
    })?;
    if store::printer_named(c, name)?.is_some() {
        return Err(Error::refuse(
            "printer_name_taken",
            format!("a printer is already named {name}"),
        ));
    }
    Ok(store::add_printer(
        c,
        name,
        &address,
        warehouse,
        actor.user(),
        now(),
    )?)
}

/// Switches a printer off (its jobs wait) or on again.
pub fn set_disabled(
    c: &mut DbConnection,
    actor: Actor,
    printer: i64,
    disabled: bool,
) -> Result<()> {
    may_print(actor)?;
    if !store::set_disabled(c, printer, disabled)? {
        return Err(Error::not_found("printer"));
    }
    Ok(())
}

fn enabled_printer(c: &mut DbConnection, id: i64) -> Result<PrinterRow> {
    let p = store::printer(c, id)?.ok_or_else(|| Error::not_found("printer"))?;
    if p.disabled {
        return Err(refused(PrintError::PrinterDisabled));
    }
    Ok(p)
}

/// What a waybill label says (the picture is drawn from it by [`waybill_card`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaybillLabel {
    pub order_id: i64,
    pub carrier: String,
    pub waybill: String,
    pub sender: String,
    pub recipient: String,
    pub recipient_region: String,
    pub goods: Vec<String>,
    pub placed: String,
    /// What the QR opens: the order's page.
    pub order_url: String,
}

/// The label of order `id`'s shipment, for its shipper: refused without a waybill number.
pub fn waybill_label(
    c: &mut DbConnection,
    actor: Actor,
    id: i64,
    sender: &str,
    base_url: &str,
) -> Result<WaybillLabel> {
    may_print(actor)?;
    shipping::may_ship(c, id, actor)?;
    let wb = agent_pages::waybill(c, id)?.ok_or_else(|| {
        Error::refuse(
            "no_waybill",
            format!("order {id} has no waybill number yet: save it first"),
        )
    })?;
    let order = order_store::get(c, id)?;
    let buyer = agent_store::get(c, order.buyer_id)?;
    let summary = crate::network::views::summary_of(c, order.clone())?;
    Ok(WaybillLabel {
        order_id: id,
        carrier: wb.carrier,
        waybill: wb.waybill,
        sender: sender.to_string(),
        recipient: buyer.name,
        recipient_region: region_name(&buyer.region),
        goods: summary
            .lines
            .iter()
            .map(|l| format!("{} × {}", l.product_name, l.quantity))
            .collect(),
        placed: (order.created_at + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string(),
        order_url: format!("{}/agent/orders/{id}", base_url.trim_end_matches('/')),
    })
}

/// The label as a picture, 100 × 150 mm at 203 dpi: the courier and waybill number large, the
/// recipient, the sender, the goods, and a QR of the order.
pub fn waybill_card(l: &WaybillLabel) -> Result<Card> {
    let ink = Rgb::BLACK;
    let rule = || Paint::fill(ink);
    let mut card = Card::new(LABEL_WIDTH, LABEL_HEIGHT, Rgb::WHITE)
        .rect(
            16,
            16,
            LABEL_WIDTH - 32,
            LABEL_HEIGHT - 32,
            Paint::stroke(ink, 4),
        )
        .text(40, 100, 64, Text::new(&l.carrier).bold().max_width(720))
        .text(40, 180, 52, Text::new(&l.waybill).bold().max_width(720))
        .rect(16, 220, LABEL_WIDTH - 32, 4, rule())
        .text(40, 280, 30, Text::new("收件人 To"))
        .text(40, 350, 56, Text::new(&l.recipient).bold().max_width(720))
        .text(40, 410, 36, Text::new(&l.recipient_region).max_width(720))
        .rect(16, 450, LABEL_WIDTH - 32, 4, rule())
        .text(40, 505, 30, Text::new("寄件人 From"))
        .text(40, 560, 40, Text::new(&l.sender).bold().max_width(720))
        .rect(16, 600, LABEL_WIDTH - 32, 4, rule())
        .text(
            40,
            655,
            30,
            Text::new(format!("订单 Order #{} · {}", l.order_id, l.placed)).max_width(720),
        );
    for (i, g) in l.goods.iter().take(4).enumerate() {
        let y = 710 + 48 * u32::try_from(i).unwrap_or(0);
        card = card.text(40, y, 34, Text::new(g).max_width(400));
    }
    if l.goods.len() > 4 {
        card = card.text(40, 902, 30, Text::new(format!("… +{}", l.goods.len() - 4)));
    }
    Ok(card
        .qr(&l.order_url, 460, 820, 300)
        .map_err(|e| Error::BadRequest(format!("order URL: {e}")))?
        .text(610, 1150, 26, Text::new("扫码查看订单").middle()))
}

fn zpl_of(card: &Card, fonts: Option<&Fonts>) -> Result<String> {
    let fonts = fonts.ok_or_else(|| {
        Error::refuse(
            "no_label_font",
            "the server has no CJK font to draw labels with: install fonts-wqy-microhei or set \
             CHAINMARK_FONT",
        )
    })?;
    card.to_zpl(fonts)
        .map_err(|e| Error::Internal(format!("drawing a label: {e}")))
}

/// Queues the waybill label of order `id` on `printer`.
pub fn queue_waybill_label(
    c: &mut DbConnection,
    actor: Actor,
    id: i64,
    printer: i64,
    label: &WaybillLabel,
    fonts: Option<&Fonts>,
) -> Result<i64> {
    may_print(actor)?;
    shipping::may_ship(c, id, actor)?;
    enabled_printer(c, printer)?;
    let document = zpl_of(&waybill_card(label)?, fonts)?;
    let title = format!("#{id} {} {}", label.carrier, label.waybill);
    Ok(store::enqueue(
        c,
        &NewJob {
            printer_id: printer,
            kind: JobKind::WaybillLabel,
            order_id: Some(id),
            title: &title,
            document: &document,
            created_by: actor.user(),
        },
        now(),
    )?)
}

/// Queues a test label on `printer`: its name, address and the time, and a QR.
pub fn queue_test(
    c: &mut DbConnection,
    actor: Actor,
    printer: i64,
    base_url: &str,
    fonts: Option<&Fonts>,
) -> Result<i64> {
    may_print(actor)?;
    let p = enabled_printer(c, printer)?;
    let at = (now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let card = Card::new(LABEL_WIDTH, LABEL_HEIGHT, Rgb::WHITE)
        .rect(
            16,
            16,
            LABEL_WIDTH - 32,
            LABEL_HEIGHT - 32,
            Paint::stroke(Rgb::BLACK, 4),
        )
        .text(400, 160, 64, Text::new("打印测试").bold().middle())
        .text(400, 240, 36, Text::new("Test label").middle())
        .text(
            400,
            330,
            40,
            Text::new(&p.name).bold().middle().max_width(700),
        )
        .text(400, 390, 32, Text::new(&p.address).middle())
        .text(400, 450, 32, Text::new(at).middle())
        .qr(base_url, 250, 560, 300)
        .map_err(|e| Error::BadRequest(format!("base URL: {e}")))?;
    let document = zpl_of(&card, fonts)?;
    let title = format!("{} · {}", p.name, "test");
    Ok(store::enqueue(
        c,
        &NewJob {
            printer_id: printer,
            kind: JobKind::TestLabel,
            order_id: None,
            title: &title,
            document: &document,
            created_by: actor.user(),
        },
        now(),
    )?)
}

/// Takes a queued job off the queue.
pub fn cancel(c: &mut DbConnection, actor: Actor, job: i64) -> Result<()> {
    may_print(actor)?;
    let row = store::job(c, job)?.ok_or_else(|| Error::not_found("print job"))?;
    rules::may_cancel(row.state).map_err(refused)?;
    if !store::cancel(c, job)? {
        // Claimed by a sender between the read and the update.
        return Err(refused(PrintError::NotQueued));
    }
    Ok(())
}

/// Prints a job's document again, as a new job (a person decided: the label is not there).
pub fn reprint(c: &mut DbConnection, actor: Actor, job: i64) -> Result<i64> {
    may_print(actor)?;
    let (row, document) = store::full_job(c, job)?.ok_or_else(|| Error::not_found("print job"))?;
    enabled_printer(c, row.printer_id)?;
    Ok(store::enqueue(
        c,
        &NewJob {
            printer_id: row.printer_id,
            kind: row.kind,
            order_id: row.order_id,
            title: &row.title,
            document: &document,
            created_by: actor.user(),
        },
        now(),
    )?)
}

/// The printers and the jobs of the page, for people allowed to print.
pub fn printers(c: &mut DbConnection, actor: Actor) -> Result<Vec<PrinterRow>> {
    may_print(actor)?;
    Ok(store::printers(c)?)
}

/// What one round of the sender did on this instance.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Jobs found abandoned by a sender that died, now uncertain.
    pub abandoned: usize,
    pub printed: usize,
    /// Jobs whose printer did not answer: waiting again.
    pub waiting: usize,
    pub uncertain: usize,
}

/// Hands `document` to the printer at `address` (raw TCP).
pub async fn send(address: &str, document: &str) -> Sent {
    let stream = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect(address),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Sent::NotConnected(e.to_string()),
        Err(_) => return Sent::NotConnected("no answer within 3 seconds".into()),
    };
    let mut stream = stream;
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(document.as_bytes()).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Sent::Broken(e.to_string()),
        Err(_) => return Sent::Broken("writing took longer than 15 seconds".into()),
    }
    // Raw 9100 printers answer nothing; a moment for a status or the close, then done.
    let mut buf = [0u8; 256];
    let _ = tokio::time::timeout(LINGER, stream.read(&mut buf)).await;
    Sent::Whole
}

/// One round of the sender at `at`: abandoned jobs marked uncertain, then each due job claimed
/// and sent — a printer that did not answer is skipped for the rest of the round.
pub async fn run_once(db: &Db, instance: &str, at: NaiveDateTime) -> Result<Round> {
    // Every instance runs a round every 2 s: read first, so an idle queue costs no write (on
    // SQLite every write queues behind the one writer).
    let stale_before = at - rules::STALE_CLAIM;
    let stale = db
        .run(move |c| Ok(store::any_stale(c, stale_before)?))
        .await?;
    let abandoned = if stale {
        db.write(move |c| {
            Ok(store::abandon_stale(
                c,
                stale_before,
                "the sender stopped while sending: look at the printer",
            )?)
        })
        .await?
    } else {
        0
    };
    let mut round = Round {
        abandoned,
        ..Round::default()
    };
    let due = db.run(move |c| Ok(store::due(c, at, PER_ROUND)?)).await?;
    let mut away: HashSet<i64> = HashSet::new();
    for (job, printer) in due {
        if away.contains(&printer) {
            continue;
        }
        let who = instance.to_owned();
        let claimed = db
            .write(move |c| {
                if !store::claim(c, job, &who, at)? {
                    return Ok(None);
                }
                Ok(Some((store::job(c, job)?, store::document(c, job)?)))
            })
            .await?;
        let Some((Some(row), Some((address, document)))) = claimed else {
            continue;
        };
        let sent = send(&address, &document).await;
        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
        let outcome = rules::after_try(sent, attempts, now());
        match outcome.state {
            JobState::Printed => round.printed += 1,
            JobState::Queued => {
                round.waiting += 1;
                away.insert(printer);
                tracing::info!(printer, %address, error = ?outcome.error, "label printer away; the job waits");
            }
            _ => {
                round.uncertain += 1;
                tracing::warn!(job, printer, %address, error = ?outcome.error, "print job uncertain: look at the printer");
            }
        }
        db.write(move |c| Ok(store::finish(c, job, printer, &outcome, now())?))
            .await?;
    }
    Ok(round)
}

/// Starts the sender on this instance (supervised): a round every [`POLL`]; a round that fails
/// or panics is logged and the next one tries again.
pub fn spawn(state: AppState) {
    let instance = crate::supervise::instance_name();
    let parts = state.parts.clone();
    parts.spawn("print queue", async move {
        let mut tick = tokio::time::interval(POLL);
        loop {
            tick.tick().await;
            match catch_panic(run_once(&state.db, &instance, now())).await {
                Ok(Ok(round)) if round != Round::default() => {
                    tracing::debug!(?round, "print queue");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "print queue round failed"),
                Err(panic) => tracing::error!(%panic, "print queue round panicked"),
            }
        }
    });
}

/// A queued job that was tried: its printer did not answer, and it waits to be tried again.
pub fn waits_for_printer(row: &JobRow) -> bool {
    row.state == JobState::Queued && row.attempts > 0
}
