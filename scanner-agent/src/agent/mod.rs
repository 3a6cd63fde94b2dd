//! The I/O loop around the pure [`Session`]: scanned lines, broker events and a clock tick go in;
//! the session's actions are carried out against the journal, the MQTT client and the display.
//!
//! Scans arriving together share one fsync (group commit): each is written to the journal, and
//! whatever the session wants done about it (publish, show "queued") waits until the batch's
//! fsync has returned. So nothing is published or shown as taken before it is durable.

mod backoff;
pub mod mqtt;
pub mod provisioning;

use std::path::Path;
use std::time::{Duration, Instant};

use firmware_config::Config;
use rumqttc::{AsyncClient, QoS};

use crate::display::{Display, View};
use crate::error::Error;
use crate::input::Lines;
use crate::journal::Journal;
use crate::note::Note;
use crate::session::{Action, Input, Outcome, Session, Settings};
use crate::wire::ScanEvent;
use mqtt::{Net, Topics};

/// Scans in flight (published, not yet answered) per device.
pub const WINDOW: usize = 256;
/// An unanswered scan is published again after this long on the same connection.
pub const RESEND_AFTER_MS: u64 = 10_000;
/// Lines taken into one group commit at most.
const BATCH: usize = 256;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The input ended and the session finished (see [`Outcome`]).
    Finished(Outcome),
    /// Stopped by SIGTERM or Ctrl-C; pending scans stay in the journal for the next start.
    Interrupted,
}

/// The broker password (also the device's MAC secret), from the config or its file.
pub fn password(config: &Config) -> Result<String, Error> {
    if let Some(p) = &config.credentials.password {
        return Ok(p.clone());
    }
    let path = config
        .credentials
        .password_file
        .as_deref()
        .unwrap_or(Path::new(""));
    let text = std::fs::read_to_string(path).map_err(|source| Error::Secret {
        path: path.to_owned(),
        source,
    })?;
    // Editors add a final newline; a secret never ends in one.
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Opens the journal (creating its folder) and runs the device until the input ends and every
/// scan is answered, or until interrupted. An input that stops for good ([`Error::InputDied`])
/// ends the run with that error, after the goodbye to the broker; its scans stay journaled.
pub async fn run(config: &Config, mut lines: Lines, display: &mut Display) -> Result<End, Error> {
    let secret = password(config)?;
    if let Some(dir) = config
        .journal
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let journal = Journal::open(&config.journal.path, config.journal.max_bytes)?;
    let settings = Settings {
        device_id: config.device.id.clone(),
        secret: secret.as_bytes().to_vec(),
        window: WINDOW,
        resend_after_ms: RESEND_AFTER_MS,
        debounce_ms: config.debounce_ms,
    };
    let session = Session::new(settings, journal.pending_seqs(), journal.next_seq());
    let (client, mut net, task) = mqtt::spawn(mqtt::options(config, &secret, WINDOW)?, WINDOW);
    let mut agent = Agent {
        topics: Topics::new(&config.broker.topic_prefix, &config.device.id),
        device_id: config.device.id.clone(),
        secret: secret.into_bytes(),
        journal,
        session,
        client,
        display,
        started: Instant::now(),
    };
    agent.display.show(&Note::Ready {
        device_id: agent.device_id.clone(),
        pending: agent.journal.pending_len(),
        next_seq: agent.journal.next_seq(),
    });
    let (cut, skipped) = (
        agent.journal.recovered_bytes(),
        agent.journal.skipped_bytes(),
    );
    if cut > 0 || skipped > 0 {
        agent.display.show(&Note::JournalRepaired { cut, skipped });
    }
    agent.flush();

    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io(Path::new("SIGTERM"), e))?;
    let mut input_open = true;
    let end = loop {
        tokio::select! {
            event = net.recv() => match event {
                Some(Net::Connected) => agent.step(Input::Connected)?,
                Some(Net::Disconnected(reason)) => {
                    tracing::warn!(%reason, "no broker connection; retrying with backoff");
                    agent.step(Input::Disconnected { reason })?;
                }
                Some(Net::Message { topic, payload }) if topic == agent.topics.acks => {
                    agent.step(Input::AckMessage(payload))?;
                }
                Some(Net::Message { topic, .. }) => tracing::debug!(%topic, "message on a foreign topic"),
                None => return Err(Error::Mqtt("the event loop stopped".to_owned())),
            },
            line = lines.recv(), if input_open => match line {
                Ok(Some(first)) => {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match lines.try_recv() {
                            Some(line) => batch.push(line),
                            None => break,
                        }
                    }
                    agent.lines(batch)?;
                }
                Ok(None) => {
                    input_open = false;
                    agent.step(Input::InputClosed)?;
                }
                // Not a finished input: waiting for the answers and exiting 0 would look like a
                // clean end of shift while the station has stopped reading.
                Err(died) => break Err(died),
            },
            _ = tick.tick() => agent.step(Input::Tick)?,
            _ = tokio::signal::ctrl_c() => break Ok(End::Interrupted),
            _ = terminate.recv() => break Ok(End::Interrupted),
        }
        if let Some(outcome) = agent.session.outcome() {
            agent.display.show(&Note::Done {
                outcome,
                counts: agent.session.counts(),
            });
            agent.flush();
            break Ok(End::Finished(outcome));
        }
    };
    // Say goodbye: the retained state goes to `offline` now rather than when the broker notices.
    let online = agent.session.is_online();
    let _ = agent
        .client
        .try_publish(&agent.topics.state, QoS::AtLeastOnce, true, mqtt::OFFLINE);
    let _ = agent.client.try_disconnect();
    if online {
        let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
    } else {
        task.abort();
    }
    end
}

