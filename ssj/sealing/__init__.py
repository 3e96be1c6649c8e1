"""Sealing: what links a task to its targets is stored only encrypted (SPEC §4, Art 12)."""
