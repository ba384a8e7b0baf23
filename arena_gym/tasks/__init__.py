"""Task files: models, loading, setup, and what a platform can run."""
