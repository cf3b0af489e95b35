"""Webhooks: a consumer's receiver gets the change feed pushed, one signed event per POST, at least once and in
order per entity, retried with backoff and dead-lettered after its budget (hub.webhooks.worker); receivers
verify signatures with hub.webhooks.signing, which needs only the standard library."""

from hub.webhooks.registry import (
    DEAD,
    DELIVERED,
    PENDING,
    DeadLetter,
    NewWebhook,
    WebhookError,
    WebhookRow,
    add_webhook,
    check_url,
    dead_letters,
    list_webhooks,
    remove_webhook,
    replay,
)
from hub.webhooks.service import DeliveryProcess, running_delivery_worker
from hub.webhooks.signing import SignatureError, signature, signed_headers, verify_signature
from hub.webhooks.worker import Budget, PassResult, Worker, deliver_once, run, run_until_signalled

__all__ = ["DEAD", "DELIVERED", "PENDING", "Budget", "DeadLetter", "DeliveryProcess", "NewWebhook", "PassResult",
           "SignatureError", "WebhookError", "WebhookRow", "Worker", "add_webhook", "check_url", "dead_letters",
           "deliver_once", "list_webhooks", "remove_webhook", "replay", "run", "run_until_signalled",
           "running_delivery_worker", "signature", "signed_headers", "verify_signature"]
