"""fairdun: compliance-first loan collections.

Every contact passes the contact gate (`fairdun.policy.evaluate`), which enforces consent, contact hours,
frequency caps, allowed recipients and message content, and explains each decision with citations.
"""

__version__ = "0.1.0"
