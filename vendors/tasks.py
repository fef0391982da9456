from celery import shared_task

from . import notices


@shared_task
def certificate_expiry_notices() -> int:
    return notices.certificate_expiry_notices()
