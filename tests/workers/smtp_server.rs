//! A small SMTP server on a loopback port, started inside a test: it speaks
//! enough of RFC 5321 for a real client, records each message it accepts, and
//! can refuse the first deliveries with a temporary error, or hold each one
//! before accepting it until the test lets it go.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Notify, Semaphore},
};

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    refusals_left: Arc<AtomicUsize>,
    hold: Option<Arc<Hold>>,
}

struct Hold {
    arrived: Notify,
    released: Semaphore,
}

impl SmtpServer {
    /// Starts a server that answers `451` to the first `refusals` deliveries.
    pub async fn start(refusals: usize) -> Self {
        Self::listen(refusals, None).await
    }

    /// Starts a server that holds each message, once received, until
    /// `release`: a delivery under way for as long as the test wants.
    pub async fn start_holding() -> Self {
        let hold = Hold {
            arrived: Notify::new(),
            released: Semaphore::new(0),
        };
        Self::listen(0, Some(Arc::new(hold))).await
    }

    /// Waits until a held message has arrived.
    pub async fn message_arrived(&self) {
        self.hold
            .as_ref()
            .expect("a holding server")
            .arrived
            .notified()
            .await;
    }

    /// Accepts the held messages, and those to come.
    pub fn release(&self) {
        let hold = self.hold.as_ref().expect("a holding server");
        hold.released.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    async fn listen(refusals: usize, hold: Option<Arc<Hold>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server = Self {
            port: listener.local_addr().expect("address").port(),
            messages: Arc::default(),
            refusals_left: Arc::new(AtomicUsize::new(refusals)),
            hold,
        };
        let accepting = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().converse(stream));
            }
        });
        server
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }

    async fn converse(self, stream: TcpStream) {
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        let _ = writer.write_all(b"220 localhost ESMTP test\r\n").await;
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-localhost\r\n250 8BITMIME\r\n",
                "HELO" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                "MAIL" => {
                    let refused = self
                        .refusals_left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                            left.checked_sub(1)
                        })
                        .is_ok();
                    if refused {
                        b"451 4.3.0 Try again later\r\n"
                    } else {
                        b"250 OK\r\n"
                    }
                }
                "DATA" => {
                    let _ = writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await;
                    let mut message = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        message.push_str(&line);
                        message.push('\n');
                    }
                    if let Some(hold) = &self.hold {
                        hold.arrived.notify_one();
                        let _ = hold.released.acquire().await;
                    }
                    self.messages.lock().expect("lock").push(message);
                    b"250 OK queued\r\n"
                }
                "QUIT" => {
                    let _ = writer.write_all(b"221 Bye\r\n").await;
                    return;
                }
                _ => b"502 Command not implemented\r\n",
            };
            if writer.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}
