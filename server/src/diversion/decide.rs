//! An HQ auditor confirms or dismisses an alert with a note. Confirming may suspend the agent
//! that let the item out (the network's suspension use case) and may book a penalty in the
//! ledger (a balanced posting under the key `diversion:{alert}:penalty`, booked once).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::domain::diversion::alert::AlertAction;
use crate::domain::diversion::alert::{AlertStatus, Decision};
use crate::domain::network::{Account, HqAccount, Posting};
use crate::error::{Error, Result};
use crate::store::diversion_alerts::{self as alerts, AlertRow, Decided};
use crate::store::in_transaction;
use crate::store::network::agent_id;
use crate::store::network::ledger::{self as ledger, Booked, Meta};
use crate::store::{DbConnection, audit};

/// What the auditor sent.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    /// `confirm` or `dismiss`.
    pub decision: String,
    pub note: String,
    /// Confirming only: suspend the agent that let the item out.
    pub suspend_agent: bool,
    /// Confirming only: a penalty in yuan, whole cents (`"500.00"`).
    pub penalty: Option<String>,
}

/// The penalty's idempotency key.
pub fn penalty_key(alert: i64) -> String {
    format!("diversion:{alert}:penalty")
}

/// The penalty as a posting: from the agent's available wallet to HQ. HQ has no penalty income
/// account yet; penalties are booked against `rebate_expense`, the account that carries what
/// HQ pays the network, so they reduce its net cost of incentives.
pub fn penalty_posting(alert: i64, agent: i64, amount: Decimal) -> Result<Posting> {
    if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
        return Err(Error::BadRequest(
            "penalty must be a positive amount in whole cents (e.g. 500.00)".into(),
        ));
    }
    Posting::transfers(
        penalty_key(alert),
        [(
            Account::available(agent_id(agent)),
            Account::Hq(HqAccount::RebateExpense),
            amount,
        )],
    )
    .ok_or_else(|| Error::Internal("penalty posting refused".into()))
}

/// Books the penalty; a second call with the same alert and amount books nothing.
pub fn book_penalty(
    conn: &mut DbConnection,
    alert: i64,
    agent: i64,
    amount: Decimal,
) -> Result<Booked> {
    let posting = penalty_posting(alert, agent, amount)?;
    Ok(ledger::book(
        conn,
        &posting,
        Meta {
            kind: crate::domain::network::PostingKind::DiversionPenalty,
            ..Meta::default()
        },
    )?)
}

fn parse_penalty(raw: Option<&str>) -> Result<Option<Decimal>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<Decimal>().map(Some).map_err(|_| {
            Error::BadRequest(format!("penalty {s:?} is not an amount (e.g. 500.00)"))
        }),
    }
}

/// Decides an open alert, all or nothing.
pub fn decide(
    conn: &mut DbConnection,
    id: i64,
    input: &DecisionInput,
    by: i64,
) -> Result<AlertRow> {
    let decision = Decision::parse(input.decision.trim()).ok_or_else(|| {
        Error::BadRequest(format!(
            "decision {:?}: use confirm or dismiss",
            input.decision
        ))
    })?;
    let note = input.note.trim();
    if note.is_empty() || note.chars().count() > 500 || note.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "note must be 1 to 500 printable characters".into(),
        ));
    }
    let penalty = parse_penalty(input.penalty.as_deref())?;
    if decision == Decision::Dismiss && (input.suspend_agent || penalty.is_some()) {
        return Err(Error::BadRequest(
            "a dismissed alert neither suspends nor penalises".into(),
        ));
    }
    in_transaction(conn, |conn| {
        let alert = alerts::get(conn, id)?.ok_or(Error::not_found("alert"))?;
        if alert.status != AlertStatus::Open {
            return Err(Error::refuse(
                "alert_already_decided",
                format!("alert {id} is already {}", alert.status),
            ));
        }
        let needs_agent = input.suspend_agent || penalty.is_some();
        let agent = match (needs_agent, alert.agent_id) {
            (true, None) => {
                return Err(Error::BadRequest(format!(
                    "alert {id} names no agent to suspend or penalise"
                )));
            }
            (_, a) => a,
        };
        let mut suspended = false;
        if let (true, Some(a)) = (input.suspend_agent, agent) {
            crate::network::agents::suspend(
                conn,
                a,
                &format!("diversion alert {id}: {note}"),
                Some(by),
            )?;
            suspended = true;
        }
        let mut penalty_cents = None;
        if let (Some(amount), Some(a)) = (penalty, agent) {
            book_penalty(conn, id, a, amount)?;
            penalty_cents = Some(
                (amount * Decimal::from(100))
                    .to_i64()
                    .ok_or_else(|| Error::BadRequest("penalty is too large".into()))?,
            );
        }
        let action = AlertAction::of(suspended, penalty_cents.is_some());
        let decided = Decided {
            status: decision.status(),
            note,
            action,
            penalty_cents,
            by,
        };
        if !alerts::decide(conn, id, &decided)? {
            return Err(Error::refuse(
                "changed_meanwhile",
                format!("alert {id} was decided meanwhile"),
            ));
        }
        audit::record(
            conn,
            Some(by),
            &format!("diversion.{}", decision.status()),
            &format!("alert:{id}"),
            &serde_json::json!({ "note": note, "action": action.map(AlertAction::as_str),
                "penalty_cents": penalty_cents }),
        )?;
        alerts::get(conn, id)?.ok_or(Error::not_found("alert"))
    })
}
