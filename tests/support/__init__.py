from django.db import transaction


def rolled_back_atomic():
    """An atomic block for data a test builds once and rolls back (e.g. a module's fixture),
    marked as Django's TestCase marks its own: the services' durable transactions (the
    outermost of a user action) may then run inside it, as they do inside every test."""
    atomic = transaction.atomic()
    atomic._from_testcase = True
    return atomic
