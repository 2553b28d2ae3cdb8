"""Field-level envelope encryption of personal data (AES-256-GCM through ``cryptography``) and keyed blind
indexes for exact-match lookup. See ``docs/privacy.md``.

- :class:`Keyring` holds the master key(s), wraps and unwraps per-borrower data keys, seals and opens fields, and
  computes blind indexes;
- :func:`keyring_from_settings` builds one from ``FAIRDUN_MASTER_KEY`` / ``FAIRDUN_MASTER_KEY_FILE`` (and
  ``FAIRDUN_NEW_MASTER_KEY`` during a rotation); :class:`KeyringError` names the setting that is wrong.
"""

from fairdun.adapters.crypto.keyring import (
    Keyring,
    KeyringError,
    MasterKey,
    generate_master_key,
    keyring_from_settings,
)

__all__ = ["Keyring", "KeyringError", "MasterKey", "generate_master_key", "keyring_from_settings"]
