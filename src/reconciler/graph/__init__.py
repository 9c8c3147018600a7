"""Talking to Microsoft Graph: the client (paging, `$batch`, retries) and the credential chain."""

from __future__ import annotations

from reconciler.graph.batch import BatchResult
from reconciler.graph.client import GraphClient, connect
from reconciler.graph.errors import AuthError, GraphError
from reconciler.graph.retry import RetryPolicy

__all__ = ["AuthError", "BatchResult", "GraphClient", "GraphError", "RetryPolicy", "connect"]
