"""`python -m benchmarks`: run every benchmark of the project, one after the other."""

import runpy
import sys

BENCHMARKS = ["benchmarks.api_bench", "benchmarks.dataset_jobs_bench", "benchmarks.training.bench_training",
              "benchmarks.sinks.bench_dispatch"]

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"== {name}", flush=True)
        runpy.run_module(name, run_name="__main__")
