"""A small valid strategy document for the tests to start from and break one field at a time."""

from __future__ import annotations

from typing import Any

from fairdun.domain.delinquency import DEFAULT_BUCKETS

LATER = [b for b in DEFAULT_BUCKETS.names if b != "M1"]


def document() -> dict[str, Any]:
    """A fresh copy each call (tests mutate it): every bucket but M1 gets `calls`; M1 is split by band and tier,
    with a champion-challenger segment at M1/0-1000/high."""
    return {
        "strategy": {"name": "t", "version": "1", "title": "Test", "amount_bands": [0, 1000, 10000]},
        "treatments": {
            "calls": {
                "repeat_every_days": 7,
                "window": "09:00-12:00",
                "steps": [
                    {"day": 1, "channel": "sms", "template": "S1"},
                    {"day": 3, "channel": "call", "template": "C1", "count": 2, "window": "09:00-18:00"},
                ],
                "agent_queue": {"name": "agents", "from_day": 15},
            },
            "letters": {
                "steps": [{"day": 1, "channel": "letter", "template": "L1", "window": "09:00-17:00"}],
                "agency": {"id": "agency-1", "from_day": 30},
                "legal_review": {"from_day": 60},
            },
        },
        "segments": [
            {"buckets": list(LATER), "treatment": "calls"},
            {"buckets": ["M1"], "bands": ["1000-10000", "10000+"], "treatment": "letters"},
            {"buckets": ["M1"], "bands": ["0-1000"], "tiers": ["low", "medium"], "treatment": "calls"},
            {
                "buckets": ["M1"],
                "bands": ["0-1000"],
                "tiers": ["high"],
                "arms": [
                    {"name": "champion", "percent": 80, "treatment": "calls"},
                    {"name": "challenger", "percent": 20, "treatment": "letters"},
                ],
            },
        ],
    }
