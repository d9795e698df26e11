"""The study: experiment files, sweeps (local, Ray), run-folder names and the analysis of their records."""
