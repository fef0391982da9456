"""Importing 5,000 vendors, each with a contract, from one CSV file (`python -m bench import`),
in the PostgreSQL of DATABASE_URL: the dry run, then the import itself (the plan made again in
its transaction, bulk writes, one audit event per record in one INSERT). Target: the import
under 60 seconds. The rows it adds are removed afterwards (their audit events stay, as all do)."""

import time

from bench import seed as dataset  # noqa: F401 - sets DJANGO_SETTINGS_MODULE=bench.settings

TARGET_SECONDS = 60
VENDORS = 5_000
OWNER = "import-bench-owner"


def _file(stamp: str) -> bytes:
    lines = [
        "vendor,website,country,contract,owner,starts_on,ends_on,notice_days,seats,annual_value"
    ]
    lines += [
        f"Import Bench {stamp} {n},https://v{n}.example,DE,Subscription {n},{OWNER},"
        f"2025-01-01,2026-12-31,{30 + n % 60},{n % 500 or ''},{1000 + n}.50"
        for n in range(VENDORS)
    ]
    return "\n".join(lines).encode()


def run() -> None:
    from accounts.models import User
    from vendors.imports import import_file
    from vendors.models import Contract, Vendor

    owner, _ = User.objects.get_or_create(username=OWNER, defaults={"is_staff": True})
    stamp = str(int(time.time()))
    content = _file(stamp)
    started = time.monotonic()
    report = import_file("bench.csv", content, by=owner, dry_run=True)
    checked = time.monotonic() - started
    assert not report.refused, report.refused[:3]
    started = time.monotonic()
    report = import_file("bench.csv", content, by=owner, dry_run=False)
    seconds = time.monotonic() - started
    assert report.applied and report.vendors_created == VENDORS, report.summary()
    verdict = "PASS" if seconds < TARGET_SECONDS else "MISS"
    print(f"dry run of {VENDORS:,} vendors with contracts: {checked:.1f} s")
    print(f"import of {VENDORS:,} vendors with contracts: {seconds:.1f} s "
          f"(target under {TARGET_SECONDS} s) {verdict}")  # fmt: skip
    Contract.objects.filter(vendor__name__startswith=f"Import Bench {stamp} ").delete()
    Vendor.objects.filter(name__startswith=f"Import Bench {stamp} ").delete()
