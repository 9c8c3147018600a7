"""xtap: cross-tenant access policy as code for Microsoft Entra."""

__version__ = "0.1.0"
