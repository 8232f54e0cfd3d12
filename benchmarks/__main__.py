"""``python -m benchmarks``: run the benchmarks and print the table."""

from benchmarks.run_all import main

main()
