"""Benchmarks (`make bench`): each module `bench_*.py` measures something and prints its
figures as ratios against a floor measured in the same run, on the PostgreSQL of DATABASE_URL."""
