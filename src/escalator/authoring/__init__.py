"""What policy authors run: policy tests and coverage, static checks, property
checks, hypothesis strategies, the pytest plugin, and impact analysis."""
