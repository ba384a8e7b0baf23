"""Small desktop apps for local tasks that real apps do not offer (e.g. click targets to learn from pixels)."""
