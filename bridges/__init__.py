"""Bridges from a VM host into a container's network namespace, and SSH tunnels (stdlib + paramiko only)."""
