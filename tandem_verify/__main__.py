"""python -m tandem_verify packet.zip [--public-key BASE64]

Exit status 0 when the packet verifies, 1 when it does not, 2 when it cannot be read."""

import argparse
import base64
import binascii
import sys

from .packet import PacketError, read_packet, verify


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tandem_verify",
        description="Verifies a Tandem evidence packet offline.",
    )
    parser.add_argument("packet", help="the evidence packet (ZIP) downloaded from Tandem")
    parser.add_argument(
        "--public-key",
        help="Tandem's Ed25519 public key (base64), as mailed with the daily checkpoints: the "
        "checkpoint must be signed with it",
    )
    arguments = parser.parse_args(argv)
    public_key = None
    if arguments.public_key:
        try:
            public_key = base64.b64decode(arguments.public_key, validate=True)
        except (ValueError, binascii.Error):
            parser.error("--public-key is not base64")
    try:
        packet = read_packet(arguments.packet)
    except PacketError as error:
        print(f"CANNOT READ: {error}", file=sys.stderr)
        return 2
    report = verify(packet, public_key=public_key)
    number = packet.get("request", {}).get("number", "?")
    for note in report.notes:
        print(f"  - {note}")
    if report.ok:
        print(f"VERIFIED: evidence packet of {number} is intact.")
        return 0
    for problem in report.problems:
        print(f"  ! {problem}")
    print(f"NOT VERIFIED: evidence packet of {number} fails {len(report.problems)} check(s).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
