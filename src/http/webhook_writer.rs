//! The webhook door's writer: one task that stores the deliveries received meanwhile in one
//! transaction (group commit) and answers each handler once its delivery is durable.

use tokio::sync::{mpsc, oneshot};

use crate::store::{PendingWebhook, Store};

/// Deliveries stored per transaction at most; more wait for the next one.
const MAX_BATCH: usize = 256;
/// Deliveries waiting for the writer before handlers wait to hand theirs over.
const QUEUE: usize = 4096;

struct Pending {
    webhook: PendingWebhook,
    stored: oneshot::Sender<Result<bool, String>>,
}

#[derive(Debug, Clone)]
pub struct WebhookWriter {
    queue: mpsc::Sender<Pending>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the webhook writer has stopped")]
    Stopped,
    #[error("storing the delivery failed: {0}")]
    Store(String),
}

impl WebhookWriter {
    /// Starts the writer; it stops when the last handle is dropped.
    pub fn spawn(store: Store) -> WebhookWriter {
        let (queue, deliveries) = mpsc::channel(QUEUE);
        tokio::spawn(write(store, deliveries));
        WebhookWriter { queue }
    }

    /// Stores the delivery (and its job) durably; `false` when its id was seen before.
    pub async fn accept(&self, webhook: PendingWebhook) -> Result<bool, WriteError> {
        let (stored, answer) = oneshot::channel();
        self.queue
            .send(Pending { webhook, stored })
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer
            .await
            .map_err(|_| WriteError::Stopped)?
            .map_err(WriteError::Store)
    }
}

async fn write(store: Store, mut deliveries: mpsc::Receiver<Pending>) {
    while let Some(first) = deliveries.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match deliveries.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (webhooks, answers): (Vec<PendingWebhook>, Vec<_>) =
            batch.into_iter().map(|p| (p.webhook, p.stored)).unzip();
        match store.accept_webhooks(&webhooks).await {
            Ok(accepted) => {
                for (answer, accepted) in answers.into_iter().zip(accepted) {
                    let _ = answer.send(Ok(accepted));
                }
            }
            Err(error) => {
                tracing::warn!(%error, deliveries = webhooks.len(), "storing webhooks failed");
                let message = error.to_string();
                for answer in answers {
                    let _ = answer.send(Err(message.clone()));
                }
            }
        }
    }
}
