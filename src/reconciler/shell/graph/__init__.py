"""Talking to Microsoft Graph: the client (paging, `$batch`, retries) and the credential chain."""

from __future__ import annotations

from reconciler.shell.graph.batch import BatchResult
from reconciler.shell.graph.client import GraphClient, connect
from reconciler.shell.graph.errors import AuthError, GraphError
from reconciler.shell.graph.retry import RetryPolicy

__all__ = ["AuthError", "BatchResult", "GraphClient", "GraphError", "RetryPolicy", "connect"]
