"""Multilingual assistant for foreigners in Shenzhen: retrieval over the 2025 plan, guides and FAQ cards."""

__version__ = "0.1.0"
