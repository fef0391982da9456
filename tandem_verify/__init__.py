"""Offline verifier of Tandem's evidence packets: `python -m tandem_verify packet.zip`.

Standard library plus `cryptography` only; it never imports Django or any part of Tandem, so an
auditor runs it on their own machine without access to Tandem."""

__version__ = "2"
