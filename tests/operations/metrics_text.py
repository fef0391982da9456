from prometheus_client.parser import text_string_to_metric_families


def parse(text: str) -> dict:
    """{(sample name, ((label, value), ...)): value} of a Prometheus exposition."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]
