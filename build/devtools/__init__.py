"""Developer tools a build never imports: benchmarks, GPU check, page weights."""
