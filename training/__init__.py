"""Reference trainers on arena-gym environments."""