struct Agent<'a> {
    topics: Topics,
    device_id: String,
    secret: Vec<u8>,
    journal: Journal,
    session: Session,
    client: AsyncClient,
    display: &'a mut Display,
    started: Instant,
}

impl Agent<'_> {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One input, its actions carried out.
    fn step(&mut self, input: Input) -> Result<(), Error> {
        let mut out = Vec::new();
        self.session.handle(self.now_ms(), input, &mut out);
        let mut after_sync = Vec::new();
        self.execute(out, &mut after_sync)?;
        // A single input may append (a line); its publishes wait for the fsync like a batch's.
        self.commit(after_sync)
    }

    /// A batch of scanned lines, sharing one fsync.
    fn lines(&mut self, batch: Vec<String>) -> Result<(), Error> {
        let mut after_sync = Vec::new();
        for text in batch {
            let scanned_at =
                chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
            let mut out = Vec::new();
            self.session
                .handle(self.now_ms(), Input::Line { text, scanned_at }, &mut out);
            self.execute(out, &mut after_sync)?;
        }
        self.commit(after_sync)
    }

    /// fsyncs the journal if anything was written, then does what had to wait for it.
    fn commit(&mut self, after_sync: Vec<Action>) -> Result<(), Error> {
        if after_sync.is_empty() {
            self.flush();
            return Ok(());
        }
        // On failure the records' fate is unknown: stop, and let the next start's recovery keep
        // what reached the disk. Nothing of this batch was published or shown as taken.
        self.journal.sync()?;
        let mut ignored = Vec::new();
        self.execute(after_sync, &mut ignored)?;
        self.flush();
        Ok(())
    }

    /// Carries out `actions`. Once something was written to the journal in this batch, the
    /// rest waits in `after_sync` so that output keeps its order.
    fn execute(&mut self, actions: Vec<Action>, after_sync: &mut Vec<Action>) -> Result<(), Error> {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            if !after_sync.is_empty() && !matches!(action, Action::Append(_)) {
                after_sync.push(action);
                continue;
            }
            match action {
                Action::Append(scan) => {
                    let (device, secret) = (&self.device_id, &self.secret);
                    let input = match self
                        .journal
                        .write(|seq| ScanEvent::signed(device, seq, &scan, secret))
                    {
                        Ok(seq) => Input::Journaled {
                            seq,
                            kind: scan.kind,
                            code: scan.code,
                        },
                        Err(Error::JournalFull { .. }) => Input::AppendFailed {
                            code: scan.code,
                            full: true,
                        },
                        Err(e) => {
                            tracing::error!(error = %e, "journal write failed");
                            Input::AppendFailed {
                                code: scan.code,
                                full: false,
                            }
                        }
                    };
                    let written = matches!(input, Input::Journaled { .. });
                    let mut out = Vec::new();
                    self.session.handle(self.now_ms(), input, &mut out);
                    if written {
                        after_sync.extend(out);
                    } else {
                        queue.extend(out);
                    }
                }
                Action::Subscribe => {
                    if let Err(e) = self
                        .client
                        .try_subscribe(&self.topics.acks, QoS::AtLeastOnce)
                    {
                        tracing::warn!(error = %e, "cannot queue the acks subscription");
                    }
                }
                Action::AnnounceOnline => {
                    let _ = self.client.try_publish(
                        &self.topics.state,
                        QoS::AtLeastOnce,
                        true,
                        mqtt::ONLINE,
                    );
                }
                Action::Publish(seq) => self.publish(seq)?,
                Action::Finish { seq, result, order } => {
                    let code = self.journal.read(seq).ok().flatten().map(|e| e.code);
                    if let Err(e) = self.journal.ack(seq) {
                        // Only the ack record is missing: after a restart the scan is resent and
                        // answered `duplicate`.
                        tracing::error!(seq, error = %e, "journal ack failed");
                    }
                    self.display.show(&Note::Answer {
                        seq,
                        result,
                        code,
                        order,
                    });
                }
                Action::Show(note) => self.display.show(&note),
            }
        }
        Ok(())
    }

    fn publish(&mut self, seq: u64) -> Result<(), Error> {
        let event = match self.journal.read(seq) {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::error!(seq, error = %e, "cannot read a pending scan back from the journal");
                return Err(e);
            }
        };
        if let Err(e) =
            self.client
                .try_publish(&self.topics.scans, QoS::AtLeastOnce, false, event.to_json())
        {
            tracing::warn!(seq, error = %e, "publish not queued; will retry");
            let mut out = Vec::new();
            self.session
                .handle(self.now_ms(), Input::PublishFailed { seq }, &mut out);
        }
        Ok(())
    }

    fn flush(&mut self) {
        self.display.flush(&View {
            device_id: self.device_id.clone(),
            online: self.session.is_online(),
            mode: self.session.mode().clone(),
            counts: self.session.counts(),
        });
    }
}
