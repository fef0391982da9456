"""gunicorn's configuration (read from the working directory): production's JSON log for
gunicorn's own lines too, and Prometheus' multiprocess mode when PROMETHEUS_MULTIPROC_DIR is
set (docker-compose.yml's web): each worker writes its django-prometheus counters there and
/metrics adds up every worker's, so a scrape does not depend on which worker answers."""

import logging
import os
import shutil

if os.environ.get("DJANGO_SETTINGS_MODULE") == "settings.production":
    from settings.logging import json_logging

    logconfig_dict = json_logging(os.environ.get("LOG_LEVEL", "INFO"))
    logging.captureWarnings(True)
    # Our request line (core.middleware) is the access log: it has the request id and the
    # user's id and no address.
    accesslog = None


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Counters of an earlier run would be added to this one's.
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
