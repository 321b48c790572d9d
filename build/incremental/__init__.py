"""What lets a build skip work: the no-op stamp and the per-post caches."""
