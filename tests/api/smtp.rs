//! A small SMTP server inside the test process: it speaks the protocol to
//! authql's real SMTP client (lettre), keeps every message it accepts, and
//! can refuse mail, stall, or go away and come back on the same port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How the sink answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Accept,
    /// `451` to every `MAIL FROM`: a transient refusal.
    Refuse,
    /// Accepts connections and never says a word.
    Stall,
}

/// A mail the sink accepted, parsed.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope's recipients (`RCPT TO`).
    pub rcpt: Vec<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

impl Received {
    /// The token of the link in the mail: 43 base64url characters after
    /// `token=`, the same in the text and the HTML part.
    pub fn token(&self) -> String {
        let from_text = token_in(&self.text).expect("the text part has a link with a token");
        let from_html = token_in(&self.html).expect("the HTML part has a link with a token");
        assert_eq!(from_text, from_html, "both parts link to the same token");
        from_text
    }
}

fn token_in(body: &str) -> Option<String> {
    let start = body.find("token=")? + "token=".len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (token.len() == 43).then_some(token)
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    behaviour: Mutex<Option<Behaviour>>,
    connections: Mutex<usize>,
    arrived: Notify,
}

/// The sink; it stops listening when dropped.
pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl SmtpSink {
    /// A sink on a free port that accepts every mail.
    pub async fn start() -> Self {
        Self::start_on(0, Behaviour::Accept).await
    }

    /// A sink on `port` (0: a free one).
    pub async fn start_on(port: u16, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the SMTP sink listens");
        let port = listener.local_addr().expect("bound").port();
        let shared = Arc::new(Shared::default());
        *shared.behaviour.lock().unwrap() = Some(behaviour);
        let task = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Self {
            port,
            shared,
            task: Some(task),
        }
    }

    /// The URL authql sends through: plain SMTP on loopback.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn behave(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = Some(behaviour);
    }

    /// Stops listening and drops every open conversation; the port is free
    /// for [`SmtpSink::start_on`] again.
    pub fn stop(mut self) -> u16 {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.port
    }

    /// Every mail accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// How many SMTP connections were opened to the sink.
    pub fn connections(&self) -> usize {
        *self.shared.connections.lock().unwrap()
    }

    /// Waits (at most 15 s) for a mail to `to` whose subject contains
    /// `subject`, and returns it.
    pub async fn mail_to(&self, to: &str, subject: &str) -> Received {
        let found = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                let arrived = self.shared.arrived.notified();
                if let Some(mail) = self
                    .received()
                    .into_iter()
                    .find(|m| m.to.contains(to) && m.subject.contains(subject))
                {
                    return mail;
                }
                arrived.await;
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "no mail to {to} about {subject:?} within 15 s; received: {:?}",
                self.received()
                    .iter()
                    .map(|m| (&m.to, &m.subject))
                    .collect::<Vec<_>>()
            )
        })
    }

    /// Mails to `to` whose subject contains `subject`, after waiting
    /// `settle` for any that might still come.
    pub async fn count_after(&self, settle: Duration, to: &str, subject: &str) -> usize {
        tokio::time::sleep(settle).await;
        self.received()
            .iter()
            .filter(|m| m.to.contains(to) && m.subject.contains(subject))
            .count()
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut conversations = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        *shared.connections.lock().unwrap() += 1;
        conversations.spawn(converse(stream, Arc::clone(&shared)));
    }
}

async fn converse(stream: TcpStream, shared: Arc<Shared>) {
    let behaviour = || {
        shared
            .behaviour
            .lock()
            .unwrap()
            .unwrap_or(Behaviour::Accept)
    };
    if behaviour() == Behaviour::Stall {
        let _held = stream;
        return std::future::pending::<()>().await;
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut say = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !say("220 sink.test ESMTP ready\r\n").await {
        return;
    }
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply = if command.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command.starts_with("HELO") {
            "250 sink.test\r\n"
        } else if command.starts_with("MAIL FROM") {
            rcpt.clear();
            if behaviour() == Behaviour::Refuse {
                "451 4.3.0 try again later\r\n"
            } else {
                "250 2.1.0 ok\r\n"
            }
        } else if command.starts_with("RCPT TO") {
            rcpt.push(line.trim_end()[8..].trim().to_owned());
            "250 2.1.5 ok\r\n"
        } else if command == "DATA" {
            if !say("354 end with <CRLF>.<CRLF>\r\n").await {
                return;
            }
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                match lines.read_until(b'\n', &mut raw).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if raw == b".\r\n" || raw == b".\n" {
                    break;
                }
                // Dot-stuffing: a leading "." was doubled by the client.
                let raw = if raw.starts_with(b"..") {
                    &raw[1..]
                } else {
                    &raw[..]
                };
                data.extend_from_slice(raw);
            }
            shared
                .received
                .lock()
                .unwrap()
                .push(parse(std::mem::take(&mut rcpt), &data));
            shared.arrived.notify_waiters();
            "250 2.0.0 queued\r\n"
        } else if command == "QUIT" {
            let _ = say("221 2.0.0 bye\r\n").await;
            return;
        } else if command == "RSET" || command == "NOOP" {
            "250 2.0.0 ok\r\n"
        } else {
            "502 5.5.2 command not recognized\r\n"
        };
        if !say(reply).await {
            return;
        }
    }
}

fn parse(rcpt: Vec<String>, data: &[u8]) -> Received {
    let message = mail_parser::MessageParser::default()
        .parse(data)
        .expect("the sink received a MIME message");
    Received {
        rcpt,
        to: message
            .to()
            .and_then(|to| to.first())
            .and_then(|to| to.address())
            .unwrap_or_default()
            .to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        message_id: message.message_id().unwrap_or_default().to_owned(),
    }
}
